import { CfnOutput, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { FabricFunction } from './fabric-function';
import { grantStartOnce } from './execution-grants';
import { EVENT_SOURCE } from './domain/events';

export interface GithubWebhookProps {
  /** The provisioning state machine a verified push to a `fabric/<name>` branch starts. */
  readonly stateMachine: sfn.StateMachine;
  /**
   * A secret whose SecretString is a GitHub token that can read the fabric repository's contents
   * (a fine-grained token with "Contents: read" on it, or a classic token with `repo`). The receiver
   * reads `fabric.json` at the pushed commit with it, and may read this secret and no other token.
   *
   * @default - no token: `fabric.json` is read anonymously, which works for public repositories only
   * (GitHub answers 404 for a private one, and the receiver answers 422 naming this option) and
   * counts against GitHub's rate limit for unauthenticated requests (60 an hour per IP address).
   */
  readonly githubTokenSecret?: secretsmanager.ISecret;
  /**
   * Concurrent executions reserved for the receiver, which are also its ceiling: its URL is public, and
   * a flood of deliveries (signed or not) must not take the concurrency the account's other functions,
   * the orchestrator's among them, need. Beyond it callers get 429, which GitHub shows as a failed
   * delivery to redeliver. Reserving needs that much unreserved concurrency left in the account.
   * @default 5 (a push is answered in well under a second, so 5 keeps up with far more pushes than a repository makes)
   */
  readonly reservedConcurrency?: number;
}

/** What the GitHub webhook is made of. */
export interface GithubWebhook {
  readonly receiver: FabricFunction;
  readonly url: lambda.FunctionUrl;
  /** The secret GitHub signs deliveries with (`X-Hub-Signature-256`); generated here. */
  readonly webhookSecret: secretsmanager.Secret;
  /** Delivery ids already handled (`X-GitHub-Delivery`), kept 30 days by TTL: replays of them start nothing. */
  readonly deliveryTable: dynamodb.TableV2;
}

export const DEFAULT_WEBHOOK_CONCURRENCY = 5;

/**
 * The GitHub push webhook receiver: a Lambda function URL (auth NONE: the HMAC signature is the
 * authentication) that starts one provisioning run per pushed commit of a `fabric/<name>` branch.
 * Outputs `GithubWebhookUrl` and `GithubWebhookSecretArn`, what a repository's webhook settings need.
 *
 * Its resources are made directly in `scope` under the ids the stack has always given them
 * (GithubWebhookSecret, GithubWebhookFunction, ...): renaming or nesting them would replace the
 * webhook secret that GitHub holds a copy of.
 */
export function addGithubWebhook(scope: Construct, props: GithubWebhookProps): GithubWebhook {
  const stack = Stack.of(scope);
  const { stateMachine, githubTokenSecret } = props;
  const reservedConcurrency = props.reservedConcurrency ?? DEFAULT_WEBHOOK_CONCURRENCY;
  if (!Number.isInteger(reservedConcurrency) || reservedConcurrency < 1) {
    throw new Error(
      `reservedConcurrency of the GitHub webhook must be a whole number of at least 1 ` +
        `(default ${DEFAULT_WEBHOOK_CONCURRENCY}); got ${reservedConcurrency}`,
    );
  }
  const webhookSecret = new secretsmanager.Secret(scope, 'GithubWebhookSecret', {
    description: 'fabricctl: the secret GitHub signs webhook deliveries with (X-Hub-Signature-256)',
    generateSecretString: { passwordLength: 48, excludePunctuation: true },
  });
  // Key `delivery` and TTL `expiresAt`, as lambdas/github-webhook/core.ts writes them.
  const deliveryTable = new dynamodb.TableV2(scope, 'GithubWebhookDeliveries', {
    partitionKey: { name: 'delivery', type: dynamodb.AttributeType.STRING },
    timeToLiveAttribute: 'expiresAt',
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const receiver = new FabricFunction(scope, 'GithubWebhookFunction', {
    entry: 'github-webhook',
    description: 'Receives GitHub pushes to fabric/<name> branches and starts one provisioning run per commit',
    environment: {
      WEBHOOK_SECRET_ARN: webhookSecret.secretArn,
      STATE_MACHINE_ARN: stateMachine.stateMachineArn,
      DELIVERY_TABLE_NAME: deliveryTable.tableName,
      ...(githubTokenSecret ? { GITHUB_TOKEN_SECRET_ARN: githubTokenSecret.secretArn } : {}),
    },
    reservedConcurrentExecutions: reservedConcurrency,
  });
  webhookSecret.grantRead(receiver);
  // Claims and settles delivery ids with PutItem only: nothing reads, updates or deletes them.
  receiver.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [deliveryTable.tableArn] }));
  githubTokenSecret?.grantRead(receiver);
  grantStartOnce(receiver, stateMachine);
  receiver.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['events:PutEvents'],
      resources: [`arn:${stack.partition}:events:${stack.region}:${stack.account}:event-bus/default`],
      conditions: { StringEquals: { 'events:source': EVENT_SOURCE } },
    }),
  );
  // GitHub cannot sign with AWS credentials: the HMAC signature is the authentication.
  const url = receiver.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
  new CfnOutput(scope, 'GithubWebhookUrl', { value: url.url });
  new CfnOutput(scope, 'GithubWebhookSecretArn', { value: webhookSecret.secretArn });
  Validations.of(webhookSecret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason: 'GitHub holds a copy of the webhook secret; rotating it means updating the webhook in GitHub, done by hand.',
  });
  return { receiver, url, webhookSecret, deliveryTable };
}
