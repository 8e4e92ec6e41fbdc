import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { motoInstalled } from '../../lib/local/moto';
import { executeLocal, ExecuteOptions, LocalRunResult } from '../../lib/local/run';
import type { CallRecord } from '../../lib/local/standins/kops/src/main';
import type { ProgressEvent } from '../../lib/progress-events';
import { TERRAFORM_SKIP_REASON } from '../support/terraform';
import { useWorkflowEnvironment } from '../support/workflow-environment';

/**
 * Kubernetes upgrades in local mode: the synthesized state machine run by aws-local-stepfunctions,
 * every Task by the real code, builds by the local CodeBuild stand-in running the real scripts and
 * the real Terraform against moto, kops by its stand-in, which logs every call it gets
 * (KOPS_STANDIN_CALL_LOG) so the order of kops's commands can be checked. The tests share one
 * emulator and run in order; each says what state it starts from.
 */
const ready = motoInstalled() && TERRAFORM_SKIP_REASON === undefined;
if (!ready) {
  // eslint-disable-next-line no-console
  console.warn(
    `SKIPPED upgrade workflow: it needs moto_server (${motoInstalled() ? 'found' : 'missing'}) ` +
      `and Terraform (${TERRAFORM_SKIP_REASON ?? 'found'}).`,
  );
}
const describeWorkflow = ready ? describe : describe.skip;
// A provisioning run applies two Terraform configurations; on a busy 2-core machine one takes minutes.
jest.setTimeout(600_000);

const BUCKET = 'fabricctl-state-123456789012-us-east-2';
const DOMAIN = 'fabric.example.com';
const NAME = 'upgrade';
const spec = (version: string, name = NAME) => ({ name, domain: DOMAIN, region: 'us-east-2', kubernetes: { version } });
const FAST: ExecuteOptions = { readinessPollMs: 200, dnsControllerDelayMs: 300, retryIntervalOverrides: { AcquireLock: 150 } };
/** The message of a Lambda error as Step Functions puts it in the cause: `{"errorType", "errorMessage", ...}`. */
const errorMessage = (cause: string | undefined): unknown => (JSON.parse(cause ?? '{}') as { errorMessage?: unknown }).errorMessage;
/** States that change something; a refused spec must reach none of them. */
const JOB_STATES = [
  'AcquireLock',
  'EnsureStateBucket',
  'EnsureSshKey',
  'NetworkJob',
  'NetworkJobOnLambda',
  'ClusterJob',
  'ClusterJobOnLambda',
  'PlanNetworkJob',
  'PlanClusterJob',
];

interface Observed {
  readonly result: LocalRunResult;
  /** States in the order they were entered. */
  readonly entered: readonly string[];
  /** The cluster job's kops calls, as `command [--instance-group-roles=...]`, in order. */
  readonly kops: readonly string[];
  readonly callLog: string;
}

