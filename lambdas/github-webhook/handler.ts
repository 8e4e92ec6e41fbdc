import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { clientOptions } from '../shared/clients';
import { optionalEnv, optionalIntEnv, requiredEnv } from '../shared/config';
import { FunctionUrlEvent, HttpResponse, MAX_BODY_BYTES, receive } from './core';

/**
 * Lambda function URL receiving GitHub push webhooks (auth type NONE: the HMAC signature is the
 * authentication). Environment:
 * - WEBHOOK_SECRET_ARN: Secrets Manager secret holding the webhook secret (SecretString).
 * - STATE_MACHINE_ARN: the provisioning state machine.
 * - DELIVERY_TABLE_NAME: DynamoDB table of the delivery ids already handled (replay protection).
 * - GITHUB_TOKEN_SECRET_ARN (optional): secret holding a token that can read the repository's contents.
 * - GITHUB_API_URL (optional, default https://api.github.com; GitHub Enterprise: https://HOST/api/v3).
 * - EVENT_BUS_NAME (optional, default `default`): where `Fabric Branch Deleted` is put.
 * - MAX_BODY_BYTES (optional): larger deliveries are refused with 413.
 */
const WEBHOOK_SECRET_ARN = requiredEnv('WEBHOOK_SECRET_ARN');
const STATE_MACHINE_ARN = requiredEnv('STATE_MACHINE_ARN');
const DELIVERY_TABLE_NAME = requiredEnv('DELIVERY_TABLE_NAME');
const GITHUB_TOKEN_SECRET_ARN = optionalEnv('GITHUB_TOKEN_SECRET_ARN', '');
const GITHUB_API_URL = optionalEnv('GITHUB_API_URL', 'https://api.github.com');
const EVENT_BUS_NAME = optionalEnv('EVENT_BUS_NAME', 'default');
const MAX_BODY = optionalIntEnv('MAX_BODY_BYTES', MAX_BODY_BYTES, 1, 'bytes');

const secrets = new SecretsManagerClient(clientOptions());
const sfn = new SFNClient(clientOptions());
const events = new EventBridgeClient(clientOptions());
const dynamodb = new DynamoDBClient(clientOptions());

// Secrets are read once per container: each delivery would otherwise cost a Secrets Manager call.
const cache = new Map<string, Promise<string>>();
function secret(arn: string): Promise<string> {
  let value = cache.get(arn);
  if (value === undefined) {
    value = secrets.send(new GetSecretValueCommand({ SecretId: arn })).then((r) => {
      if (!r.SecretString) throw new Error(`secret ${arn} has no SecretString: store the value as text`);
      return r.SecretString.trim();
    });
    // A failed read must not be cached, or the container would refuse every delivery until recycled.
    value.catch(() => cache.delete(arn));
    cache.set(arn, value);
  }
  return value;
}

export async function handler(event: FunctionUrlEvent): Promise<HttpResponse> {
  return receive(event, {
    webhookSecret: () => secret(WEBHOOK_SECRET_ARN),
    githubToken: async () => (GITHUB_TOKEN_SECRET_ARN ? secret(GITHUB_TOKEN_SECRET_ARN) : undefined),
    sfn,
    events,
    deliveries: { dynamodb, table: DELIVERY_TABLE_NAME },
    stateMachineArn: STATE_MACHINE_ARN,
    eventBusName: EVENT_BUS_NAME,
    githubApiUrl: GITHUB_API_URL,
    maxBodyBytes: MAX_BODY,
  });
}
