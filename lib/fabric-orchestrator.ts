import { Aws, CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as assets from 'aws-cdk-lib/aws-s3-assets';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct, IConstruct } from 'constructs';
import { LOCK_TABLE_ENV } from '../lambdas/shared/config';
import { BUILD_ENV_NAMES, type RunAction } from '../lambdas/shared/contract';
import { EVENT_SOURCE } from '../lambdas/shared/events';
import { DEFAULT_BUCKET_PREFIX } from '../lambdas/shared/naming';
import { LEASE_SWEEP_MINUTES, SweepTask } from '../lambdas/sweep-fabrics/core';
import { grantClusterBuilder, grantNetworkBuilder, NodeRoleBoundary, stateReaderEnvironment } from './build-grants';
import { FabricFunction, PROJECT_ROOT } from './fabric-function';
import { checkKopsSha256, KOPS_SHA256_ENV } from './kops-checksum';

export { EVENT_SOURCE };

export interface FabricOrchestratorProps {
  /**
   * First part of every state bucket name: `<prefix>-<account>-<region>` (see README, "Names").
   * @default 'fabricctl-state'
   */
  readonly stateBucketPrefix?: string;
  /**
   * How long readiness polling waits for the cluster before failing with `ClusterNotReady`.
   * @default Duration.minutes(20)
   */
  readonly readinessDeadline?: Duration;
  /**
   * Pause between two readiness polls. 10 s: the cluster is seen ready within 10 s of being so, for
   * about 3 state transitions a poll (a 20-minute deadline costs at most 360, under $0.01).
   * @default Duration.seconds(10)
   */
  readonly readinessPollInterval?: Duration;
  /**
   * The longest a run may take; also how long a lock left by an aborted run blocks its fabric.
   * @default Duration.hours(3)
   */
  readonly executionTimeout?: Duration;
  /**
   * CodeBuild compute type of the Terraform and kops jobs.
   * @default codebuild.ComputeType.SMALL
   */
  readonly buildComputeType?: codebuild.ComputeType;
  /**
   * SHA-256 of the kops binary the cluster job downloads: `kops-linux-amd64` of the kops version
   * pinned in buildspecs/tools.env (1.36.2), 64 hexadecimal characters, read from the release's own
   * file https://github.com/kubernetes/kops/releases/download/v1.36.2/kops-linux-amd64.sha256.
   * It reaches the cluster job as `KOPS_SHA256`, which buildspecs/scripts/install-tools.sh prefers
   * over tools.env and verifies the download against. The fabricctl app (bin/fabric-orchestrator.ts)
   * reads it from the context key `fabricctl:kopsSha256`.
   *
   * @default - none: required unless `kopsFromPath` is true. Without it the constructor throws
   * `KopsChecksumMissing` (a malformed value: `KopsChecksumInvalid`), saying where to read the value
   * and how to pass it, so that `cdk synth` fails instead of the first run's ClusterJob.
   */
  readonly kopsSha256?: string;
  /**
   * The machine that runs the cluster job already has kops on its PATH at the pinned version, so the
   * job never downloads kops and no `kopsSha256` is needed (giving one is an error). Local mode sets
   * it: its builds run on the developer's machine with the kops stand-in first on PATH (or, with
   * `--aws`, the developer's own kops). CodeBuild's image has no kops: leave it unset to deploy.
   *
   * @default false
   */
  readonly kopsFromPath?: boolean;
  /**
   * Name of an existing CodeCommit repository holding `fabric/<name>` branches: a push provisions.
   * ValidateSpec may read `fabric.json` from this repository only.
   * @default no CodeCommit trigger, and ValidateSpec may read no CodeCommit repository
   */
  readonly codeCommitRepositoryName?: string;
  /**
   * Ids of the public hosted zones of the fabrics' domains (`Z...`, as Route 53 shows them). The
   * cluster job, the control planes kops creates, CheckDns and CheckReadiness may touch these zones
   * only; a fabric whose domain is in another zone fails at its cluster job.
   * @default - any hosted zone of the account (`hostedzone/*`): the domain comes with each spec
   */
  readonly hostedZoneIds?: readonly string[];
  /**
   * IAM principals (ARNs of roles or users; `*` wildcards as in `ArnLike`) who may read kops's
   * secrets (`pki/private`, `secrets/`) and Terraform state in the state buckets, besides the build
   * jobs and the clusters' control planes. Everyone else is denied by the bucket policy, whatever
   * their IAM policies allow. For a role, give the role's ARN: it covers all of its sessions.
   * @default - none: only the build jobs (and control planes, for kops's keys) read them
   */
  readonly stateAdminPrincipalArns?: readonly string[];
  /**
   * The longest a provision waits after its plan for `fabricctl approve` (specs with
   * `"approve": "required"`, protected fabrics). The fabric stays locked meanwhile; an unanswered
   * request ends the run with `ApprovalTimedOut`, changing nothing. Must leave `executionTimeout`
   * room for the builds and readiness after it.
   * @default Duration.hours(1)
   */
  readonly approvalTimeout?: Duration;
  /**
   * EventBridge Scheduler expression for drift checks, e.g. `rate(1 day)` or `cron(0 6 * * ? *)`:
   * every READY fabric's recorded spec is planned and `Fabric Drifted` is put when the plan is not
   * empty. Leases (`expiresAfter`) are swept every 15 minutes whether or not this is set.
   * @default - no drift checks
   */
  readonly driftCheckSchedule?: string;
}

