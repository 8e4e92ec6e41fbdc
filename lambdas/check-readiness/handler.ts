import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientOptions, perRegion } from '../shared/clients';
import { optionalEnv, optionalIntEnv } from '../shared/config';
import type { ReadinessEvent, ReadinessState } from '../../lib/domain/contract';
import { checkReadiness, DEFAULT_DEADLINE_SECONDS } from './core';

const deadlineSeconds = optionalIntEnv('READINESS_DEADLINE_SECONDS', DEFAULT_DEADLINE_SECONDS, 1, 'seconds');
/** Where a secret ARN without a region is looked up: the function's own region. */
const ownRegion = optionalEnv('AWS_REGION', 'us-east-1');

// Route 53 is global: the SDK sends any region of a partition to that partition's endpoint
// (us-east-1's in aws, cn-northwest-1's in aws-cn), so the function's own region is right everywhere.
const route53 = new Route53Client(clientOptions());

const secretsIn = perRegion((region) => new SecretsManagerClient(clientOptions(region)));
const autoScalingIn = perRegion((region) => new AutoScalingClient(clientOptions(region)));

/** The secret's own region (from its ARN): a client of another region cannot read it. */
function secretsFor(secretArn: string): SecretsManagerClient {
  const region = secretArn.split(':')[3];
  return secretsIn(region === undefined || region === '' ? ownRegion : region);
}

/** `CheckReadiness`: `{ fabric, prepared, cluster, readiness }` -> the next `ReadinessState`. */
export async function handler(event: ReadinessEvent): Promise<ReadinessState> {
  // The cluster's groups live in the fabric's region.
  const autoScaling = autoScalingIn(event.fabric.region);
  return checkReadiness(event, { autoScaling, route53, secrets: secretsFor(event.cluster.kubeconfigSecretArn) }, { deadlineSeconds });
}
