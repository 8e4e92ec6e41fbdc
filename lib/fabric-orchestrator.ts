import { Aws, Duration, Names, RemovalPolicy, Validations } from 'aws-cdk-lib';
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
import { Construct } from 'constructs';
import { BUILD_COMPUTE_ENV, type BuildCompute } from './domain/contract';
import { EVENT_SOURCE } from './domain/events';
import { DEFAULT_BUCKET_PREFIX } from './domain/naming';
import { LEASE_SWEEP_MINUTES, type SweepTask } from './domain/leases';
import { acknowledgeSharedRole, grantClusterBuilder, grantNetworkBuilder, NodeRoleBoundary, stateReaderEnvironment } from './build-grants';
import { PROJECT_ROOT } from './fabric-function';
import { JOB_SOURCE_EXCLUDES } from './job-source';
import { checkKopsSha256, KOPS_SHA256_ENV } from './kops-checksum';
import { logicalIdOf } from './logical-id';
import { acknowledgeOrchestratorFindings } from './nag-acknowledgements';
import { createFabricFunctions, STATE_LOCK_PATTERN } from './orchestrator-functions';
import { BUILD_QUEUED_TIMEOUT, BUILD_TIMEOUT, FabricWorkflow } from './workflow';
import { LOCK_ATTRIBUTE } from './domain/lock';

export { EVENT_SOURCE };

/**
 * Memory (and with it vCPUs) of the Lambda-compute builds: Terraform's AWS provider and kops each
 * take a few hundred MB; 4 GB leaves room for both and buys the CPU Terraform's plan uses.
 */