/** The Lambda functions of the orchestrator, by role. */
export interface FabricFunctions {
  readonly validateSpec: lambda.IFunction;
  readonly discoverZones: lambda.IFunction;
  readonly ensureStateBucket: lambda.IFunction;
  readonly checkDns: lambda.IFunction;
  readonly ensureSshKey: lambda.IFunction;
  readonly checkReadiness: lambda.IFunction;
  readonly recordFabric: lambda.IFunction;
  readonly explainFailure: lambda.IFunction;
  readonly requestApproval: lambda.IFunction;
  readonly sweepFabrics: lambda.IFunction;
}

/** How long a build may run, and wait in CodeBuild's queue, before CodeBuild ends it. */
const BUILD_TIMEOUT = Duration.minutes(60);
const BUILD_QUEUED_TIMEOUT = Duration.minutes(30);
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
  errors: ['DynamoDB.ProvisionedThroughputExceededException', 'DynamoDB.ThrottlingException', 'DynamoDB.InternalServerErrorException', 'DynamoDB.RequestLimitExceeded'],
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxAttempts: 5,
};

/**
 * Provisions, plans and destroys fabrics: a Step Functions Standard workflow (JSONPath only) with its
 * Lambdas, two CodeBuild jobs (Terraform network, kops cluster), a DynamoDB lock table and
 * EventBridge events. See README.md for the state diagram.
 */
