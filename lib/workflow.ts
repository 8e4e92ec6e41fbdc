import { Duration } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { BUILD_ENV_NAMES, type BuildCompute, type RunAction } from './domain/contract';
import { EVENT_SOURCE, FABRIC_DESTROYED, FABRIC_DRIFTED, FABRIC_FAILED, FABRIC_READY } from './domain/events';
import type { FabricFunctions } from './fabric-orchestrator';
import { ACQUIRABLE, HELD_BY_ME, LOCK_ATTRIBUTE } from './domain/lock';

/** How long a build may run, and wait in CodeBuild's queue, before CodeBuild ends it. */
export const BUILD_TIMEOUT = Duration.minutes(60);
export const BUILD_QUEUED_TIMEOUT = Duration.minutes(30);
/**
 * How long a build task waits: CodeBuild's own limits plus a margin, so CodeBuild ends a stuck build
 * (and reports it) before Step Functions gives up on it; the margin covers start and status polling.
 */
export const BUILD_TASK_TIMEOUT = Duration.minutes(BUILD_TIMEOUT.toMinutes() + BUILD_QUEUED_TIMEOUT.toMinutes() + 10);
/** A Lambda task waits for its function's own timeout plus this, so Lambda's timeout error wins. */
const LAMBDA_TASK_MARGIN = Duration.seconds(30);
/** DynamoDB and EventBridge calls answer in milliseconds; a task stuck this long is retried or fails. */
const SERVICE_TASK_TIMEOUT = Duration.seconds(30);

/**
 * Lambda throttling (concurrency or burst limits reached). CDK's recommended retry
 * (`retryOnServiceExceptions`) covers Lambda.ServiceException, Lambda.AWSLambdaException and
 * Lambda.SdkClientException but not this; it gets longer, jittered backoff because a throttled
 * account stays throttled for seconds, and all retries at once would throttle again.
 */
export const LAMBDA_THROTTLE_RETRY: sfn.RetryProps = {
  errors: ['Lambda.TooManyRequestsException'],
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxAttempts: 8,
  maxDelay: Duration.seconds(60),
  jitterStrategy: sfn.JitterType.FULL,
};

/** EventBridge throttling and transient errors surface as its service exception or a task failure. */
const EVENTS_RETRY: sfn.RetryProps = {
  errors: ['EventBridge.EventBridgeException', 'States.TaskFailed'],
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxAttempts: 3,
};

/** DynamoDB throttling and transient server errors, retried on every lock task. */
const DYNAMODB_TRANSIENT_RETRY: sfn.RetryProps = {
  errors: [
    'DynamoDB.ProvisionedThroughputExceededException',
    'DynamoDB.ThrottlingException',
    'DynamoDB.InternalServerErrorException',
    'DynamoDB.RequestLimitExceeded',
  ],
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxAttempts: 5,
};