const LAMBDA_BUILD_COMPUTE = codebuild.ComputeType.LAMBDA_4GB;
export { BUILD_TASK_TIMEOUT, LAMBDA_THROTTLE_RETRY } from './workflow';

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
   * Create a new fabric's network and cluster with CodeBuild's Lambda compute, which starts a build in
   * seconds instead of the minute and more an EC2 build spends provisioning (README.md, Speed).
   * Only builds that cannot roll instances go there (ValidatedFabric.buildCompute): Lambda compute
   * ends a build at 15 minutes. Turn it off where the stack's region has no CodeBuild Lambda compute
   * (context key `fabricctl:lambdaBuilds` = `false`); every build then runs on EC2.
   * @default true
   */
  readonly lambdaBuilds?: boolean;
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
  /** The same jobs on Lambda compute, for new fabrics (`lambdaBuilds`); undefined when turned off. */
  public readonly networkLambdaProject?: codebuild.Project;
  public readonly clusterLambdaProject?: codebuild.Project;
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
      throw new Error(
        `approvalTimeout must be at least 1 minute and leave executionTimeout (${executionTimeout.toHumanString()}) ` +
          `${Math.ceil(afterApproval / 60)} minutes for the builds and readiness after it; raise executionTimeout for longer approvals`,
      );
    }
    this.stateBucketPrefix = prefix;
    const hostedZoneIds = checkHostedZoneIds(props.hostedZoneIds);
    this.hostedZoneIds = hostedZoneIds;
    const stateAdmins = checkPrincipalArns(props.stateAdminPrincipalArns);
    const zoneArns = (hostedZoneIds.length === 0 ? ['*'] : hostedZoneIds).map((id) => `arn:${Aws.PARTITION}:route53:::hostedzone/${id}`);

    // State buckets are created per fabric region at run time; these ARNs cover exactly those names.
    const stateBucketArn = `arn:${Aws.PARTITION}:s3:::${prefix}-${Aws.ACCOUNT_ID}-*`;

    this.lockTable = new dynamodb.TableV2(this, 'LockTable', {
      partitionKey: { name: LOCK_ATTRIBUTE.fabric, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: LOCK_ATTRIBUTE.ttl,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const functions = createFabricFunctions(this, {
      prefix,
      stateBucketArn,
      zoneArns,
      hostedZoneIds,
      lockTable: this.lockTable,
      executionTimeout,
      approvalTimeout,
      readinessDeadline,
      codeCommitRepositoryName: props.codeCommitRepositoryName,
    });
    this.functions = functions;
    const { ensureStateBucket, explainFailure, sweepFabrics } = functions;

    // Build jobs: the scripts and Terraform modules travel as one asset; the buildspec is in it.
    const jobSource = new assets.Asset(this, 'JobSource', {
      path: PROJECT_ROOT,
      exclude: [...JOB_SOURCE_EXCLUDES],
    });
    const lambdaBuilds = props.lambdaBuilds ?? true;
    const buildKey = new kms.Key(this, 'BuildKey', {
      enableKeyRotation: true,
      description: 'Encrypts fabricctl build artifacts and logs',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const job = (
      id: string,
      buildspec: string,
      description: string,
      environmentVariables: Record<string, codebuild.BuildEnvironmentVariable> = {},
    ) => {
      const logGroup = new logs.LogGroup(this, `${id}Logs`, {
        retention: logs.RetentionDays.THREE_MONTHS,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const common = {
        source: codebuild.Source.s3({ bucket: jobSource.bucket, path: jobSource.s3ObjectKey }),
        buildSpec: codebuild.BuildSpec.fromSourceFilename(buildspec),
        encryptionKey: buildKey,
        logging: { cloudWatch: { logGroup } },
      };
      const project = new codebuild.Project(this, id, {
        ...common,
        description,
        environment: {
          buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
          computeType: props.buildComputeType ?? codebuild.ComputeType.SMALL,
        },
        environmentVariables: { ...environmentVariables, [BUILD_COMPUTE_ENV]: { value: 'ec2' satisfies BuildCompute } },
        timeout: BUILD_TIMEOUT,
        queuedTimeout: BUILD_QUEUED_TIMEOUT,
      });
      jobSource.grantRead(project);
      // The same job on Lambda compute: same role, source, key and log group; no timeouts of its own
      // (Lambda compute takes none: a build ends at 15 minutes). x86_64, as install-tools.sh downloads.
      const lambdaProject = lambdaBuilds
        ? new codebuild.Project(this, id.replace(/Project$/, 'LambdaProject'), {
            ...common,
            description: `${description} (new fabrics, on Lambda compute)`,
            role: project.role,
            environment: { buildImage: codebuild.LinuxLambdaBuildImage.AMAZON_LINUX_2023_NODE_22, computeType: LAMBDA_BUILD_COMPUTE },
            environmentVariables: { ...environmentVariables, [BUILD_COMPUTE_ENV]: { value: 'lambda' satisfies BuildCompute } },
          })
        : undefined;
      return { project, lambdaProject, projects: lambdaProject ? [project, lambdaProject] : [project], logGroup };
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
    this.networkLambdaProject = network.lambdaProject;
    this.clusterLambdaProject = cluster.lambdaProject;
    const allProjects = [...network.projects, ...cluster.projects];
    grantNetworkBuilder(network.project, grants, logicalIdOf(network.project));
    grantClusterBuilder(cluster.project, { ...grants, boundary }, logicalIdOf(cluster.project));
    for (const { project, lambdaProject } of [network, cluster]) if (lambdaProject) acknowledgeSharedRole(project, lambdaProject);
    const buildRoles = [network.project, cluster.project].map((p) => p.role).filter((r): r is iam.IRole => r !== undefined);
    for (const [name, value] of Object.entries(stateReaderEnvironment(buildRoles, stateAdmins)))
      ensureStateBucket.addEnvironment(name, value);
    // Stale Terraform locks (lambdas/ensure-state-bucket/stale-locks.ts): it reads a lock, asks which
    // builds of the fabric still run, and deletes a lock no running build holds.
    ensureStateBucket.addEnvironment('BUILD_PROJECT_NAMES', allProjects.map((p) => p.projectName).join(','));
    ensureStateBucket.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['codebuild:ListBuildsForProject', 'codebuild:BatchGetBuilds'],
        resources: allProjects.map((p) => p.projectArn),
      }),
    );
    ensureStateBucket.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:DeleteObject'], resources: [`${stateBucketArn}/${STATE_LOCK_PATTERN}`] }),
    );
    // A log group's Arn attribute ends in `:*`, which matches its streams (`...:log-group:<name>:log-stream:<id>`):
    // ExplainFailure reads the failed build's stream in the jobs' two log groups only.
    for (const group of [network.logGroup, cluster.logGroup]) group.grant(explainFailure, 'logs:GetLogEvents');

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'fabricctl: provision, plan or destroy one fabric (VPC + kops HA cluster + DNS)',
      definitionBody: sfn.DefinitionBody.fromChainable(new FabricWorkflow(this, this).definition(pollInterval)),
      timeout: executionTimeout,
      tracingEnabled: true,
      logs: {
        destination: new logs.LogGroup(this, 'StateMachineLogs', {
          // Under /aws/vendedlogs/ Step Functions need not add the group to the account's CloudWatch
          // Logs resource policy, whose 5,120 characters a busy account fills (Step Functions'
          // developer guide, "Using CloudWatch Logs ... best practices").
          logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200 })}`,
          retention: logs.RetentionDays.THREE_MONTHS,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false, // execution data holds fabric specs; ALL events without data keeps secrets out by construction.
      },
    });
    sweepFabrics.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(sweepFabrics);
    this.scheduleSweeps(sweepFabrics, props.driftCheckSchedule);
    acknowledgeOrchestratorFindings(this);
  }

  /** EventBridge Scheduler: the lease sweep every 15 minutes, drift checks when asked for. */
  private scheduleSweeps(sweep: lambda.IFunction, driftCheckSchedule: string | undefined): void {
    const role = new iam.Role(this, 'SweepScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'EventBridge Scheduler: invokes the fabricctl sweep function',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(sweep)}.Arn>:*]`,
      reason: "The schedules invoke the sweep function's versions (Lambda's grantInvoke covers <arn>:*), and nothing else.",
    });
    const target = (task: SweepTask) =>
      new schedulerTargets.LambdaInvoke(sweep, { input: scheduler.ScheduleTargetInput.fromObject({ task }), retryAttempts: 2, role });
    new scheduler.Schedule(this, 'LeaseSweep', {
      description: 'fabricctl: destroys fabrics whose lease ran out, warns before',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(LEASE_SWEEP_MINUTES)),
      target: target('leases'),
    });
    if (driftCheckSchedule !== undefined) {
      if (!/^(rate|cron)\(.+\)$/.test(driftCheckSchedule)) {
        throw new Error(
          'driftCheckSchedule must be an EventBridge Scheduler expression such as "rate(1 day)" or "cron(0 6 * * ? *)"; ' +
            `got ${JSON.stringify(driftCheckSchedule)}`,
        );
      }
      new scheduler.Schedule(this, 'DriftCheck', {
        description: 'fabricctl: plans every READY fabric and reports drift',
        schedule: scheduler.ScheduleExpression.expression(driftCheckSchedule),
        target: target('drift'),
      });
    }
  }
}

export { logicalIdOf };

/** Hosted zone ids as Route 53 shows them (`Z...`, or `/hostedzone/Z...`), without the prefix. */
function checkHostedZoneIds(ids: readonly string[] | undefined): string[] {
  const bare = (ids ?? []).map((id) => id.replace(/^\/?hostedzone\//, ''));
  for (const id of bare) {
    if (!/^Z[A-Z0-9]{1,31}$/.test(id))
      throw new Error(`hostedZoneIds must be Route 53 hosted zone ids such as Z0123456789ABCDEFGHIJ; got ${JSON.stringify(id)}`);
  }
  return bare;
}

/** Principal ARNs for `aws:PrincipalArn` (wildcards allowed), checked before they reach a bucket policy. */
function checkPrincipalArns(arns: readonly string[] | undefined): string[] {
  for (const arn of arns ?? []) {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:(root|(role|user)\/[\w+=,.@/*-]+)$/.test(arn)) {
      throw new Error(
        `stateAdminPrincipalArns must be IAM role or user ARNs such as arn:aws:iam::123456789012:role/Admin; got ${JSON.stringify(arn)}`,
      );
    }
  }
  return [...(arns ?? [])];
}
