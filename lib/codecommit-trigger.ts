import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { grantStartOnce } from './execution-grants';
import { FabricFunction } from './fabric-function';

/** Branches that carry a fabric. CodeCommit's `detail.referenceName` is the short name (`fabric/demo`), without `refs/heads/`. */
export const FABRIC_BRANCH_PREFIX = 'fabric/';

export interface CodeCommitTriggerProps {
  /** The repository whose `fabric/<name>` branches hold one `fabric.json` each. */
  readonly repository: codecommit.IRepository;
  /** The provisioning state machine (a push function may start it and describe its executions only). */
  readonly stateMachine: sfn.StateMachine;
  /**
   * Where deletions of `fabric/*` branches are written (one line each; nothing is destroyed).
   * @default a log group `/aws/events/fabricctl-branch-deletions`, kept for one year
   */
  readonly deletionLogGroup?: logs.ILogGroup;
}

export interface CodeCommitTrigger {
  /** Sends every create or update of a `fabric/*` branch to the push function. */
  readonly pushRule: events.Rule;
  /** Starts one `provision` execution per pushed commit (lambdas/codecommit-push). */
  readonly pushFunction: FabricFunction;
  /** Push events that could not be delivered to the push function, or that it failed on after Lambda's retries. */
  readonly deadLetterQueue: sqs.Queue;
  /** Records deletions of `fabric/*` branches. */
  readonly deletionRule: events.Rule;
  readonly deletionLogGroup: logs.ILogGroup;
}

/**
 * A rule target writing to a CloudWatch Logs group, with a native `AWS::Logs::ResourcePolicy`
 * granting EventBridge the writes. (The CDK's `CloudWatchLogGroup` target does the same through a
 * custom-resource Lambda, which would add a function, a role and their findings to the stack.)
 */
class LogGroupTarget implements events.IRuleTarget {
  constructor(
    private readonly logGroup: logs.ILogGroup,
    private readonly input: events.RuleTargetInput,
  ) {}

  // The target is the group's ARN without the `:*` its Arn attribute ends in: with it, the rule
  // deploys but its events never arrive. Built from the name, since the attribute is a token here.
  bind(): events.RuleTargetConfig {
    const arn = Stack.of(this.logGroup).formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: this.logGroup.logGroupName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    return { arn, input: this.input };
  }
}

/**
 * Wires a CodeCommit repository to the state machine: one fabric per `fabric/<name>` branch.
 *
 * - Push rule: `aws.codecommit` / `CodeCommit Repository State Change` for this repository, with
 *   `detail.event` `referenceCreated` or `referenceUpdated`, `detail.referenceType` `branch` and
 *   `detail.referenceName` starting with `fabric/`. Its target is the push function, which starts the
 *   state machine with the input
 *   `{"action":"provision","source":{"provider":"codecommit","repository":<repositoryName>,"branch":<referenceName>,"commit":<commitId>}}`
 *   under the execution name `<name>-<12 hex of commit>`, as the GitHub webhook and `fabricctl up` name
 *   a commit's run: EventBridge delivers each event at least once, and a repeated event finds the
 *   execution of its commit and starts nothing. The state machine's first state reads `fabric.json`
 *   at that commit and checks its name against the branch.
 * - Dead-letter queue (SQS-managed encryption, TLS only, kept 14 days): events EventBridge could not
 *   deliver after its retries, and events the function still failed on after Lambda's two retries.
 * - Deletion rule: `referenceDeleted` of a `fabric/*` branch only writes a line to a log group
 *   (the CodeCommit event itself is already on the default bus for anyone who wants to react).
 *   Deleting a branch destroys nothing: `fabricctl down <name> --confirm <name>` does.
 */
export function addCodeCommitTrigger(scope: Construct, props: CodeCommitTriggerProps): CodeCommitTrigger {
  const id = 'CodeCommitTrigger';
  const construct = new Construct(scope, id);
  const baseDetail = { referenceType: ['branch'], referenceName: [{ prefix: FABRIC_BRANCH_PREFIX }] };

  // SQS-managed keys: EventBridge can write to the queue with no key policy to keep (a KMS key would
  // have to be a customer managed key whose policy lets EventBridge use it).
  const deadLetterQueue = new sqs.Queue(construct, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const pushFunction = new FabricFunction(construct, 'PushFunction', {
    entry: 'codecommit-push',
    description: 'Starts one provisioning run per commit pushed to a fabric/<name> CodeCommit branch; repeated events start nothing',
    environment: { STATE_MACHINE_ARN: props.stateMachine.stateMachineArn },
    deadLetterQueue,
  });
  grantStartOnce(pushFunction, props.stateMachine);

  const pushRule = new events.Rule(construct, 'PushRule', {
    description: 'A push to a fabric/<name> branch provisions that fabric at the pushed commit',
    eventPattern: {
      source: ['aws.codecommit'],
      detailType: ['CodeCommit Repository State Change'],
      resources: [props.repository.repositoryArn],
      detail: { event: ['referenceCreated', 'referenceUpdated'], ...baseDetail },
    },
  });
  // The whole event goes to the function, which reads what it needs with one schema.
  pushRule.addTarget(new targets.LambdaFunction(pushFunction, { retryAttempts: 4, maxEventAge: Duration.hours(2), deadLetterQueue }));

  const deletionLogGroup =
    props.deletionLogGroup ??
    new logs.LogGroup(construct, 'DeletionLog', {
      logGroupName: '/aws/events/fabricctl-branch-deletions',
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  new logs.ResourcePolicy(construct, 'DeletionLogPolicy', {
    policyStatements: [
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        resources: [deletionLogGroup.logGroupArn],
      }),
    ],
  });
  const deletionRule = new events.Rule(construct, 'DeletionRule', {
    description: 'Deleting a fabric/<name> branch destroys nothing: it is logged',
    eventPattern: {
      source: ['aws.codecommit'],
      detailType: ['CodeCommit Repository State Change'],
      resources: [props.repository.repositoryArn],
      detail: { event: ['referenceDeleted'], ...baseDetail },
    },
  });
  deletionRule.addTarget(
    new LogGroupTarget(
      deletionLogGroup,
      // No angle brackets in the text: EventBridge reads <x> in a template as a placeholder.
      events.RuleTargetInput.fromObject({
        timestamp: events.EventField.time,
        message:
          `branch ${events.EventField.fromPath('$.detail.referenceName')} of ${events.EventField.fromPath('$.detail.repositoryName')} ` +
          `deleted (last commit ${events.EventField.fromPath('$.detail.oldCommitId')}): ` +
          `nothing was destroyed; to destroy the fabric run fabricctl down NAME --confirm NAME`,
      }),
    ),
  );

  return { pushRule, pushFunction, deadLetterQueue, deletionRule, deletionLogGroup };
}