/** The lock item of the run's fabric, as the DynamoDB tasks address it (lib/domain/lock.ts). */
const RUN_LOCK_KEY = { [LOCK_ATTRIBUTE.fabric]: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.fabric.name')) };

/** What the workflow's Tasks call: the orchestrator's functions, lock table and build projects. */
export interface WorkflowResources {
  readonly functions: FabricFunctions;
  readonly lockTable: dynamodb.ITableV2;
  readonly networkProject: codebuild.IProject;
  readonly clusterProject: codebuild.IProject;
  /** The jobs on Lambda compute, for a new fabric's provision (ValidatedFabric.buildCompute). */
  readonly networkLambdaProject?: codebuild.IProject;
  readonly clusterLambdaProject?: codebuild.IProject;
}

/** A provision build that runs on Lambda or EC2 compute, as ValidateSpec chose; `then` continues both. */
interface ProvisionJob {
  readonly start: sfn.State;
  readonly tasks: readonly tasks.CodeBuildStartBuild[];
  then(next: sfn.IChainable): void;
}

/**
 * The state machine's definition (README.md, Architecture): validate, lock, prepare, then provision
 * (with the approval gate), plan (with drift checks), destroy or extend; every failure explained,
 * recorded, unlocked and announced. Its states are made in the orchestrator's scope, so their
 * names and the grants they add are the orchestrator's.
 */
export class FabricWorkflow {
  private readonly functions: FabricFunctions;
  private readonly lockTable: dynamodb.ITableV2;
  private readonly networkProject: codebuild.IProject;
  private readonly clusterProject: codebuild.IProject;
  private readonly networkLambdaProject?: codebuild.IProject;
  private readonly clusterLambdaProject?: codebuild.IProject;

  constructor(
    private readonly scope: Construct,
    resources: WorkflowResources,
  ) {
    this.functions = resources.functions;
    this.lockTable = resources.lockTable;
    this.networkProject = resources.networkProject;
    this.clusterProject = resources.clusterProject;
    this.networkLambdaProject = resources.networkLambdaProject;
    this.clusterLambdaProject = resources.clusterLambdaProject;
  }

  definition(pollInterval: Duration): sfn.IChainable {
    const f = this.functions;
    const lambdaTask = (
      id: string,
      fn: lambda.IFunction,
      payload: Record<string, unknown>,
      resultPath: string | typeof sfn.JsonPath.DISCARD,
    ) => {
      const functionTimeout = (fn instanceof lambda.Function ? fn.timeout : undefined) ?? Duration.seconds(30);
      const task = new tasks.LambdaInvoke(this.scope, id, {
        lambdaFunction: fn,
        payloadResponseOnly: true,
        payload: sfn.TaskInput.fromObject(payload),
        // '$' is the default: the result replaces the input (Parallel branches return it as is).
        resultPath: resultPath === '$' ? undefined : resultPath,
        taskTimeout: sfn.Timeout.duration(functionTimeout.plus(LAMBDA_TASK_MARGIN)),
      });
      task.addRetry(LAMBDA_THROTTLE_RETRY);
      return task;
    };
    const fabricOnly = { 'fabric.$': '$.fabric' };

    // ---- failure path: explain, release, record, announce, fail with the original error ----
    const failed = new sfn.Fail(this.scope, 'FabricFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const emitFailed = new tasks.EventBridgePutEvents(this.scope, 'EmitFabricFailed', {
      entries: [
        {
          source: EVENT_SOURCE,
          detailType: FABRIC_FAILED,
          detail: sfn.TaskInput.fromObject({
            'name.$': '$.fabric.name',
            'execution.$': '$$.Execution.Id',
            'error.$': '$.error.Error',
            'cause.$': '$.error.Cause',
          }),
        },
      ],
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout: sfn.Timeout.duration(SERVICE_TASK_TIMEOUT),
    });
    emitFailed.addRetry(EVENTS_RETRY);
    emitFailed.addCatch(failed, { resultPath: '$.failurePath.emit' });
    emitFailed.next(failed);
    // Record before release: RecordFabric writes only while this run holds the lock, so a run that
    // lost it (FabricBusy) fails there with LockNotHeld and leaves the holder's record alone.
    const releaseAfterFailure = this.releaseLock('ReleaseLockAfterFailure');
    // Not the holder (FabricBusy) or already released: nothing to release, go on.
    releaseAfterFailure.addCatch(emitFailed, { resultPath: '$.failurePath.release' });
    releaseAfterFailure.next(emitFailed);
    const recordFailed = lambdaTask('RecordFailure', f.recordFabric, { status: 'FAILED', 'state.$': '$' }, sfn.JsonPath.DISCARD);
    recordFailed.addCatch(releaseAfterFailure, { resultPath: '$.failurePath.record' });
    recordFailed.next(releaseAfterFailure);
    const explain = lambdaTask('ExplainFailure', f.explainFailure, { 'fabric.$': '$.fabric', 'error.$': '$.error' }, '$.error');
    explain.addCatch(recordFailed, { resultPath: '$.failurePath.explain' });
    explain.next(recordFailed);
    const onFailure = (state: sfn.TaskStateBase | sfn.Parallel) => state.addCatch(explain, { resultPath: '$.error' });

    // A spec that does not validate: nothing exists yet, there is no fabric to release or record.
    const invalidFailed = new sfn.Fail(this.scope, 'SpecRejected', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const emitInvalid = new tasks.EventBridgePutEvents(this.scope, 'EmitSpecRejected', {
      entries: [
        {
          source: EVENT_SOURCE,
          detailType: FABRIC_FAILED,
          detail: sfn.TaskInput.fromObject({ 'execution.$': '$$.Execution.Id', 'error.$': '$.error.Error', 'cause.$': '$.error.Cause' }),
        },
      ],
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout: sfn.Timeout.duration(SERVICE_TASK_TIMEOUT),
    });
    emitInvalid.addRetry(EVENTS_RETRY);
    emitInvalid.addCatch(invalidFailed, { resultPath: '$.failurePath.emit' });
    emitInvalid.next(invalidFailed);

    // ---- 1. validate ----
    const validate = lambdaTask(
      'ValidateSpec',
      f.validateSpec,
      {
        'input.$': '$',
        'execution.$': '$$.Execution.Id',
        'startedAt.$': '$$.Execution.StartTime',
      },
      '$.fabric',
    );
    validate.addCatch(emitInvalid, { resultPath: '$.error' });

    // ---- 2. lock ----
    const acquireLock = new tasks.DynamoPutItem(this.scope, 'AcquireLock', {
      table: this.lockTable,
      item: {
        ...RUN_LOCK_KEY,
        [LOCK_ATTRIBUTE.holder]: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.fabric.execution')),
        [LOCK_ATTRIBUTE.expiresAt]: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.fabric.lock.expiresAt')),
        [LOCK_ATTRIBUTE.ttl]: tasks.DynamoAttributeValue.numberFromString(
          sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.fabric.lock.ttl')),
        ),
        [LOCK_ATTRIBUTE.action]: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.fabric.action')),
      },
      conditionExpression: ACQUIRABLE,
      expressionAttributeValues: {
        ':me': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.fabric.execution')),
        ':started': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.Execution.StartTime')),
      },
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout: sfn.Timeout.duration(SERVICE_TASK_TIMEOUT),
    });
    acquireLock.addRetry({
      errors: ['DynamoDB.ConditionalCheckFailedException'],
      interval: Duration.seconds(15),
      backoffRate: 1.5,
      maxAttempts: 10,
      maxDelay: Duration.minutes(2),
      jitterStrategy: sfn.JitterType.FULL,
    });
    acquireLock.addRetry(DYNAMODB_TRANSIENT_RETRY);
    const readHolder = new tasks.DynamoGetItem(this.scope, 'ReadLockHolder', {
      table: this.lockTable,
      key: RUN_LOCK_KEY,
      resultSelector: {
        'holder.$': `$.Item.${LOCK_ATTRIBUTE.holder}.S`,
        'expiresAt.$': `$.Item.${LOCK_ATTRIBUTE.expiresAt}.S`,
      },
      resultPath: '$.lockHolder',
      taskTimeout: sfn.Timeout.duration(SERVICE_TASK_TIMEOUT),
    });
    readHolder.addRetry(DYNAMODB_TRANSIENT_RETRY);
    const busy = new sfn.Pass(this.scope, 'FabricBusy', {
      parameters: {
        Error: 'FabricBusy',
        'Cause.$':
          "States.Format('fabric {} is locked by execution {} until {}; wait for it to finish or stop it, then retry', " +
          '$.fabric.name, $.lockHolder.holder, $.lockHolder.expiresAt)',
      },
      resultPath: '$.error',
    });
    acquireLock.addCatch(readHolder, { errors: ['DynamoDB.ConditionalCheckFailedException'], resultPath: '$.error' });
    onFailure(acquireLock);
    readHolder.addCatch(explain, { resultPath: '$.failurePath.readHolder' });
    readHolder.next(busy);
    busy.next(explain);

    // ---- 3. prepare, in parallel ----
    const skipDns = new sfn.Pass(this.scope, 'SkipDnsCheck', {
      comment: 'Teardown must not depend on the domain still being delegated.',
      result: sfn.Result.fromObject({ hostedZoneId: '', nameServers: [], skipped: true }),
    });
    const checkDns = lambdaTask('CheckDns', f.checkDns, fabricOnly, '$');
    // A resolver timeout or SERVFAIL is transient; a wrong delegation (DnsNotDelegated) is not.
    checkDns.addRetry({ errors: ['DnsLookupFailed'], interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 3 });
    const dnsBranch = new sfn.Choice(this.scope, 'NeedsDnsCheck')
      .when(sfn.Condition.stringEquals('$.fabric.action', 'destroy'), skipDns)
      .otherwise(checkDns);
    const prepare = new sfn.Parallel(this.scope, 'Prepare', {
      comment: 'Zones, state bucket and DNS are independent: check them at once.',
      resultSelector: { 'zones.$': '$[0]', 'stateBucket.$': '$[1]', 'dns.$': '$[2]' },
      resultPath: '$.prepared',
    });
    prepare.branch(lambdaTask('DiscoverZones', f.discoverZones, fabricOnly, '$'));
    prepare.branch(lambdaTask('EnsureStateBucket', f.ensureStateBucket, fabricOnly, '$'));
    prepare.branch(dnsBranch);
    onFailure(prepare);

    // ---- 4-6. provision ----
    const sshKey = lambdaTask('EnsureSshKey', f.ensureSshKey, fabricOnly, '$.sshKey');
    onFailure(sshKey);
    const networkJob = this.provisionJob('NetworkJob', this.networkProject, this.networkLambdaProject, '$.jobs.network', {
      APPROVED_PLAN_DIGEST: '$.approvedPlan.network',
    });
    const clusterJob = this.provisionJob('ClusterJob', this.clusterProject, this.clusterLambdaProject, '$.jobs.cluster', {
      VPC_ID: '$.jobs.network.result.vpcId',
      SUBNET_IDS_CSV: '$.jobs.network.result.subnetIdsCsv',
      SSH_PUBLIC_KEY: '$.sshKey.publicKey',
      APPROVED_PLAN_DIGEST: '$.approvedPlan.cluster',
    });
    // CheckReadiness starts the deadline clock on its first call (no startedAt yet).
    const initReadiness = new sfn.Pass(this.scope, 'StartReadinessClock', {
      result: sfn.Result.fromObject({ ready: false, attempts: 0 }),
      resultPath: '$.readiness',
    });
    const checkReadiness = lambdaTask(
      'CheckReadiness',
      f.checkReadiness,
      {
        'fabric.$': '$.fabric',
        'prepared.$': '$.prepared',
        'cluster.$': '$.jobs.cluster.result',
        'readiness.$': '$.readiness',
      },
      '$.readiness',
    );
    onFailure(checkReadiness);
    const waitForCluster = new sfn.Wait(this.scope, 'WaitBeforeNextCheck', { time: sfn.WaitTime.duration(pollInterval) });
    const recordReady = lambdaTask('RecordReady', f.recordFabric, { status: 'READY', 'state.$': '$' }, '$.record');
    onFailure(recordReady);
    const releaseReady = this.releaseLock('ReleaseLock');
    onFailure(releaseReady);
    const emitReady = this.emitEvent('EmitFabricReady', FABRIC_READY, {
      'clusterName.$': '$.fabric.clusterName',
      'zones.$': '$.prepared.zones.zones',
      'vpcId.$': '$.jobs.network.result.vpcId',
    });
    onFailure(emitReady);
    const ready = new sfn.Succeed(this.scope, 'FabricReady', { outputPath: '$.record' });
    // ---- approval gate: plan, record AWAITING_APPROVAL, wait for the task token ----
    const recordProvisioning = lambdaTask(
      'RecordProvisioning',
      f.recordFabric,
      { status: 'PROVISIONING', 'state.$': '$' },
      sfn.JsonPath.DISCARD,
    );
    onFailure(recordProvisioning);
    const planNetworkForApproval = this.buildTask('PlanNetworkForApproval', this.networkProject, 'plan', '$.jobs.network', {});
    const planClusterForApproval = this.buildTask('PlanClusterForApproval', this.clusterProject, 'plan', '$.jobs.cluster', {
      VPC_ID: '$.jobs.network.result.vpcId',
      SUBNET_IDS_CSV: '$.jobs.network.result.subnetIdsCsv',
      SSH_PUBLIC_KEY: '$.sshKey.publicKey',
    });
    const recordAwaiting = lambdaTask(
      'RecordAwaitingApproval',
      f.recordFabric,
      { status: 'AWAITING_APPROVAL', 'state.$': '$' },
      sfn.JsonPath.DISCARD,
    );
    const waitForApproval = new tasks.LambdaInvoke(this.scope, 'WaitForApproval', {
      lambdaFunction: f.requestApproval,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({ taskToken: sfn.JsonPath.taskToken, 'state.$': '$' }),
      resultPath: '$.approvalDecision',
      // ValidateSpec sets it: the run's approvalTimeout, at most the stack's.
      taskTimeout: sfn.Timeout.at('$.fabric.approval.timeoutSeconds'),
    });
    waitForApproval.addRetry(LAMBDA_THROTTLE_RETRY);
    const approvalTimedOut = new sfn.Pass(this.scope, 'ApprovalTimedOut', {
      parameters: {
        Error: 'ApprovalTimedOut',
        'Cause.$':
          "States.Format('nobody approved or rejected the plan of fabric {} within {} seconds; nothing was applied. " +
          "Run the provision again and approve it with fabricctl approve {}', " +
          '$.fabric.name, $.fabric.approval.timeoutSeconds, $.fabric.name)',
      },
      resultPath: '$.error',
    });
    waitForApproval.addCatch(approvalTimedOut, { errors: [sfn.Errors.TIMEOUT], resultPath: '$.timeout' });
    approvalTimedOut.next(explain);
    const approvedPlan = new sfn.Pass(this.scope, 'HoldApprovedPlan', {
      comment: 'The jobs apply only a plan with these digests (buildspecs/scripts/lib.sh require_approved_plan).',
      parameters: { 'network.$': '$.jobs.network.result.planDigest', 'cluster.$': '$.jobs.cluster.result.planDigest' },
      resultPath: '$.approvedPlan',
    });
    const recordApproved = lambdaTask('RecordApproved', f.recordFabric, { status: 'PROVISIONING', 'state.$': '$' }, sfn.JsonPath.DISCARD);
    const noApproval = new sfn.Pass(this.scope, 'NoApprovalNeeded', {
      result: sfn.Result.fromObject({ network: '', cluster: '' }),
      resultPath: '$.approvedPlan',
    });
    for (const state of [planNetworkForApproval, planClusterForApproval, recordAwaiting, waitForApproval, recordApproved]) onFailure(state);
    planNetworkForApproval
      .next(planClusterForApproval)
      .next(recordAwaiting)
      .next(waitForApproval)
      .next(approvedPlan)
      .next(recordApproved)
      .next(networkJob.start);
    noApproval.next(networkJob.start);

    networkJob.then(clusterJob.start);
    clusterJob.then(initReadiness);
    initReadiness
      .next(checkReadiness)
      .next(
        new sfn.Choice(this.scope, 'IsClusterReady')
          .when(sfn.Condition.booleanEquals('$.readiness.ready', true), recordReady.next(releaseReady).next(emitReady).next(ready))
          .otherwise(waitForCluster.next(checkReadiness)),
      );
    const provision = recordProvisioning
      .next(sshKey)
      .next(
        new sfn.Choice(this.scope, 'NeedsApproval')
          .when(sfn.Condition.booleanEquals('$.fabric.approval.required', true), planNetworkForApproval)
          .otherwise(noApproval),
      );

    // ---- plan: jobs plan, nothing applied ----
    const planNetwork = this.buildTask('PlanNetworkJob', this.networkProject, 'plan', '$.jobs.network', {});
    const planCluster = this.buildTask('PlanClusterJob', this.clusterProject, 'plan', '$.jobs.cluster', {
      VPC_ID: '$.jobs.network.result.vpcId',
      SUBNET_IDS_CSV: '$.jobs.network.result.subnetIdsCsv',
    });
    const releasePlan = this.releaseLock('ReleaseLockAfterPlan');
    onFailure(releasePlan);
    const planned = new sfn.Pass(this.scope, 'PlanSummary', {
      parameters: {
        action: 'plan',
        'name.$': '$.fabric.name',
        'clusterName.$': '$.fabric.clusterName',
        'zones.$': '$.prepared.zones.zones',
        'stateBucket.$': '$.prepared.stateBucket',
        'network.$': '$.jobs.network.result',
        'cluster.$': '$.jobs.cluster.result',
      },
    });
    // A drift check (the sweep's plan of the recorded spec) records its outcome and reports drift.
    const recordDrift = lambdaTask('RecordDriftCheck', f.recordFabric, { check: 'drift', 'state.$': '$' }, '$.record');
    onFailure(recordDrift);
    const emitDrifted = this.emitEvent('EmitFabricDrifted', FABRIC_DRIFTED, { 'summary.$': '$.record.drift.summary' });
    onFailure(emitDrifted);
    const driftCheck = recordDrift.next(
      new sfn.Choice(this.scope, 'HasDrifted')
        .when(sfn.Condition.booleanEquals('$.record.drift.drifted', true), emitDrifted.next(releasePlan))
        .otherwise(releasePlan),
    );
    const plan = planNetwork
      .next(planCluster)
      .next(
        new sfn.Choice(this.scope, 'IsDriftCheck')
          .when(
            sfn.Condition.and(sfn.Condition.isPresent('$.fabric.check'), sfn.Condition.stringEquals('$.fabric.check', 'drift')),
            driftCheck,
          )
          .otherwise(releasePlan),
      );
    releasePlan.next(planned).next(new sfn.Succeed(this.scope, 'Planned'));

    // ---- destroy: cluster first, then network; the state bucket and its versions stay ----
    const destroyCluster = this.buildTask('DestroyClusterJob', this.clusterProject, 'destroy', '$.jobs.cluster', {});
    const destroyNetwork = this.buildTask('DestroyNetworkJob', this.networkProject, 'destroy', '$.jobs.network', {});
    const recordDestroyed = lambdaTask('RecordDestroyed', f.recordFabric, { status: 'DESTROYED', 'state.$': '$' }, '$.record');
    onFailure(recordDestroyed);
    const releaseDestroyed = this.releaseLock('ReleaseLockAfterDestroy');
    onFailure(releaseDestroyed);
    const emitDestroyed = this.emitEvent('EmitFabricDestroyed', FABRIC_DESTROYED, { 'clusterName.$': '$.fabric.clusterName' });
    onFailure(emitDestroyed);
    const recordDestroying = lambdaTask('RecordDestroying', f.recordFabric, { status: 'DESTROYING', 'state.$': '$' }, sfn.JsonPath.DISCARD);
    onFailure(recordDestroying);
    const destroy = recordDestroying
      .next(destroyCluster)
      .next(destroyNetwork)
      .next(recordDestroyed)
      .next(releaseDestroyed)
      .next(emitDestroyed)
      .next(new sfn.Succeed(this.scope, 'FabricDestroyed', { outputPath: '$.record' }));

    for (const state of [...networkJob.tasks, ...clusterJob.tasks, planNetwork, planCluster, destroyCluster, destroyNetwork])
      onFailure(state);

    // ---- extend: only the record's lease moves; nothing is prepared or built ----
    const recordLease = lambdaTask('RecordLease', f.recordFabric, { 'state.$': '$' }, '$.record');
    onFailure(recordLease);
    const releaseExtended = this.releaseLock('ReleaseLockAfterExtend');
    onFailure(releaseExtended);
    const extend = recordLease.next(releaseExtended).next(new sfn.Succeed(this.scope, 'LeaseExtended', { outputPath: '$.record' }));

    return validate
      .next(acquireLock)
      .next(
        new sfn.Choice(this.scope, 'IsLeaseExtension')
          .when(sfn.Condition.stringEquals('$.fabric.action', 'extend'), extend)
          .otherwise(
            prepare.next(
              new sfn.Choice(this.scope, 'ChooseAction')
                .when(sfn.Condition.stringEquals('$.fabric.action', 'destroy'), destroy)
                .when(sfn.Condition.stringEquals('$.fabric.action', 'plan'), plan)
                .otherwise(provision),
            ),
          ),
      );
  }

  /** Deletes the lock only if this execution holds it; a FabricBusy run must not free another's lock. */
  private releaseLock(id: string): tasks.DynamoDeleteItem {
    const release = new tasks.DynamoDeleteItem(this.scope, id, {
      table: this.lockTable,
      key: RUN_LOCK_KEY,
      conditionExpression: HELD_BY_ME,
      expressionAttributeValues: { ':me': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.fabric.execution')) },
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout: sfn.Timeout.duration(SERVICE_TASK_TIMEOUT),
    });
    release.addRetry(DYNAMODB_TRANSIENT_RETRY);
    return release;
  }

  private emitEvent(id: string, detailType: string, extra: Record<string, string>): tasks.EventBridgePutEvents {
    const emit = new tasks.EventBridgePutEvents(this.scope, id, {
      entries: [
        {
          source: EVENT_SOURCE,
          detailType,
          detail: sfn.TaskInput.fromObject({ 'name.$': '$.fabric.name', 'execution.$': '$$.Execution.Id', ...extra }),
        },
      ],
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout: sfn.Timeout.duration(SERVICE_TASK_TIMEOUT),
    });
    emit.addRetry(EVENTS_RETRY);
    return emit;
  }

  /**
   * A provision build. With a Lambda-compute project: a Choice runs `<id>OnLambda` unless ValidateSpec
   * chose EC2 (`$.fabric.buildCompute`); Lambda is the Default because it is a new fabric's path,
   * the one bench/critical-path.ts walks. Without one: the EC2 task alone.
   */
  private provisionJob(
    id: string,
    project: codebuild.IProject,
    lambdaProject: codebuild.IProject | undefined,
    resultPath: string,
    extra: Record<string, string>,
  ): ProvisionJob {
    const onEc2 = this.buildTask(id, project, 'provision', resultPath, extra);
    if (lambdaProject === undefined) return { start: onEc2, tasks: [onEc2], then: (next) => void onEc2.next(next) };
    const onLambda = this.buildTask(`${id}OnLambda`, lambdaProject, 'provision', resultPath, extra);
    const choice = new sfn.Choice(this.scope, `${id}Compute`, {
      comment: 'Lambda compute starts in seconds but ends a build at 15 minutes: only for a new fabric, which never rolls.',
    })
      .when(sfn.Condition.stringEquals('$.fabric.buildCompute', 'ec2' satisfies BuildCompute), onEc2)
      .otherwise(onLambda);
    return {
      start: choice,
      tasks: [onEc2, onLambda],
      then: (next) => {
        onEc2.next(next);
        onLambda.next(next);
      },
    };
  }

  /**
   * A build task that waits for the build (RUN_JOB). Per-run values go in as environment overrides;
   * the job's one exported variable `FABRIC_RESULT` (JSON) comes back parsed at `resultPath.result`.
   */
  private buildTask(
    id: string,
    project: codebuild.IProject,
    action: RunAction,
    resultPath: string,
    extra: Record<string, string>,
  ): tasks.CodeBuildStartBuild {
    const env: Record<string, codebuild.BuildEnvironmentVariable> = {};
    // Every variable of the validated fabric's `buildEnv` (contract.ts BUILD_ENV_NAMES).
    for (const name of BUILD_ENV_NAMES) env[name] = { value: sfn.JsonPath.stringAt(`$.fabric.buildEnv.${name}`) };
    env.ACTION = { value: action };
    env.STATE_BUCKET = { value: sfn.JsonPath.stringAt('$.prepared.stateBucket.bucket') };
    env.STATE_BUCKET_EXISTS = { value: sfn.JsonPath.format('{}', sfn.JsonPath.stringAt('$.prepared.stateBucket.exists')) };
    env.ZONES_CSV = { value: sfn.JsonPath.stringAt('$.prepared.zones.zonesCsv') };
    env.EXECUTION_ID = { value: sfn.JsonPath.stringAt('$$.Execution.Id') };
    for (const [name, jsonPath] of Object.entries(extra)) env[name] = { value: sfn.JsonPath.stringAt(jsonPath) };
    const task = new tasks.CodeBuildStartBuild(this.scope, id, {
      project,
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      environmentVariablesOverride: env,
      resultSelector: {
        'result.$': 'States.StringToJson($.Build.ExportedEnvironmentVariables[0].Value)',
        'buildId.$': '$.Build.Id',
      },
      resultPath,
      taskTimeout: sfn.Timeout.duration(BUILD_TASK_TIMEOUT),
    });
    task.addRetry({
      errors: ['CodeBuild.CodeBuildException', 'CodeBuild.AccountLimitExceededException'],
      interval: Duration.seconds(10),
      backoffRate: 2,
      maxAttempts: 4,
    });
    return task;
  }
}
