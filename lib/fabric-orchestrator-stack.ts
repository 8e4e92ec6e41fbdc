import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { addCodeCommitTrigger } from './codecommit-trigger';
import { FabricOrchestrator, FabricOrchestratorProps } from './fabric-orchestrator';
import { addGithubWebhook } from './github-webhook';

export interface FabricOrchestratorStackProps extends StackProps, FabricOrchestratorProps {
  /**
   * Add the GitHub webhook receiver (a Lambda function URL checking `X-Hub-Signature-256`).
   * @default false
   */
  readonly githubWebhook?: boolean;
  /**
   * Complete ARN (with the 6-character suffix Secrets Manager adds, as the console shows it) of a
   * secret holding a GitHub token that can read the fabric repository's contents; the webhook reads
   * `fabric.json` with it and may read this secret only. Needs `githubWebhook`. The fabricctl app
   * reads it from the context key `fabricctl:githubTokenSecretArn`.
   * @default - no token: the webhook reads `fabric.json` anonymously, which works for public
   * repositories only (see `GithubWebhookProps.githubTokenSecret`)
   */
  readonly githubTokenSecretArn?: string;
}

/** A stack option that cannot work as given; the message says what to change. */
export class StackOptionInvalid extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackOptionInvalid';
  }
}

const COMPLETE_SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;

/** The stack a user deploys once per account: `npx cdk deploy FabricOrchestrator`. */
export class FabricOrchestratorStack extends Stack {
  public readonly orchestrator: FabricOrchestrator;

  constructor(scope: Construct, id: string, props: FabricOrchestratorStackProps = {}) {
    super(scope, id, { description: 'fabricctl: provisions one highly available kops Kubernetes fabric per git branch', ...props });
    const tokenArn = props.githubTokenSecretArn;
    if (tokenArn !== undefined && !props.githubWebhook) {
      throw new StackOptionInvalid(
        'githubTokenSecretArn is set but githubWebhook is not: only the GitHub webhook uses the token. ' +
          'Add the webhook (-c fabricctl:githubWebhook=true) or drop the token.',
      );
    }
    if (tokenArn !== undefined && (typeof tokenArn !== 'string' || !COMPLETE_SECRET_ARN.test(tokenArn))) {
      throw new StackOptionInvalid(
        `githubTokenSecretArn must be the complete ARN of a Secrets Manager secret, ` +
          `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters> as the console shows it; got ${JSON.stringify(tokenArn)}`,
      );
    }
    this.orchestrator = new FabricOrchestrator(this, 'Orchestrator', props);
    const { stateMachine } = this.orchestrator;
    // fabricctl finds the state machine through these outputs.
    new CfnOutput(this, 'StateMachineArn', { value: stateMachine.stateMachineArn });
    new CfnOutput(this, 'LockTableName', { value: this.orchestrator.lockTable.tableName });
    new CfnOutput(this, 'StateBucketPrefix', { value: this.orchestrator.stateBucketPrefix });
    new CfnOutput(this, 'NetworkProjectName', { value: this.orchestrator.networkProject.projectName });
    new CfnOutput(this, 'ClusterProjectName', { value: this.orchestrator.clusterProject.projectName });

    if (props.codeCommitRepositoryName) {
      const repository = codecommit.Repository.fromRepositoryName(this, 'FabricRepository', props.codeCommitRepositoryName);
      addCodeCommitTrigger(this, { repository, stateMachine });
    }
    if (props.githubWebhook) {
      const githubTokenSecret =
        tokenArn === undefined ? undefined : secretsmanager.Secret.fromSecretCompleteArn(this, 'GithubTokenSecret', tokenArn);
      addGithubWebhook(this, { stateMachine, githubTokenSecret });
    }
  }
}