describeWorkflow('Kubernetes upgrade workflow (local mode, moto, real Terraform)', () => {
  const environment = useWorkflowEnvironment({ region: 'us-east-2', domain: DOMAIN });
  const scratch = mkdtempSync(path.join(tmpdir(), 'upgrade-workflow-'));
  let runs = 0;
  const s3 = () => new S3Client({ forcePathStyle: true });
  const record = async (fabric: string) =>
    JSON.parse(
      await (await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: `fabrics/${fabric}/fabric.json` }))).Body!.transformToString(),
    ) as {
      status: string;
      spec: { kubernetes: { version: string } };
    } & Record<string, unknown>;

  /** One execution, with the stand-in's call log for the cluster job's build. */
  async function run(input: Record<string, unknown>): Promise<Observed> {
    const callLog = path.join(scratch, `kops-calls-${(runs += 1)}.jsonl`);
    const entered: string[] = [];
    const onEvent = (e: ProgressEvent) => {
      if (e.type === 'stateEntered') entered.push(e.state);
    };
    const result = await executeLocal(environment(), input, {
      ...FAST,
      onEvent,
      // A new fabric's cluster job runs on Lambda compute, an existing one's on EC2.
      injectBuildEnvironment: { ClusterJob: { KOPS_STANDIN_CALL_LOG: callLog }, ClusterJobOnLambda: { KOPS_STANDIN_CALL_LOG: callLog } },
    });
    const calls = existsSync(callLog)
      ? readFileSync(callLog, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as CallRecord)
      : [];
    const kops = calls.map((c) => [c.command ?? '(unparsed)', ...c.argv.filter((a) => a.startsWith('--instance-group-roles='))].join(' '));
    return { result, entered, kops, callLog };
  }
  /** Whether every state of `order` was entered, in that order. */
  const inOrder = (entered: readonly string[], order: readonly string[]): boolean =>
    order.every((state, i) => entered.indexOf(state) >= 0 && (i === 0 || entered.indexOf(state) > entered.indexOf(order[i - 1] ?? '')));

  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
  });

  test('GIVEN an empty emulator WHEN Kubernetes 1.35.0 is provisioned THEN the fabric is READY at 1.35.0', async () => {
    const { result, kops, entered } = await run({ action: 'provision', spec: spec('1.35.0') });
    expect({ status: result.status, error: result.error, cause: result.cause }).toEqual({
      status: 'SUCCEEDED',
      error: undefined,
      cause: undefined,
    });
    expect(kops).toEqual(['version', 'create cluster', 'update cluster', 'export kubeconfig']);
    // A new fabric never rolls: its builds run on Lambda compute.
    expect(entered.filter((state) => /^(Network|Cluster)Job/.test(state))).toEqual([
      'NetworkJobCompute',
      'NetworkJobOnLambda',
      'ClusterJobCompute',
      'ClusterJobOnLambda',
    ]);
    expect(await record(NAME)).toMatchObject({ status: 'READY', spec: { kubernetes: { version: '1.35.0' } } });
  });

  test(
    'GIVEN the fabric READY at 1.35.0 WHEN 1.36.4 is provisioned ' +
      'THEN kops sets the version, updates, the control plane rolls, then the nodes, and the fabric is READY at 1.36.4',
    async () => {
      const { result, entered, kops } = await run({ action: 'provision', spec: spec('1.36.4') });
      expect({ status: result.status, error: result.error, cause: result.cause }).toEqual({
        status: 'SUCCEEDED',
        error: undefined,
        cause: undefined,
      });
      expect(kops).toEqual([
        'version',
        'set cluster',
        'update cluster',
        'export kubeconfig',
        'rolling-update cluster --instance-group-roles=control-plane',
        'rolling-update cluster --instance-group-roles=node',
      ]);
      // The rolls are inside the cluster job, on EC2 compute (a roll may outlast Lambda's 15 minutes);
      // readiness is checked after it, as for any provision.
      expect(inOrder(entered, ['ValidateSpec', 'AcquireLock', 'NetworkJob', 'ClusterJob', 'CheckReadiness', 'RecordReady'])).toBe(true);
      expect(entered.filter((state) => state.endsWith('OnLambda'))).toEqual([]);
      expect(result.output).toMatchObject({ name: NAME, status: 'READY', spec: { kubernetes: { version: '1.36.4' } } });
      expect(await record(NAME)).toMatchObject({ status: 'READY', spec: { kubernetes: { version: '1.36.4' } } });
      expect(result.events.map((e) => e.DetailType)).toEqual(['Fabric Ready']);
    },
  );

  test('fails when the spec downgrades the READY fabric (1.36.4 -> 1.35.0), with FabricSpecInvalid before any job runs', async () => {
    const { result, entered, callLog } = await run({ action: 'provision', spec: spec('1.35.0') });
    expect({ status: result.status, error: result.error }).toEqual({ status: 'FAILED', error: 'FabricSpecInvalid' });
    expect(errorMessage(result.cause)).toBe(
      'spec.kubernetes.version: received "1.35.0"; downgrades are not supported (the fabric runs 1.36.4): ' +
        'keep 1.36.x (1.36.4 or a later patch) or destroy and provision again',
    );
    expect(entered.filter((state) => JOB_STATES.includes(state))).toEqual([]);
    expect(existsSync(callLog)).toBe(false);
    expect(await record(NAME)).toMatchObject({ status: 'READY', spec: { kubernetes: { version: '1.36.4' } } });
  });

  test(
    'fails when the spec skips a minor of a fabric recorded at 1.34.2 (-> 1.36.4), ' + 'with FabricSpecInvalid before any job runs',
    async () => {
      // A fabric READY at 1.34.2, as its provisioning run records it (the record is all ValidateSpec
      // reads): the record above, renamed, at 1.34.2. Provisioning a second cluster would only cost time.
      const upgraded = await record(NAME);
      const legacy = {
        ...upgraded,
        name: 'legacy',
        clusterName: `legacy.${DOMAIN}`,
        spec: { ...upgraded.spec, name: 'legacy', kubernetes: { ...upgraded.spec.kubernetes, version: '1.34.2' } },
      };
      await s3().send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'fabrics/legacy/fabric.json',
          Body: JSON.stringify(legacy),
          ContentType: 'application/json',
        }),
      );

      const { result, entered, callLog } = await run({ action: 'provision', spec: spec('1.36.4', 'legacy') });
      expect({ status: result.status, error: result.error }).toEqual({ status: 'FAILED', error: 'FabricSpecInvalid' });
      expect(errorMessage(result.cause)).toBe(
        'spec.kubernetes.version: received "1.36.4"; upgrade one minor at a time (the fabric runs 1.34.2): ' +
          'use 1.35.x (e.g. 1.35.9) first, then 1.36.4',
      );
      expect(entered.filter((state) => JOB_STATES.includes(state))).toEqual([]);
      expect(existsSync(callLog)).toBe(false);
      expect(result.events.map((e) => e.DetailType)).toEqual(['Fabric Failed']);
      expect(await record('legacy')).toMatchObject({ status: 'READY', spec: { kubernetes: { version: '1.34.2' } } });
    },
  );
});
