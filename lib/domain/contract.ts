import type { FabricSpec, FabricSpecInput } from './spec';

/**
 * The data that flows through the state machine, state by state. Each Lambda's input and output
 * is declared here so the construct, the handlers and the local runner agree on one shape.
 * Paths are JSONPath locations in the execution's state document.
 */

/** What a run does; `extend` only moves a leased fabric's expiry. */
export const FABRIC_ACTIONS = ['provision', 'plan', 'destroy', 'extend'] as const;
export type FabricAction = (typeof FABRIC_ACTIONS)[number];
/** The actions that run the build jobs (extend only writes the record). */
export type RunAction = Exclude<FabricAction, 'extend'>;
/** CodeBuild compute of a run's provision builds (ValidatedFabric.buildCompute). */
export type BuildCompute = 'lambda' | 'ec2';
/** CodeBuild ends a build on Lambda compute at 15 minutes (its projects take no timeout of their own). */
export const LAMBDA_COMPUTE_MINUTES = 15;
/** Set on each build project: the compute its builds run on (cluster.sh refuses to roll on `lambda`). */
export const BUILD_COMPUTE_ENV = 'BUILD_COMPUTE';

/** Where a spec came from when a git push started the run. */
export interface SpecSource {
  readonly provider: 'codecommit' | 'github';
  /** CodeCommit repository name, or GitHub `owner/repo`. */
  readonly repository: string;
  readonly branch: string;
  readonly commit: string;
}

/** The execution input (console, CLI, start-execution, EventBridge). Validated by `executionInputSchema`. */
export interface ExecutionInput {
  readonly action?: FabricAction;
  readonly spec?: FabricSpecInput;
  /** destroy only: the fabric to destroy when no spec is given (its record supplies the spec). */
  readonly name?: string;
  /** destroy only: with `name`, the fabric's region. @default us-east-2 */
  readonly region?: string;
  /** destroy only: must equal the fabric's normalised name. */
  readonly confirm?: string;
  readonly source?: SpecSource;
  /** provision only: stop after the plan for approval. */
  readonly approve?: 'required';
  /** provision only: how long to wait for the approval (at most the stack's approval timeout). */
  readonly approvalTimeout?: string;
  /** extend only: how much longer the lease runs, e.g. `24h`. */
  readonly extendBy?: string;
  /** plan only: `drift` plans the recorded spec and reports `Fabric Drifted` when it is not empty. */
  readonly check?: 'drift';
}

/** `ValidateSpec` payload: `{ input: $, execution: $$.Execution.Id, startedAt: $$.Execution.StartTime }`. */
export interface ValidateSpecEvent {
  readonly input: unknown;
  readonly execution: string;
  readonly startedAt: string;
}

/** `ValidateSpec` result, stored at `$.fabric`. */
export interface ValidatedFabric {
  readonly action: FabricAction;
  readonly name: string;
  readonly region: string;
  readonly clusterName: string;
  readonly spec: FabricSpec;
  readonly execution: string;
  /** The state bucket this fabric's state lives in (derived, not necessarily created yet). */
  readonly stateBucket: string;
  readonly lock: {
    /** ISO time after which another execution may take the lock over. */
    readonly expiresAt: string;
    /** The same time in epoch seconds, for DynamoDB TTL. */
    readonly ttl: number;
  };
  readonly source?: SpecSource;
  /** provision: whether the run stops after the plan, and how long it waits there (TimeoutSecondsPath). */
  readonly approval: { readonly required: boolean; readonly timeoutSeconds: number };
  /** The lease after this run (`expiresAfter` fabrics and `extend` runs); absent: the fabric never expires. */
  readonly lease?: Lease;
  /** plan: `drift` when a sweep asked whether the cloud still matches the recorded spec. */
  readonly check?: 'drift';
  /** provision: the recorded Kubernetes version when this run changes it. */
  readonly upgradeFrom?: string;
  /**
   * Where this run's provision builds run (README.md, Speed). `lambda`: CodeBuild's Lambda compute,
   * which starts in seconds but ends a build at 15 minutes; only the provision of a fabric with no
   * cluster yet, which never rolls instances. `ec2`: everything else (updates may roll for an hour).
   */
  readonly buildCompute: BuildCompute;
  /** Per-run values for the build jobs, all strings (CodeBuild environment overrides take strings). */
  readonly buildEnv: BuildEnvironment;
}

