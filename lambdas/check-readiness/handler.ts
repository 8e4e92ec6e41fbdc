import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientOptions } from '../shared/clients';
import { optionalEnv } from '../shared/config';
import type { ReadinessEvent, ReadinessState } from '../shared/contract';
import { ConfigurationInvalid } from '../shared/errors';
import { checkReadiness, DEFAULT_DEADLINE_SECONDS } from './core';

const deadlineText = optionalEnv('READINESS_DEADLINE_SECONDS', String(DEFAULT_DEADLINE_SECONDS));
const deadlineSeconds = Number(deadlineText);
if (!Number.isInteger(deadlineSeconds) || deadlineSeconds <= 0) {
  throw new ConfigurationInvalid('READINESS_DEADLINE_SECONDS', deadlineText, 'a positive whole number of seconds, e.g. 1200');
}

// Route 53 is global; its API lives in us-east-1 whatever the fabric's region.
const route53 = new Route53Client(clientOptions('us-east-1'));

/** The secret's own region (from its ARN): a client of another region cannot read it. */
function secretsFor(secretArn: string): SecretsManagerClient {
  const region = secretArn.split(':')[3];
  return new SecretsManagerClient(clientOptions(region === undefined || region === '' ? undefined : region));
}

/** `CheckReadiness`: `{ fabric, prepared, cluster, readiness }` -> the next `ReadinessState`. */
export async function handler(event: ReadinessEvent): Promise<ReadinessState> {
  // The cluster's groups live in the fabric's region.
  const autoScaling = new AutoScalingClient(clientOptions(event.fabric.region));
  return checkReadiness(event, { autoScaling, route53, secrets: secretsFor(event.cluster.kubeconfigSecretArn) }, { deadlineSeconds });
}