export class FabricOrchestrator extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly lockTable: dynamodb.TableV2;
  public readonly networkProject: codebuild.Project;
  public readonly clusterProject: codebuild.Project;
  public readonly functions: FabricFunctions;
  public readonly stateBucketPrefix: string;
  /** The hosted zones the jobs may change (`hostedZoneIds`); empty: any. */
  public readonly hostedZoneIds: readonly string[];

  constructor(scope: Construct, id: string, props: FabricOrchestratorProps = {}) {
    super(scope, id);
    // First: a missing checksum must stop synth before anything is built or bundled.
    const kopsSha256 = checkKopsSha256(props.kopsSha256, props.kopsFromPath === true);
    const prefix = props.stateBucketPrefix ?? DEFAULT_BUCKET_PREFIX;
    if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(prefix)) {
      throw new Error(`stateBucketPrefix must be 1-31 characters of a-z, 0-9 and -, got ${prefix}`);
    }
    const readinessDeadline = props.readinessDeadline ?? Duration.minutes(20);
    const pollInterval = props.readinessPollInterval ?? Duration.seconds(10);
    const executionTimeout = props.executionTimeout ?? Duration.hours(3);
    if (readinessDeadline.toSeconds() >= executionTimeout.toSeconds()) {
      throw new Error('readinessDeadline must be shorter than executionTimeout');
    }
    const approvalTimeout = props.approvalTimeout ?? Duration.hours(1);
    // After the approval: two builds at CodeBuild's own timeout at worst, then readiness.
    const afterApproval = BUILD_TIMEOUT.toSeconds() + readinessDeadline.toSeconds();
    if (approvalTimeout.toSeconds() < 60 || approvalTimeout.toSeconds() + afterApproval > executionTimeout.toSeconds()) {
      throw new Error(`approvalTimeout must be at least 1 minute and leave executionTimeout (${executionTimeout.toHumanString()}) ${Math.ceil(afterApproval / 60)} minutes for the builds and readiness after it; raise executionTimeout for longer approvals`);
    }
    this.stateBucketPrefix = prefix;
    const hostedZoneIds = checkHostedZoneIds(props.hostedZoneIds);
    this.hostedZoneIds = hostedZoneIds;
    const stateAdmins = checkPrincipalArns(props.stateAdminPrincipalArns);
    const zoneArns = (hostedZoneIds.length === 0 ? ['*'] : hostedZoneIds).map((id) => `arn:${Aws.PARTITION}:route53:::hostedzone/${id}`);

    // State buckets are created per fabric region at run time; these ARNs cover exactly those names.
    const stateBucketArn = `arn:${Aws.PARTITION}:s3:::${prefix}-${Aws.ACCOUNT_ID}-*`;
    // Names from lambdas/shared/naming.ts; the fabric part is known at run time only.
    const secretArn = (kind: 'ssh-key' | 'kubeconfig') => `arn:${Aws.PARTITION}:secretsmanager:*:${Aws.ACCOUNT_ID}:secret:fabricctl/*/${kind}-??????`;

    this.lockTable = new dynamodb.TableV2(this, 'LockTable', {
      partitionKey: { name: 'fabric', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'ttl',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const sharedEnv = { STATE_BUCKET_PREFIX: prefix };
    const fn = (id: string, entry: string, description: string, extra: Partial<{ timeout: Duration; memorySize: number; environment: Record<string, string> }> = {}) =>
      new FabricFunction(this, id, { entry, description, ...extra, environment: { ...sharedEnv, ...extra.environment } });

    const validateSpec = fn('ValidateSpecFunction', 'validate-spec', 'Validates and normalises a fabric spec; creates nothing', {
      environment: { LOCK_SECONDS: String(executionTimeout.toSeconds()), APPROVAL_TIMEOUT_SECONDS: String(approvalTimeout.toSeconds()) },
    });
    validateSpec.addToRolePolicy(new iam.PolicyStatement({ actions: ['ec2:DescribeRegions'], resources: ['*'] }));
    validateSpec.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`${stateBucketArn}/fabrics/*`] }));
    // Without ListBucket a missing record reads as AccessDenied instead of "no record".
    validateSpec.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [stateBucketArn] }));
    if (props.codeCommitRepositoryName !== undefined) {
      validateSpec.addToRolePolicy(new iam.PolicyStatement({
        actions: ['codecommit:GetFile'],
        resources: [`arn:${Aws.PARTITION}:codecommit:${Aws.REGION}:${Aws.ACCOUNT_ID}:${props.codeCommitRepositoryName}`],
      }));
    }

    const discoverZones = fn('DiscoverZonesFunction', 'discover-zones', 'Chooses the availability zones of a fabric');
    discoverZones.addToRolePolicy(new iam.PolicyStatement({ actions: ['ec2:DescribeRegions', 'ec2:DescribeAvailabilityZones'], resources: ['*'] }));
    discoverZones.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`${stateBucketArn}/fabrics/*`] }));
    discoverZones.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [stateBucketArn] }));

    const ensureStateBucket = fn('EnsureStateBucketFunction', 'ensure-state-bucket', 'Creates or verifies the versioned, encrypted state bucket', {
      timeout: Duration.seconds(60),
    });
    ensureStateBucket.addToRolePolicy(new iam.PolicyStatement({
      actions: [
        's3:CreateBucket', 's3:ListBucket', 's3:GetBucketVersioning', 's3:PutBucketVersioning', 's3:GetEncryptionConfiguration',
        's3:PutEncryptionConfiguration', 's3:GetBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock', 's3:GetBucketOwnershipControls',
        's3:PutBucketOwnershipControls', 's3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:GetBucketTagging', 's3:PutBucketTagging',
      ],
      resources: [stateBucketArn],
    }));

    const checkDns = fn('CheckDnsFunction', 'check-dns', "Checks the domain's public hosted zone and its delegation");
    checkDns.addToRolePolicy(new iam.PolicyStatement({ actions: ['route53:ListHostedZonesByName'], resources: ['*'] }));
    checkDns.addToRolePolicy(new iam.PolicyStatement({ actions: ['route53:GetHostedZone'], resources: zoneArns }));

    const ensureSshKey = fn('EnsureSshKeyFunction', 'ensure-ssh-key', "Creates the fabric's SSH key once; the private half stays in Secrets Manager", {
      timeout: Duration.seconds(60),
      memorySize: 1024, // RSA 4096 generation is CPU-bound; CPU scales with memory.
    });
    ensureSshKey.addToRolePolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:CreateSecret', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:RestoreSecret', 'secretsmanager:TagResource'],
      resources: [secretArn('ssh-key')],
    }));

    const checkReadiness = fn('CheckReadinessFunction', 'check-readiness', 'Polls instances, API DNS and /readyz of a new cluster', {
      environment: { READINESS_DEADLINE_SECONDS: String(readinessDeadline.toSeconds()) },
    });
    checkReadiness.addToRolePolicy(new iam.PolicyStatement({ actions: ['autoscaling:DescribeAutoScalingGroups'], resources: ['*'] }));
    checkReadiness.addToRolePolicy(new iam.PolicyStatement({ actions: ['route53:ListResourceRecordSets'], resources: zoneArns }));
    checkReadiness.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secretArn('kubeconfig')] }));

    // It writes only while its execution holds the fabric's lock: it reads the lock item first.
    const recordFabric = fn('RecordFabricFunction', 'record-fabric', 'Writes the fabric record to the state bucket', {
      environment: { [LOCK_TABLE_ENV]: this.lockTable.tableName },
    });
    recordFabric.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [this.lockTable.tableArn] }));
    recordFabric.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [`${stateBucketArn}/fabrics/*`] }));
    recordFabric.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [stateBucketArn] }));

    const explainFailure = fn('ExplainFailureFunction', 'explain-failure', "Turns a failed build into a readable cause from its log");

    // It parks the run's task token on the lock item this execution holds, and announces the wait.
    const requestApproval = fn('RequestApprovalFunction', 'request-approval', 'Parks a planned run for approval and puts Fabric Awaiting Approval', {
      environment: { [LOCK_TABLE_ENV]: this.lockTable.tableName },
    });
    requestApproval.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [this.lockTable.tableArn] }));
    requestApproval.addToRolePolicy(new iam.PolicyStatement({
      actions: ['events:PutEvents'],
      resources: [`arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:event-bus/default`],
    }));

    const sweepFabrics = fn('SweepFabricsFunction', 'sweep-fabrics', 'Destroys fabrics whose lease ran out, warns before, starts drift checks', {
      timeout: Duration.minutes(5),
    });
    sweepFabrics.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListAllMyBuckets'], resources: ['*'] }));
    sweepFabrics.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [stateBucketArn] }));
    sweepFabrics.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`${stateBucketArn}/fabrics/*/fabric.json`] }));
    sweepFabrics.addToRolePolicy(new iam.PolicyStatement({
      actions: ['events:PutEvents'],
      resources: [`arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:event-bus/default`],
    }));

    this.functions = { validateSpec, discoverZones, ensureStateBucket, checkDns, ensureSshKey, checkReadiness, recordFabric, explainFailure, requestApproval, sweepFabrics };

    // Build jobs: the scripts and Terraform modules travel as one asset; the buildspec is in it.
    const jobSource = new assets.Asset(this, 'JobSource', {
      path: PROJECT_ROOT,
      exclude: ['*', '.*', '!buildspecs', '!buildspecs/**', '!terraform', '!terraform/**', 'terraform/**/.terraform', 'terraform/**/*.tfstate*'],
    });
    const buildKey = new kms.Key(this, 'BuildKey', {
      enableKeyRotation: true,
      description: 'Encrypts fabricctl build artifacts and logs',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const job = (id: string, buildspec: string, description: string, environmentVariables: Record<string, codebuild.BuildEnvironmentVariable> = {}) => {
      const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
      const project = new codebuild.Project(this, id, {
        description,
        source: codebuild.Source.s3({ bucket: jobSource.bucket, path: jobSource.s3ObjectKey }),
        buildSpec: codebuild.BuildSpec.fromSourceFilename(buildspec),
        environment: {
          buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
          computeType: props.buildComputeType ?? codebuild.ComputeType.SMALL,
        },
        environmentVariables,
        encryptionKey: buildKey,
        timeout: BUILD_TIMEOUT,
        queuedTimeout: BUILD_QUEUED_TIMEOUT,
        logging: { cloudWatch: { logGroup } },
      });
      jobSource.grantRead(project);
      return { project, logGroup };
    };
    const grants = { stateBucketArn, hostedZoneIds };
    const boundary = new NodeRoleBoundary(this, 'NodeRoleBoundary', grants);
    const network = job('NetworkProject', 'buildspecs/network.yml', 'Terraform: the fabric VPC, subnets and internet gateway');
    // A public checksum and a policy ARN, not secrets: plain text is right for them.
    const cluster = job('ClusterProject', 'buildspecs/cluster.yml', 'kops + Terraform: the highly available Kubernetes cluster', {
      ...(kopsSha256 === undefined ? {} : { [KOPS_SHA256_ENV]: { value: kopsSha256 } }),
      PERMISSIONS_BOUNDARY_ARN: { value: boundary.managedPolicyArn },
    });
    this.networkProject = network.project;
    this.clusterProject = cluster.project;
    grantNetworkBuilder(network.project, grants, logicalIdOf(network.project));
    grantClusterBuilder(cluster.project, { ...grants, boundary }, logicalIdOf(cluster.project));
    const buildRoles = [network.project, cluster.project].map((p) => p.role).filter((r): r is iam.IRole => r !== undefined);
    for (const [name, value] of Object.entries(stateReaderEnvironment(buildRoles, stateAdmins))) ensureStateBucket.addEnvironment(name, value);
    // Stale Terraform locks (lambdas/ensure-state-bucket/stale-locks.ts): it reads a lock, asks which
    // builds of the fabric still run, and deletes a lock no running build holds.
    ensureStateBucket.addEnvironment('NETWORK_PROJECT_NAME', network.project.projectName);
    ensureStateBucket.addEnvironment('CLUSTER_PROJECT_NAME', cluster.project.projectName);
    ensureStateBucket.addToRolePolicy(new iam.PolicyStatement({
      actions: ['codebuild:ListBuildsForProject', 'codebuild:BatchGetBuilds'],
      resources: [network.project.projectArn, cluster.project.projectArn],
    }));
    ensureStateBucket.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:DeleteObject'], resources: [`${stateBucketArn}/${STATE_LOCK_PATTERN}`] }));
    explainFailure.addToRolePolicy(new iam.PolicyStatement({
      actions: ['logs:GetLogEvents'],
      resources: [network.logGroup.logGroupArn, cluster.logGroup.logGroupArn].map((arn) => `${arn}:log-stream:*`),
    }));
    Validations.of(explainFailure).acknowledge(...[network.logGroup, cluster.logGroup].map((g) => ({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(g)}.Arn>:log-stream:*]`,
      reason: "ExplainFailure reads the failed build's stream, named after the build id, in the jobs' log groups only.",
    })));

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'fabricctl: provision, plan or destroy one fabric (VPC + kops HA cluster + DNS)',
      definitionBody: sfn.DefinitionBody.fromChainable(
        this.definition(pollInterval),
      ),
      timeout: executionTimeout,
      tracingEnabled: true,
      logs: {
        destination: new logs.LogGroup(this, 'StateMachineLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false, // execution data holds fabric specs; ALL events without data keeps secrets out by construction.
      },
    });
    sweepFabrics.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(sweepFabrics);
    this.scheduleSweeps(sweepFabrics, props.driftCheckSchedule);
    this.acknowledgeFindings();
  }

  /** EventBridge Scheduler: the lease sweep every 15 minutes, drift checks when asked for. */
  private scheduleSweeps(sweep: lambda.IFunction, driftCheckSchedule: string | undefined): void {
    const role = new iam.Role(this, 'SweepScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: 'EventBridge Scheduler: invokes the fabricctl sweep function',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(sweep)}.Arn>:*]`,
      reason: "The schedules invoke the sweep function's versions (Lambda's grantInvoke covers <arn>:*), and nothing else.",
    });
    const target = (task: SweepTask) => new schedulerTargets.LambdaInvoke(sweep, { input: scheduler.ScheduleTargetInput.fromObject({ task }), retryAttempts: 2, role });
    new scheduler.Schedule(this, 'LeaseSweep', {
      description: 'fabricctl: destroys fabrics whose lease ran out, warns before',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(LEASE_SWEEP_MINUTES)),
      target: target('leases'),
    });
    if (driftCheckSchedule !== undefined) {
      if (!/^(rate|cron)\(.+\)$/.test(driftCheckSchedule)) {
        throw new Error(`driftCheckSchedule must be an EventBridge Scheduler expression such as "rate(1 day)" or "cron(0 6 * * ? *)"; got ${JSON.stringify(driftCheckSchedule)}`);
      }
      new scheduler.Schedule(this, 'DriftCheck', {
        description: 'fabricctl: plans every READY fabric and reports drift',
        schedule: scheduler.ScheduleExpression.expression(driftCheckSchedule),
        target: target('drift'),
      });
    }
  }

  private definition(pollInterval: Duration): sfn.IChainable {
    const f = this.functions;
    const lambdaTask = (id: string, fn: lambda.IFunction, payload: Record<string, unknown>, resultPath: string | typeof sfn.JsonPath.DISCARD) => {
      const functionTimeout = (fn instanceof lambda.Function ? fn.timeout : undefined) ?? Duration.seconds(30);
      const task = new tasks.LambdaInvoke(this, id, {
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
    const failed = new sfn.Fail(this, 'FabricFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const emitFailed = new tasks.EventBridgePutEvents(this, 'EmitFabricFailed', {
      entries: [{
        source: EVENT_SOURCE,
        detailType: 'Fabric Failed',
        detail: sfn.TaskInput.fromObject({
          'name.$': '$.fabric.name',
          'execution.$': '$$.Execution.Id',
          'error.$': '$.error.Error',
          'cause.$': '$.error.Cause',
        }),
      }],
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
    const invalidFailed = new sfn.Fail(this, 'SpecRejected', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const emitInvalid = new tasks.EventBridgePutEvents(this, 'EmitSpecRejected', {
      entries: [{
        source: EVENT_SOURCE,
        detailType: 'Fabric Failed',
        detail: sfn.TaskInput.fromObject({ 'execution.$': '$$.Execution.Id', 'error.$': '$.error.Error', 'cause.$': '$.error.Cause' }),
      }],
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout: sfn.Timeout.duration(SERVICE_TASK_TIMEOUT),
    });
    emitInvalid.addRetry(EVENTS_RETRY);
    emitInvalid.addCatch(invalidFailed, { resultPath: '$.failurePath.emit' });
    emitInvalid.next(invalidFailed);

    // ---- 1. validate ----
    const validate = lambdaTask('ValidateSpec', f.validateSpec, {
      'input.$': '$',
      'execution.$': '$$.Execution.Id',
      'startedAt.$': '$$.Execution.StartTime',
    }, '$.fabric');
    validate.addCatch(emitInvalid, { resultPath: '$.error' });

    // ---- 2. lock ----
    const acquireLock = new tasks.DynamoPutItem(this, 'AcquireLock', {
      table: this.lockTable,
      item: {
        fabric: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.fabric.name')),
        holder: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.fabric.execution')),
        expiresAt: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.fabric.lock.expiresAt')),
        ttl: tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.fabric.lock.ttl'))),
        action: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.fabric.action')),
      },
      // Free, ours already (a redriven run), or left behind by a run that was aborted and had
      // expired before this one started.
      conditionExpression: 'attribute_not_exists(fabric) OR holder = :me OR expiresAt < :started',
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
    const readHolder = new tasks.DynamoGetItem(this, 'ReadLockHolder', {
      table: this.lockTable,
      key: { fabric: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.fabric.name')) },
      resultSelector: { 'holder.$': '$.Item.holder.S', 'expiresAt.$': '$.Item.expiresAt.S' },
      resultPath: '$.lockHolder',
      taskTimeout: sfn.Timeout.duration(SERVICE_TASK_TIMEOUT),
    });
    readHolder.addRetry(DYNAMODB_TRANSIENT_RETRY);
    const busy = new sfn.Pass(this, 'FabricBusy', {
      parameters: {
        Error: 'FabricBusy',
        'Cause.$': "States.Format('fabric {} is locked by execution {} until {}; wait for it to finish or stop it, then retry', $.fabric.name, $.lockHolder.holder, $.lockHolder.expiresAt)",
      },
      resultPath: '$.error',
    });
    acquireLock.addCatch(readHolder, { errors: ['DynamoDB.ConditionalCheckFailedException'], resultPath: '$.error' });
    onFailure(acquireLock);
    readHolder.addCatch(explain, { resultPath: '$.failurePath.readHolder' });
    readHolder.next(busy);
    busy.next(explain);

    // ---- 3. prepare, in parallel ----
    const skipDns = new sfn.Pass(this, 'SkipDnsCheck', {
      comment: 'Teardown must not depend on the domain still being delegated.',
      result: sfn.Result.fromObject({ hostedZoneId: '', nameServers: [], skipped: true }),
    });
    const checkDns = lambdaTask('CheckDns', f.checkDns, fabricOnly, '$');
    // A resolver timeout or SERVFAIL is transient; a wrong delegation (DnsNotDelegated) is not.
    checkDns.addRetry({ errors: ['DnsLookupFailed'], interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 3 });
    const dnsBranch = new sfn.Choice(this, 'NeedsDnsCheck')
      .when(sfn.Condition.stringEquals('$.fabric.action', 'destroy'), skipDns)
      .otherwise(checkDns);
    const prepare = new sfn.Parallel(this, 'Prepare', {
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
    const networkJob = this.buildTask('NetworkJob', this.networkProject, 'provision', '$.jobs.network', { APPROVED_PLAN_DIGEST: '$.approvedPlan.network' });
    const clusterJob = this.buildTask('ClusterJob', this.clusterProject, 'provision', '$.jobs.cluster', {
      VPC_ID: '$.jobs.network.result.vpcId',
      SUBNET_IDS_CSV: '$.jobs.network.result.subnetIdsCsv',
      SSH_PUBLIC_KEY: '$.sshKey.publicKey',
      APPROVED_PLAN_DIGEST: '$.approvedPlan.cluster',
    });
    // CheckReadiness starts the deadline clock on its first call (no startedAt yet).
    const initReadiness = new sfn.Pass(this, 'StartReadinessClock', {
      result: sfn.Result.fromObject({ ready: false, attempts: 0 }),
      resultPath: '$.readiness',
    });
    const checkReadiness = lambdaTask('CheckReadiness', f.checkReadiness, {
      'fabric.$': '$.fabric',
      'prepared.$': '$.prepared',
      'cluster.$': '$.jobs.cluster.result',
      'readiness.$': '$.readiness',
    }, '$.readiness');
    onFailure(checkReadiness);
    const waitForCluster = new sfn.Wait(this, 'WaitBeforeNextCheck', { time: sfn.WaitTime.duration(pollInterval) });
    const recordReady = lambdaTask('RecordReady', f.recordFabric, { status: 'READY', 'state.$': '$' }, '$.record');
    onFailure(recordReady);
    const releaseReady = this.releaseLock('ReleaseLock');
    onFailure(releaseReady);
    const emitReady = this.emitEvent('EmitFabricReady', 'Fabric Ready', {
      'clusterName.$': '$.fabric.clusterName',
      'zones.$': '$.prepared.zones.zones',
      'vpcId.$': '$.jobs.network.result.vpcId',
    });
    onFailure(emitReady);
    const ready = new sfn.Succeed(this, 'FabricReady', { outputPath: '$.record' });
    // ---- approval gate: plan, record AWAITING_APPROVAL, wait for the task token ----
    const recordProvisioning = lambdaTask('RecordProvisioning', f.recordFabric, { status: 'PROVISIONING', 'state.$': '$' }, sfn.JsonPath.DISCARD);
    onFailure(recordProvisioning);
    const planNetworkForApproval = this.buildTask('PlanNetworkForApproval', this.networkProject, 'plan', '$.jobs.network', {});
    const planClusterForApproval = this.buildTask('PlanClusterForApproval', this.clusterProject, 'plan', '$.jobs.cluster', {
      VPC_ID: '$.jobs.network.result.vpcId',
      SUBNET_IDS_CSV: '$.jobs.network.result.subnetIdsCsv',
      SSH_PUBLIC_KEY: '$.sshKey.publicKey',
    });
    const recordAwaiting = lambdaTask('RecordAwaitingApproval', f.recordFabric, { status: 'AWAITING_APPROVAL', 'state.$': '$' }, sfn.JsonPath.DISCARD);
    const waitForApproval = new tasks.LambdaInvoke(this, 'WaitForApproval', {
      lambdaFunction: f.requestApproval,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({ taskToken: sfn.JsonPath.taskToken, 'state.$': '$' }),
      resultPath: '$.approvalDecision',
      // ValidateSpec sets it: the run's approvalTimeout, at most the stack's.
      taskTimeout: sfn.Timeout.at('$.fabric.approval.timeoutSeconds'),
    });
    waitForApproval.addRetry(LAMBDA_THROTTLE_RETRY);
    const approvalTimedOut = new sfn.Pass(this, 'ApprovalTimedOut', {
      parameters: {
        Error: 'ApprovalTimedOut',
        'Cause.$': "States.Format('nobody approved or rejected the plan of fabric {} within {} seconds; nothing was applied. Run the provision again and approve it with fabricctl approve {}', $.fabric.name, $.fabric.approval.timeoutSeconds, $.fabric.name)",
      },
      resultPath: '$.error',
    });
    waitForApproval.addCatch(approvalTimedOut, { errors: [sfn.Errors.TIMEOUT], resultPath: '$.timeout' });
    approvalTimedOut.next(explain);
    const approvedPlan = new sfn.Pass(this, 'HoldApprovedPlan', {
      comment: 'The jobs apply only a plan with these digests (buildspecs/scripts/lib.sh require_approved_plan).',
      parameters: { 'network.$': '$.jobs.network.result.planDigest', 'cluster.$': '$.jobs.cluster.result.planDigest' },
      resultPath: '$.approvedPlan',
    });
    const recordApproved = lambdaTask('RecordApproved', f.recordFabric, { status: 'PROVISIONING', 'state.$': '$' }, sfn.JsonPath.DISCARD);
    const noApproval = new sfn.Pass(this, 'NoApprovalNeeded', {
      result: sfn.Result.fromObject({ network: '', cluster: '' }),
      resultPath: '$.approvedPlan',
    });
    for (const state of [planNetworkForApproval, planClusterForApproval, recordAwaiting, waitForApproval, recordApproved]) onFailure(state);
    planNetworkForApproval.next(planClusterForApproval).next(recordAwaiting).next(waitForApproval).next(approvedPlan).next(recordApproved).next(networkJob);
    noApproval.next(networkJob);

    networkJob
      .next(clusterJob)
      .next(initReadiness)
      .next(checkReadiness)
      .next(new sfn.Choice(this, 'IsClusterReady')
        .when(sfn.Condition.booleanEquals('$.readiness.ready', true), recordReady.next(releaseReady).next(emitReady).next(ready))
        .otherwise(waitForCluster.next(checkReadiness)));
    const provision = recordProvisioning
      .next(sshKey)
      .next(new sfn.Choice(this, 'NeedsApproval')
        .when(sfn.Condition.booleanEquals('$.fabric.approval.required', true), planNetworkForApproval)
        .otherwise(noApproval));

    // ---- plan: jobs plan, nothing applied ----
    const planNetwork = this.buildTask('PlanNetworkJob', this.networkProject, 'plan', '$.jobs.network', {});
    const planCluster = this.buildTask('PlanClusterJob', this.clusterProject, 'plan', '$.jobs.cluster', {
      VPC_ID: '$.jobs.network.result.vpcId',
      SUBNET_IDS_CSV: '$.jobs.network.result.subnetIdsCsv',
    });
    const releasePlan = this.releaseLock('ReleaseLockAfterPlan');
    onFailure(releasePlan);
    const planned = new sfn.Pass(this, 'PlanSummary', {
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
    const emitDrifted = this.emitEvent('EmitFabricDrifted', 'Fabric Drifted', { 'summary.$': '$.record.drift.summary' });
    onFailure(emitDrifted);
    const driftCheck = recordDrift.next(new sfn.Choice(this, 'HasDrifted')
      .when(sfn.Condition.booleanEquals('$.record.drift.drifted', true), emitDrifted.next(releasePlan))
      .otherwise(releasePlan));
    const plan = planNetwork
      .next(planCluster)
      .next(new sfn.Choice(this, 'IsDriftCheck')
        .when(sfn.Condition.and(sfn.Condition.isPresent('$.fabric.check'), sfn.Condition.stringEquals('$.fabric.check', 'drift')), driftCheck)
        .otherwise(releasePlan));
    releasePlan.next(planned).next(new sfn.Succeed(this, 'Planned'));

    // ---- destroy: cluster first, then network; the state bucket and its versions stay ----
    const destroyCluster = this.buildTask('DestroyClusterJob', this.clusterProject, 'destroy', '$.jobs.cluster', {});
    const destroyNetwork = this.buildTask('DestroyNetworkJob', this.networkProject, 'destroy', '$.jobs.network', {});
    const recordDestroyed = lambdaTask('RecordDestroyed', f.recordFabric, { status: 'DESTROYED', 'state.$': '$' }, '$.record');
    onFailure(recordDestroyed);
    const releaseDestroyed = this.releaseLock('ReleaseLockAfterDestroy');
    onFailure(releaseDestroyed);
    const emitDestroyed = this.emitEvent('EmitFabricDestroyed', 'Fabric Destroyed', { 'clusterName.$': '$.fabric.clusterName' });
    onFailure(emitDestroyed);
    const recordDestroying = lambdaTask('RecordDestroying', f.recordFabric, { status: 'DESTROYING', 'state.$': '$' }, sfn.JsonPath.DISCARD);
    onFailure(recordDestroying);
    const destroy = recordDestroying.next(destroyCluster).next(destroyNetwork).next(recordDestroyed).next(releaseDestroyed).next(emitDestroyed)
      .next(new sfn.Succeed(this, 'FabricDestroyed', { outputPath: '$.record' }));

    for (const state of [networkJob, clusterJob, planNetwork, planCluster, destroyCluster, destroyNetwork]) onFailure(state);

    // ---- extend: only the record's lease moves; nothing is prepared or built ----
    const recordLease = lambdaTask('RecordLease', f.recordFabric, { 'state.$': '$' }, '$.record');
    onFailure(recordLease);
    const releaseExtended = this.releaseLock('ReleaseLockAfterExtend');
    onFailure(releaseExtended);
    const extend = recordLease.next(releaseExtended).next(new sfn.Succeed(this, 'LeaseExtended', { outputPath: '$.record' }));

    return validate
      .next(acquireLock)
      .next(new sfn.Choice(this, 'IsLeaseExtension')
        .when(sfn.Condition.stringEquals('$.fabric.action', 'extend'), extend)
        .otherwise(prepare
          .next(new sfn.Choice(this, 'ChooseAction')
            .when(sfn.Condition.stringEquals('$.fabric.action', 'destroy'), destroy)
            .when(sfn.Condition.stringEquals('$.fabric.action', 'plan'), plan)
            .otherwise(provision))));
  }

  /** Deletes the lock only if this execution holds it; a FabricBusy run must not free another's lock. */
  private releaseLock(id: string): tasks.DynamoDeleteItem {
    const release = new tasks.DynamoDeleteItem(this, id, {
      table: this.lockTable,
      key: { fabric: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.fabric.name')) },
      conditionExpression: 'holder = :me',
      expressionAttributeValues: { ':me': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.fabric.execution')) },
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout: sfn.Timeout.duration(SERVICE_TASK_TIMEOUT),
    });
    release.addRetry(DYNAMODB_TRANSIENT_RETRY);
    return release;
  }

  private emitEvent(id: string, detailType: string, extra: Record<string, string>): tasks.EventBridgePutEvents {
    const emit = new tasks.EventBridgePutEvents(this, id, {
      entries: [{
        source: EVENT_SOURCE,
        detailType,
        detail: sfn.TaskInput.fromObject({ 'name.$': '$.fabric.name', 'execution.$': '$$.Execution.Id', ...extra }),
      }],
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout: sfn.Timeout.duration(SERVICE_TASK_TIMEOUT),
    });
    emit.addRetry(EVENTS_RETRY);
    return emit;
  }

  /**
   * A build task that waits for the build (RUN_JOB). Per-run values go in as environment overrides;
   * the job's one exported variable `FABRIC_RESULT` (JSON) comes back parsed at `resultPath.result`.
   */
  private buildTask(id: string, project: codebuild.IProject, action: RunAction, resultPath: string, extra: Record<string, string>): tasks.CodeBuildStartBuild {
    const env: Record<string, codebuild.BuildEnvironmentVariable> = {};
    // Every variable of the validated fabric's `buildEnv` (contract.ts BUILD_ENV_NAMES).
    for (const name of BUILD_ENV_NAMES) env[name] = { value: sfn.JsonPath.stringAt(`$.fabric.buildEnv.${name}`) };
    env.ACTION = { value: action };
    env.STATE_BUCKET = { value: sfn.JsonPath.stringAt('$.prepared.stateBucket.bucket') };
    env.STATE_BUCKET_EXISTS = { value: sfn.JsonPath.format('{}', sfn.JsonPath.stringAt('$.prepared.stateBucket.exists')) };
    env.ZONES_CSV = { value: sfn.JsonPath.stringAt('$.prepared.zones.zonesCsv') };
    env.EXECUTION_ID = { value: sfn.JsonPath.stringAt('$$.Execution.Id') };
    for (const [name, jsonPath] of Object.entries(extra)) env[name] = { value: sfn.JsonPath.stringAt(jsonPath) };
    const task = new tasks.CodeBuildStartBuild(this, id, {
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
    task.addRetry({ errors: ['CodeBuild.CodeBuildException', 'CodeBuild.AccountLimitExceededException'], interval: Duration.seconds(10), backoffRate: 2, maxAttempts: 4 });
    return task;
  }

  private acknowledgeFindings(): void {
    const functions = Object.values(this.functions) as lambda.IFunction[];
    Validations.of(this.stateMachine).acknowledge(...functions.map((f) => ({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(f)}.Arn>:*]`,
      reason: 'The state machine may invoke any version of its own functions (the LambdaInvoke grant).',
    })), {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: "The state machine's log delivery (logs:*LogDelivery*, DescribeLogGroups, PutResourcePolicy) and X-Ray trace writes have no resource-level permissions.",
    });
    // Each function names the findings of its own grants (the build projects: lib/build-grants.ts).
    const f = this.functions;
    const bucket = `arn:<AWS::Partition>:s3:::${this.stateBucketPrefix}-<AWS::AccountId>-*`;
    const ack = (fn: lambda.IFunction, finding: string, reason: string) => Validations.of(fn).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    for (const fn of [f.validateSpec, f.discoverZones, f.recordFabric, f.ensureStateBucket]) {
      ack(fn, `Resource::${bucket}`, 'State buckets are created per fabric region at run time; the pattern matches only our prefix and account.');
    }
    ack(f.ensureStateBucket, `Resource::${bucket}/${STATE_LOCK_PATTERN}`, "Only Terraform's lock objects (<state key>.tflock) of the run-time state buckets: stale ones are released.");
    for (const fn of [f.validateSpec, f.discoverZones, f.recordFabric]) {
      ack(fn, `Resource::${bucket}/fabrics/*`, 'Fabric records live at fabrics/<name>/fabric.json of the run-time state buckets; the name is known at run time.');
    }
    ack(f.sweepFabrics, `Resource::${bucket}`, 'The sweep lists the fabric records of every state bucket (one per region, created at run time).');
    ack(f.sweepFabrics, `Resource::${bucket}/fabrics/*/fabric.json`, 'The sweep reads fabric records only (fabrics/<name>/fabric.json), never state or kops secrets.');
    ack(f.sweepFabrics, 'Resource::*', 's3:ListAllMyBuckets has no resource-level permission: the sweep finds the state buckets of each region by name.');
    ack(f.ensureSshKey, 'Resource::arn:<AWS::Partition>:secretsmanager:*:<AWS::AccountId>:secret:fabricctl/*/ssh-key-??????', "Each fabric's SSH key, fabricctl/<name>/ssh-key; the name is known at run time.");
    ack(f.checkReadiness, 'Resource::arn:<AWS::Partition>:secretsmanager:*:<AWS::AccountId>:secret:fabricctl/*/kubeconfig-??????', "Each fabric's admin kubeconfig, fabricctl/<name>/kubeconfig; the name is known at run time.");
    if (this.hostedZoneIds.length === 0) {
      for (const fn of [f.checkDns, f.checkReadiness]) {
        ack(fn, 'Resource::arn:<AWS::Partition>:route53:::hostedzone/*', "No hostedZoneIds given: the domain's zone is found at run time from the spec (read-only here).");
      }
    }
  }
}

/** Terraform's lock objects of the fabrics' states: `fabrics/<name>/<network|cluster>.tfstate.tflock`. */
const STATE_LOCK_PATTERN = 'fabrics/*/*.tfstate.tflock';

/** How cdk-nag names a construct's resource in a finding: its logical id. */
export function logicalIdOf(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

/** Hosted zone ids as Route 53 shows them (`Z...`, or `/hostedzone/Z...`), without the prefix. */
function checkHostedZoneIds(ids: readonly string[] | undefined): string[] {
  const bare = (ids ?? []).map((id) => id.replace(/^\/?hostedzone\//, ''));
  for (const id of bare) {
    if (!/^Z[A-Z0-9]{1,31}$/.test(id)) throw new Error(`hostedZoneIds must be Route 53 hosted zone ids such as Z0123456789ABCDEFGHIJ; got ${JSON.stringify(id)}`);
  }
  return bare;
}

/** Principal ARNs for `aws:PrincipalArn` (wildcards allowed), checked before they reach a bucket policy. */
function checkPrincipalArns(arns: readonly string[] | undefined): string[] {
  for (const arn of arns ?? []) {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:(root|(role|user)\/[\w+=,.@\/*-]+)$/.test(arn)) {
      throw new Error(`stateAdminPrincipalArns must be IAM role or user ARNs such as arn:aws:iam::123456789012:role/Admin; got ${JSON.stringify(arn)}`);
    }
  }
  return [...(arns ?? [])];
}
