import { CfnOutput, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { addCodeCommitTrigger } from './codecommit-trigger';
import { FabricFunction } from './fabric-function';
import { EVENT_SOURCE, FabricOrchestrator, FabricOrchestratorProps, logicalIdOf } from './fabric-orchestrator';

export interface FabricOrchestratorStackProps extends StackProps, FabricOrchestratorProps {
  /**
   * Name of an existing CodeCommit repository holding `fabric/<name>` branches: a push provisions.
   * @default no CodeCommit trigger
   */
  readonly codeCommitRepositoryName?: string;
  /**
   * Add the GitHub webhook receiver (a Lambda function URL checking `X-Hub-Signature-256`).
   * @default false
   */
  readonly githubWebhook?: boolean;
}

/** The stack a user deploys once per account: `npx cdk deploy FabricOrchestrator`. */
export class FabricOrchestratorStack extends Stack {
  public readonly orchestrator: FabricOrchestrator;

  constructor(scope: Construct, id: string, props: FabricOrchestratorStackProps = {}) {
    super(scope, id, { description: 'fabricctl: provisions one highly available kops Kubernetes fabric per git branch', ...props });
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
    if (props.githubWebhook) this.addGithubWebhook();
  }

  private addGithubWebhook(): void {
    const { stateMachine } = this.orchestrator;
    const webhookSecret = new secretsmanager.Secret(this, 'GithubWebhookSecret', {
      description: 'fabricctl: the secret GitHub signs webhook deliveries with (X-Hub-Signature-256)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    const receiver = new FabricFunction(this, 'GithubWebhookFunction', {
      entry: 'github-webhook',
      description: 'Receives GitHub pushes to fabric/<name> branches and starts one provisioning run per commit',
      environment: { WEBHOOK_SECRET_ARN: webhookSecret.secretArn, STATE_MACHINE_ARN: stateMachine.stateMachineArn },
    });
    webhookSecret.grantRead(receiver);
    stateMachine.grantStartExecution(receiver);
    receiver.addToRolePolicy(new iam.PolicyStatement({
      actions: ['states:DescribeExecution'],
      resources: [`arn:${this.partition}:states:${this.region}:${this.account}:execution:${stateMachine.stateMachineName}:*`],
    }));
    receiver.addToRolePolicy(new iam.PolicyStatement({
      actions: ['events:PutEvents'],
      resources: [`arn:${this.partition}:events:${this.region}:${this.account}:event-bus/default`],
      conditions: { StringEquals: { 'events:source': EVENT_SOURCE } },
    }));
    // GitHub cannot sign with AWS credentials: the HMAC signature is the authentication.
    const url = receiver.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    new CfnOutput(this, 'GithubWebhookUrl', { value: url.url });
    new CfnOutput(this, 'GithubWebhookSecretArn', { value: webhookSecret.secretArn });
    Validations.of(webhookSecret).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'GitHub holds a copy of the webhook secret; rotating it means updating the webhook in GitHub, done by hand.' });
    Validations.of(receiver).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${logicalIdOf(stateMachine)}.Name>:*]`,
      reason: 'Duplicate deliveries are detected by describing the execution named after the commit, which does not exist before.',
    });
  }
}