/** Per-run environment of both build jobs. Names are the variable names the scripts read. */
export interface BuildEnvironment {
  readonly FABRIC_NAME: string;
  readonly CLUSTER_NAME: string;
  readonly DOMAIN: string;
  readonly FABRIC_REGION: string;
  readonly NETWORK_CIDR: string;
  readonly KUBERNETES_VERSION: string;
  readonly NETWORKING: string;
  readonly CONTROL_PLANE_SIZE: string;
  readonly NODE_SIZE: string;
  readonly NODE_MIN: string;
  readonly NODE_MAX: string;
  /** Comma-separated CIDRs. */
  readonly API_ACCESS: string;
  /** Comma-separated CIDRs; empty means SSH closed. */
  readonly SSH_ACCESS: string;
  /** JSON object of tags. */
  readonly TAGS_JSON: string;
  /** Secrets Manager name the cluster job stores the admin kubeconfig under. */
  readonly KUBECONFIG_SECRET_NAME: string;
  /** Keys in the state bucket (lib/domain/naming.ts stateKeys): the scripts never rebuild them. */
  readonly NETWORK_STATE_KEY: string;
  readonly CLUSTER_STATE_KEY: string;
  /** The kops state store, `s3://<bucket>/<this>`. */
  readonly KOPS_STATE_KEY: string;
  readonly CLUSTER_INPUTS_KEY: string;
}

/** Every BuildEnvironment variable, in one list: the build tasks pass each of them. */
export const BUILD_ENV_NAMES = [
  'FABRIC_NAME',
  'CLUSTER_NAME',
  'DOMAIN',
  'FABRIC_REGION',
  'NETWORK_CIDR',
  'KUBERNETES_VERSION',
  'NETWORKING',
  'CONTROL_PLANE_SIZE',
  'NODE_SIZE',
  'NODE_MIN',
  'NODE_MAX',
  'API_ACCESS',
  'SSH_ACCESS',
  'TAGS_JSON',
  'KUBECONFIG_SECRET_NAME',
  'NETWORK_STATE_KEY',
  'CLUSTER_STATE_KEY',
  'KOPS_STATE_KEY',
  'CLUSTER_INPUTS_KEY',
] as const satisfies readonly (keyof BuildEnvironment)[];
/** Compile-time proof that the list names every field: a field left out is a type error here. */
export const BUILD_ENV_NAMES_COMPLETE: [Exclude<keyof BuildEnvironment, (typeof BUILD_ENV_NAMES)[number]>] extends [never] ? true : false =
  true;

/** Common payload of the Prepare branches and later Lambdas: `{ fabric: $.fabric }` plus extras. */
export interface FabricEvent {
  readonly fabric: ValidatedFabric;
}

/** `DiscoverZones` result (Prepare branch 0). */
export interface ZonesResult {
  readonly zones: readonly string[];
  readonly zonesCsv: string;
  /** `recorded` when taken from the fabric record, `pinned` from the spec, `discovered` otherwise. */
  readonly origin: 'recorded' | 'pinned' | 'discovered';
}

/** `EnsureStateBucket` result (Prepare branch 1). In plan mode nothing is created: `exists` tells. */
export interface StateBucketResult {
  readonly bucket: string;
  readonly region: string;
  readonly exists: boolean;
  readonly created: boolean;
  /** Terraform locks a stopped or timed-out build left on the fabric's states, released by this run. */
  readonly releasedLocks?: readonly TerraformLock[];
}

/** A Terraform state lock as Terraform wrote it (what `terraform force-unlock` and its errors show). */
export interface TerraformLock {
  /** The lock object, `<state key>.tflock`. */
  readonly key: string;
  readonly id: string;
  readonly operation: string;
  readonly who: string;
  readonly created: string;
}

/** `CheckDns` result (Prepare branch 2). */
export interface DnsResult {
  readonly hostedZoneId: string;
  readonly nameServers: readonly string[];
}

/** `$.prepared`, the Parallel's ResultSelector output. */
export interface Prepared {
  readonly zones: ZonesResult;
  readonly stateBucket: StateBucketResult;
  readonly dns: DnsResult;
}

/** `EnsureSshKey` result, at `$.sshKey`. The private half never leaves Secrets Manager. */
export interface SshKeyResult {
  readonly secretArn: string;
  readonly publicKey: string;
  readonly fingerprint: string;
  readonly created: boolean;
}

/** Plan summary a job exports. */
export interface ChangeSummary {
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
}

/** What the network job exports as `FABRIC_RESULT` (JSON), at `$.network`. */
export interface NetworkJobResult {
  readonly action: FabricAction;
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly zones: readonly string[];
  readonly subnetIds: Readonly<Record<string, string>>;
  /** Subnet ids in zone order, comma-separated, for kops `--subnets`. */
  readonly subnetIdsCsv: string;
  readonly securityGroupId: string;
  readonly changes: ChangeSummary;
  /** Digest of the plan this job ran (empty when it planned nothing): an approved apply must match it. */
  readonly planDigest: string;
}

/** What the cluster job exports as `FABRIC_RESULT` (JSON), at `$.cluster`. */
export interface ClusterJobResult {
  readonly action: FabricAction;
  readonly clusterName: string;
  readonly apiName: string;
  readonly kubeconfigSecretArn: string;
  readonly controlPlaneGroups: readonly string[];
  readonly changes: ChangeSummary;
  /** Digest of the plan this job ran (empty when it planned nothing): an approved apply must match it. */
  readonly planDigest: string;
  /** Instance groups whose launch template the plan changes: a rolling update replaces their instances. */
  readonly rolls: readonly string[];
  /** One line on what the job did, e.g. that the plan waits for the network. */
  readonly summary?: string;
}

