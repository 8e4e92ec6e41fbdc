import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { STSClient } from '@aws-sdk/client-sts';
import { accountIdOf } from '../shared/account';
import type {
  BuildCompute,
  BuildEnvironment,
  FabricAction,
  FabricRecord,
  Lease,
  SpecSource,
  ValidatedFabric,
  ValidateSpecEvent,
} from '../../lib/domain/contract';
import { formatDuration, parseDuration } from '../../lib/domain/duration';
import { FabricSpecInvalid, Problem, problem } from '../../lib/domain/errors';
import { ExecutionEnvelope, executionEnvelopeSchema } from '../../lib/domain/execution-input';
import { kubeconfigSecretName, stateBucketName, stateKeys } from '../../lib/domain/naming';
import {
  clusterNameOf,
  DEFAULT_REGION,
  FabricSpec,
  fabricSpecSchema,
  nameProblem,
  normaliseName,
  recordedSpecSchema,
  REGION_PATTERN,
  toProblems,
} from '../../lib/domain/spec';
import { nestingProblem, parseSpecJson } from '../../lib/domain/spec-document';
import { readFabricRecord, S3Sender } from '../shared/state-record';
import * as z from '../../lib/domain/zod';
import { kubernetesUpgrade } from './upgrade';

export const DEFAULT_LOCK_SECONDS = 10800;
/** The longest a provision waits for its approval unless the stack says otherwise (APPROVAL_TIMEOUT_SECONDS). */
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 3600;

export interface ValidateSpecDeps {
  /** EC2 in any enabled region: DescribeRegions lists every region of the partition. */
  readonly ec2: Pick<EC2Client, 'send'>;
  readonly sts: Pick<STSClient, 'send'>;
  /** S3 for the fabric's region (destroy by name reads the fabric record there). */
  readonly s3ForRegion: (region: string) => S3Sender;
  /** Text of `fabric.json` at the source's commit, or `undefined` when the commit has no such file. */
  readonly loadSpecFromSource: (source: SpecSource) => Promise<string | undefined>;
}

export interface ValidateSpecConfig {
  /** Prefix of the state bucket name; `undefined` uses the documented default. */
  readonly bucketPrefix?: string;
  readonly lockSeconds: number;
  /** The stack's approval timeout: the longest a provision waits after its plan. */
  readonly approvalTimeoutSeconds?: number;
}

/** Where the spec came from, for the field names of problems. */
type SpecOrigin = 'input' | 'source' | 'record';

interface Collected {
  readonly envelope?: ExecutionEnvelope;
  readonly spec?: FabricSpec;
  readonly origin?: SpecOrigin;
  /** The raw spec, so name and region can still be checked when other fields are invalid. */
  readonly raw?: unknown;
}

/** Best-effort name and region of a spec that failed validation, to report every other problem too. */
function hintsOf(raw: unknown): { readonly name?: string; readonly region?: string } {
  const spec = asObject(raw);
  if (!spec) return {};
  // A name the schema refuses (démo) must not stand in as another fabric (dmo) in the other checks.
  const name = typeof spec.name === 'string' && nameProblem(spec.name) === undefined ? normaliseName(spec.name) : undefined;
  const region =
    spec.region === undefined
      ? DEFAULT_REGION
      : typeof spec.region === 'string' && REGION_PATTERN.test(spec.region)
        ? spec.region
        : undefined;
  return { ...(name ? { name } : {}), ...(region ? { region } : {}) };
}

function asObject(input: unknown): Record<string, unknown> | undefined {
  return input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : undefined;
}

/** `recordedSpecSchema` for a spec read back from the fabric's record (destroy by name), else every rule. */
function parseSpec(
  raw: unknown,
  prefix: string,
  problems: Problem[],
  schema: typeof fabricSpecSchema = fabricSpecSchema,
): FabricSpec | undefined {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  problems.push(...toProblems(result.error, raw, prefix));
  return undefined;
}

/** `undefined` when the region is usable, else the problem's fix. */
async function regionProblem(ec2: Pick<EC2Client, 'send'>, region: string): Promise<string | undefined> {
  const { Regions = [] } = await ec2.send(new DescribeRegionsCommand({ AllRegions: true }));
  const found = Regions.find((r) => r.RegionName === region);
  if (!found) {
    const known = Regions.map((r) => r.RegionName)
      .filter((n): n is string => Boolean(n))
      .sort();
    return `no such AWS region; use one of ${known.join(', ')}`;
  }
  if (found.OptInStatus === 'not-opted-in') {
    return 'this region is not enabled in the account; enable it (Account settings > AWS Regions) or pick an enabled region';
  }
  return undefined;
}

function branchOf(source: SpecSource): string {
  return source.branch.replace(/^refs\/heads\//, '');
}

/** A fabric with no live cluster is created, never rolled: its builds fit Lambda compute's 15 minutes. */
export function buildComputeOf(action: FabricAction, clusterRecorded: boolean): BuildCompute {
  return action === 'provision' && !clusterRecorded ? 'lambda' : 'ec2';
}

export function buildEnvironment(spec: FabricSpec): BuildEnvironment {
  return {
    FABRIC_NAME: spec.name,
    CLUSTER_NAME: clusterNameOf(spec),
    DOMAIN: spec.domain,
    FABRIC_REGION: spec.region,
    NETWORK_CIDR: spec.network.cidr,
    KUBERNETES_VERSION: spec.kubernetes.version,
    NETWORKING: spec.kubernetes.networking,
    CONTROL_PLANE_SIZE: spec.kubernetes.controlPlaneSize,
    NODE_SIZE: spec.kubernetes.nodeSize,
    NODE_MIN: String(spec.kubernetes.nodes.min),
    NODE_MAX: String(spec.kubernetes.nodes.max),
    API_ACCESS: spec.access.api.join(','),
    SSH_ACCESS: spec.access.ssh.join(','),
    TAGS_JSON: JSON.stringify(spec.tags),
    KUBECONFIG_SECRET_NAME: kubeconfigSecretName(spec.name),
    NETWORK_STATE_KEY: stateKeys.network(spec.name),
    CLUSTER_STATE_KEY: stateKeys.cluster(spec.name),
    KOPS_STATE_KEY: stateKeys.kops(spec.name),
    CLUSTER_INPUTS_KEY: stateKeys.clusterInputs(spec.name),
  };
}

export function lockExpiry(startedAt: string, lockSeconds: number): ValidatedFabric['lock'] {
  const started = Date.parse(startedAt);
  if (Number.isNaN(started)) throw new TypeError(`startedAt ${JSON.stringify(startedAt)} is not an ISO time; pass $$.Execution.StartTime`);
  const expires = started + lockSeconds * 1000;
  return { expiresAt: new Date(expires).toISOString(), ttl: Math.floor(expires / 1000) };
}

/**
 * Validates and normalises the execution input. Every problem found is reported in one
 * `FabricSpecInvalid` (field, value received, fix). Reads only: nothing is created.
 */
export async function validateSpec(event: ValidateSpecEvent, deps: ValidateSpecDeps, config: ValidateSpecConfig): Promise<ValidatedFabric> {
  const problems: Problem[] = [];
  const raw = asObject(event.input);
  if (!raw)
    throw new FabricSpecInvalid([problem('(input)', event.input, 'write the execution input as a JSON object such as {"spec": {...}}')]);
  const deep = nestingProblem(raw);
  if (deep) throw new FabricSpecInvalid([deep]);

  const { spec: rawSpec, ...rawEnvelope } = raw;
  const envelopeResult = executionEnvelopeSchema.safeParse(rawEnvelope);
  if (!envelopeResult.success) problems.push(...toProblems(envelopeResult.error, rawEnvelope));
  // Unknown fields are reported above; ignoring them here lets every other rule still be checked.
  const lenient = envelopeResult.success ? envelopeResult : z.object(executionEnvelopeSchema.shape).safeParse(rawEnvelope);
  const envelope = lenient.success ? lenient.data : undefined;
  // The action decides which rules apply; when the envelope is broken, judge by what was sent.
  const action: FabricAction =
    envelope?.action ?? (raw.action === 'destroy' || raw.action === 'plan' || raw.action === 'extend' ? raw.action : 'provision');
  // destroy and extend may name a recorded fabric instead of carrying its spec.
  const byName = action === 'destroy' || action === 'extend';

  let collected: Collected = { envelope };
  if (rawSpec !== undefined) {
    collected = { ...collected, spec: parseSpec(rawSpec, 'spec.', problems), origin: 'input', raw: rawSpec };
  } else if (envelope?.source?.provider === 'codecommit' && !(byName && envelope.name !== undefined)) {
    collected = { ...collected, ...(await specFromSource(envelope.source, deps, problems)) };
  } else if (!byName) {
    problems.push(
      problem(
        'spec',
        undefined,
        envelope?.source?.provider === 'github'
          ? 'a GitHub-triggered run must carry the spec read from fabric.json at the pushed commit'
          : `${action} needs the fabric spec: pass {"spec": {...}} (see the spec reference in README.md)`,
      ),
    );
  }

  if (envelope) problems.push(...misplacedFields(envelope, action));
  if (action === 'extend' && rawSpec !== undefined)
    problems.push(
      problem('spec', '(a spec)', 'extend takes the fabric by name: pass {"action": "extend", "name": "<fabric>", "extendBy": "24h"}'),
    );
  if (action === 'extend' && envelope && envelope.extendBy === undefined) {
    problems.push(problem('extendBy', undefined, 'say how much longer the fabric may live, e.g. "extendBy": "24h"'));
  }

  const hints = collected.spec ? {} : hintsOf(collected.raw);
  let name = collected.spec?.name ?? hints.name;
  let region = collected.spec?.region ?? hints.region;
  let stateBucket: string | undefined;
  let accountId: string | undefined;

  // Whether the spec came with the run (input or git source), as opposed to destroy by name.
  const specGiven = collected.origin !== undefined;
  if (byName && envelope) {
    if (specGiven && envelope.region !== undefined) {
      problems.push(problem('region', envelope.region, "give region only with name; with a spec, the spec's region is used"));
    }
    if (!specGiven) {
      if (envelope.name === undefined) {
        problems.push(
          problem(
            'name',
            undefined,
            action === 'destroy'
              ? 'destroy needs the fabric: pass {"name": "<fabric>", "confirm": "<fabric>"} or the spec'
              : 'extend needs the fabric: pass {"action": "extend", "name": "<fabric>", "extendBy": "24h"}',
          ),
        );
      } else {
        region = envelope.region ?? DEFAULT_REGION;
        const fix = nameProblem(envelope.name);
        if (fix) problems.push(problem('name', envelope.name, fix));
        name = fix ? undefined : normaliseName(envelope.name);
      }
    } else if (envelope.name !== undefined && collected.spec && normaliseName(envelope.name) !== collected.spec.name) {
      problems.push(problem('name', envelope.name, `disagrees with the spec's name ${collected.spec.name}; pass one of them`));
    }
  }

  // The region must exist and be enabled before any region-bound call (S3 record read).
  let regionOk = false;
  if (region !== undefined) {
    const fix = await regionProblem(deps.ec2, region);
    if (fix) problems.push(problem(collected.origin === undefined ? 'region' : 'spec.region', region, fix));
    else regionOk = true;
  }
  if (region !== undefined && regionOk) {
    accountId = await accountIdOf(deps.sts);
    stateBucket = stateBucketName(accountId, region, config.bucketPrefix);
  }

  // The fabric's record: what exists, its protection and lease. A damaged record reads as none for
  // provision (the run rewrites it) but stops destroy and extend, which need to know the fabric.
  let record: FabricRecord | undefined;
  if (name !== undefined && stateBucket !== undefined && region !== undefined) {
    try {
      record = await readFabricRecord(deps.s3ForRegion(region), stateBucket, name);
    } catch (error) {
      if ((error as Error).name !== 'FabricRecordUnreadable' || byName) throw error;
    }
  }
  const recorded = record !== undefined && record.status !== 'DESTROYED' ? record : undefined;

  if (byName && envelope && !specGiven && name !== undefined && stateBucket !== undefined && region !== undefined) {
    if (!record) {
      problems.push(
        problem(
          'name',
          envelope.name,
          `no fabric ${name} is recorded in region ${region} (no fabrics/${name}/fabric.json in ${stateBucket}); ` +
            'check the name and the region, or pass the spec',
        ),
      );
    } else {
      collected = { ...collected, spec: parseSpec(record.spec, 'spec.', problems, recordedSpecSchema), origin: 'record' };
    }
  }

  // Protection is the recorded spec's (or this spec's): only a provision that records
  // "protected": false lifts it, so a destroy cannot lift it by sending another spec.
  if (action === 'destroy' && (recorded?.spec.protected === true || collected.spec?.protected === true)) {
    problems.push(
      problem(
        'spec.protected',
        true,
        `fabric ${name ?? ''} is protected: set "protected": false in its fabric.json ` +
          'and provision it (that run records the change), then destroy it',
      ),
    );
  }
  if (action === 'extend' && record && (recorded === undefined || recorded.lease === undefined)) {
    problems.push(
      problem(
        'name',
        envelope?.name,
        recorded === undefined
          ? `fabric ${name ?? ''} was destroyed; there is no lease to extend`
          : `fabric ${name ?? ''} has no lease (no "expiresAfter" in its spec): it is not destroyed automatically, nothing to extend`,
      ),
    );
  }

  const approval = approvalOf(action, envelope, collected.spec, config, problems);

  // A running fabric's Kubernetes moves one minor at a time and never down (upgrade.ts).
  const recordedVersion = recorded?.spec.kubernetes?.version;
  if ((action === 'provision' || action === 'plan') && collected.spec && typeof recordedVersion === 'string') {
    const verdict = kubernetesUpgrade(recordedVersion, collected.spec.kubernetes.version);
    if (verdict && !verdict.allowed) problems.push(problem('spec.kubernetes.version', collected.spec.kubernetes.version, verdict.fix));
  }

  if (action === 'destroy' && envelope && name !== undefined && envelope.confirm !== name) {
    problems.push(
      problem(
        'confirm',
        envelope.confirm,
        `destroy deletes the cluster and its network: pass "confirm": "${name}" (the normalised fabric name) to go ahead`,
      ),
    );
  }

  if (envelope?.source && name !== undefined && branchOf(envelope.source) !== `fabric/${name}`) {
    problems.push(
      problem(
        'name',
        name,
        `branch ${envelope.source.branch} does not hold this fabric: ` +
          `a fabric named ${name} lives on branch fabric/${name}; rename the branch or the fabric`,
      ),
    );
  }

  if (problems.length > 0) throw new FabricSpecInvalid(problems);
  const spec = collected.spec;
  if (!spec || !stateBucket)
    throw new FabricSpecInvalid([problem('spec', rawSpec, 'the spec could not be established; pass it in "spec"')]);

  const lease = leaseOf(action, spec, recorded, envelope?.extendBy, event.startedAt);
  return {
    action,
    name: spec.name,
    region: spec.region,
    clusterName: clusterNameOf(spec),
    spec,
    execution: event.execution,
    stateBucket,
    lock: lockExpiry(event.startedAt, config.lockSeconds),
    ...(envelope?.source ? { source: envelope.source } : {}),
    approval,
    ...(lease ? { lease } : {}),
    ...(envelope?.check ? { check: envelope.check } : {}),
    ...(action === 'provision' && typeof recordedVersion === 'string' && recordedVersion !== spec.kubernetes.version
      ? { upgradeFrom: recordedVersion }
      : {}),
    buildCompute: buildComputeOf(action, recorded !== undefined),
    buildEnv: buildEnvironment(spec),
  };
}

/** Envelope fields that belong to another action, each with the fix. */
function misplacedFields(envelope: ExecutionEnvelope, action: FabricAction): Problem[] {
  const owners: Record<'name' | 'region' | 'confirm' | 'approve' | 'approvalTimeout' | 'extendBy' | 'check', readonly FabricAction[]> = {
    name: ['destroy', 'extend'],
    region: ['destroy', 'extend'],
    confirm: ['destroy'],
    approve: ['provision'],
    approvalTimeout: ['provision'],
    extendBy: ['extend'],
    check: ['plan'],
  };
  const found: Problem[] = [];
  for (const [field, actions] of Object.entries(owners) as Array<[keyof typeof owners, readonly FabricAction[]]>) {
    if (envelope[field] === undefined || actions.includes(action)) continue;
    const fix = field === 'name' || field === 'region' ? `, put the fabric in "spec"` : '';
    found.push(problem(field, envelope[field], `${field} is only for ${actions.join(' and ')}; drop it for ${action}${fix}`));
  }
  return found;
}

/** Whether a provision stops after its plan for approval, and for how long at most. */
function approvalOf(
  action: FabricAction,
  envelope: ExecutionEnvelope | undefined,
  spec: FabricSpec | undefined,
  config: ValidateSpecConfig,
  problems: Problem[],
): ValidatedFabric['approval'] {
  const ceiling = config.approvalTimeoutSeconds ?? DEFAULT_APPROVAL_TIMEOUT_SECONDS;
  let timeoutSeconds = ceiling;
  if (envelope?.approvalTimeout !== undefined) {
    const asked = parseDuration(envelope.approvalTimeout) ?? ceiling;
    if (asked > ceiling)
      problems.push(
        problem(
          'approvalTimeout',
          envelope.approvalTimeout,
          `wait at most ${formatDuration(ceiling)} (the stack's approvalTimeout; raise it there for longer waits)`,
        ),
      );
    timeoutSeconds = Math.min(asked, ceiling);
  }
  // A protected fabric is approved unless its spec says "approve": "auto".
  const required =
    action === 'provision' &&
    (envelope?.approve === 'required' || (spec?.approve ?? (spec?.protected ? 'required' : 'auto')) === 'required');
  return { required, timeoutSeconds };
}

/** The lease after this run: kept while expiresAfter stays, new when it changes, moved by extend. */
export function leaseOf(
  action: FabricAction,
  spec: FabricSpec,
  recorded: FabricRecord | undefined,
  extendBy: string | undefined,
  startedAt: string,
): Lease | undefined {
  const started = Date.parse(startedAt);
  if (action === 'extend') {
    if (!recorded?.lease || extendBy === undefined) return undefined;
    const from = Math.max(started, Date.parse(recorded.lease.expiresAt));
    return { ...recorded.lease, expiresAt: new Date(from + (parseDuration(extendBy) ?? 0) * 1000).toISOString() };
  }
  if (action !== 'provision' || spec.expiresAfter === undefined) return undefined;
  if (recorded?.lease && recorded.lease.expiresAfter === spec.expiresAfter) return recorded.lease;
  return { expiresAt: new Date(started + (parseDuration(spec.expiresAfter) ?? 0) * 1000).toISOString(), expiresAfter: spec.expiresAfter };
}

async function specFromSource(source: SpecSource, deps: ValidateSpecDeps, problems: Problem[]): Promise<Collected> {
  const text = await deps.loadSpecFromSource(source);
  if (text === undefined) {
    problems.push(
      problem(
        'source.commit',
        source.commit,
        `commit has no fabric.json at the root of ${source.repository}; add it on branch ${source.branch}`,
      ),
    );
    return {};
  }
  let json: unknown;
  try {
    json = parseSpecJson(text);
  } catch (error) {
    problems.push(
      problem(
        'spec',
        text.slice(0, 80),
        `fabric.json at commit ${source.commit} is not JSON (${(error as Error).message}); fix it and push again`,
      ),
    );
    return {};
  }
  const deep = nestingProblem(json, 'spec.');
  if (deep) {
    problems.push(deep);
    return {};
  }
  return { spec: parseSpec(json, 'spec.', problems), origin: 'source', raw: json };
}