/** `CheckReadiness` payload: `{ fabric, prepared, cluster, readiness: $.readiness }`. */
export interface ReadinessEvent extends FabricEvent {
  /** Zones (one control-plane group each) and the hosted zone holding `api.<clusterName>`. */
  readonly prepared: Prepared;
  readonly cluster: ClusterJobResult;
  readonly readiness: ReadinessState;
}

/** `$.readiness`, carried around the Wait/Choice loop. */
export interface ReadinessState {
  readonly ready: boolean;
  /** Set by CheckReadiness on its first call; the deadline counts from it. */
  readonly startedAt?: string;
  readonly attempts: number;
  readonly checks?: ReadinessChecks;
}

export interface ReadinessChecks {
  readonly instances: { readonly ready: boolean; readonly detail: string };
  readonly dns: { readonly ready: boolean; readonly detail: string };
  readonly api: { readonly ready: boolean; readonly detail: string };
}

/** Final statuses, and the in-progress ones a run records while it works or waits. */
export const IN_PROGRESS_STATUSES = ['PROVISIONING', 'AWAITING_APPROVAL', 'DESTROYING'] as const;
export type FabricStatus = 'READY' | 'FAILED' | 'DESTROYED' | 'PLANNED' | (typeof IN_PROGRESS_STATUSES)[number];

/** When a leased fabric is destroyed (`expiresAfter`, moved by `fabricctl extend`). */
export interface Lease {
  readonly expiresAt: string;
  /** The spec's `expiresAfter` the lease was set from: a changed one starts a new lease. */
  readonly expiresAfter: string;
}

/** Plan figures a person approves or a drift check reports: Terraform's per job, what kops rolls. */
export interface PlanSummary {
  readonly network: ChangeSummary;
  readonly cluster: ChangeSummary;
  /** Instance groups whose instances a rolling update replaces (changed launch templates). */
  readonly rolls: readonly string[];
  /** Digests of the plans (buildspecs/scripts/lib.sh tf_plan_digest): the apply must match them. */
  readonly digests: { readonly network: string; readonly cluster: string };
  readonly lines: readonly string[];
}

/** Where a build task stores its result: `{ result: States.StringToJson(FABRIC_RESULT), buildId }`. */
export interface JobOutput<T> {
  readonly result: T;
  readonly buildId: string;
}

/**
 * The execution's state document (`$`) as it grows. Everything after `fabric` is optional because the
 * failure path can be entered from any state.
 */
export interface StateDocument {
  readonly fabric: ValidatedFabric;
  readonly prepared?: Prepared;
  readonly sshKey?: SshKeyResult;
  readonly jobs?: {
    readonly network?: JobOutput<NetworkJobResult>;
    readonly cluster?: JobOutput<ClusterJobResult>;
  };
  readonly readiness?: ReadinessState;
  /** The approval decision sent with the task token (`fabricctl approve`). */
  readonly approvalDecision?: ApprovalDecision;
  /** Set by every Catch (`ResultPath: $.error`). */
  readonly error?: { readonly Error: string; readonly Cause: string };
}

/** `RecordFabric` payload: `{ status, state: $ }` - the whole state document. */
export interface RecordEvent {
  /** Absent: the status stays (a lease extension, a drift check). */
  readonly status?: FabricStatus;
  readonly state: StateDocument;
  /** `drift`: record whether the plan of the recorded spec is empty (a drift check). */
  readonly check?: 'drift';
}

/** What `fabricctl approve` (or another tool) sends with the task token. */
export interface ApprovalDecision {
  readonly approvedBy: string;
  readonly at: string;
}

/** What RequestApproval stores in the lock item and puts in the `Fabric Awaiting Approval` event. */
export interface ApprovalRequest {
  readonly name: string;
  readonly execution: string;
  readonly taskToken: string;
  readonly summary: PlanSummary;
  readonly expiresAt: string;
}

/** `fabrics/<name>/fabric.json` in the state bucket. */
export interface FabricRecord {
  readonly name: string;
  readonly clusterName: string;
  readonly status: FabricStatus;
  readonly spec: FabricSpec;
  readonly zones: readonly string[];
  readonly outputs: {
    readonly vpcId?: string;
    readonly subnetIds?: Readonly<Record<string, string>>;
    readonly apiName?: string;
    readonly kubeconfigSecretArn?: string;
    readonly stateBucket: string;
  };
  readonly lastExecution: string;
  readonly lastError?: { readonly error: string; readonly cause: string };
  /** The final status before an in-progress one replaced it: a rejected approval restores it. */
  readonly statusBeforeRun?: FabricStatus;
  readonly lease?: Lease;
  /** The plan waiting for approval (status AWAITING_APPROVAL). */
  readonly pendingPlan?: PlanSummary;
  /** The last drift check: `drifted` when the cloud no longer matches the recorded spec. */
  readonly drift?: { readonly drifted: boolean; readonly checkedAt: string; readonly execution: string; readonly summary: PlanSummary };
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly source?: SpecSource;
}
