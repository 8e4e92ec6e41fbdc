import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DescribeNatGatewaysCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { parse as parseYaml } from 'yaml';
import type { ExecCredential } from '../../lib/cli/client-credential';
import { clusterCaKey } from '../../lib/cli/cluster-ca';
import { TERRAFORM_SKIP_REASON } from '../support/terraform';
import { useWorkflowEnvironment } from '../support/workflow-environment';
import { motoInstalled } from '../../lib/local/moto';
import { executeLocal, ExecuteOptions, localOrchestrator, LocalRunResult } from '../../lib/local/run';
import { CodeCommitStandIn, startCodeCommitStandIn } from '../../lib/local/standins/codecommit';
import type { ProgressEvent } from '../../lib/progress-events';
import { buildPushRequest, parsePushEvent } from '../../lambdas/codecommit-push/core';
import { codeCommitPushEvent } from '../support/eventbridge';
import { kopsCallName, readKopsCalls, UPGRADE_KOPS_CALLS } from '../support/kops-calls';
import { KubeconfigDoc, kubeGet, runExecPlugin } from '../support/kubectl';
import { runCli } from '../cli/support';

/** A fabrics repository with `fabric.json` on branch `fabric/<name>`; returns the commit id. */
function fabricRepository(dir: string, name: string, spec: unknown): string {
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, '-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { encoding: 'utf8' }).trim();
  git('init', '-q', '-b', `fabric/${name}`);
  writeFileSync(path.join(dir, 'fabric.json'), JSON.stringify(spec, null, 2));
  git('add', 'fabric.json');
  git('commit', '-q', '-m', `fabric ${name}`);
  return git('rev-parse', 'HEAD');
}

/**
 * Seven of the eight workflow scenarios of local mode, and Kubernetes upgrades: the synthesized state
 * machine run by aws-local-stepfunctions, every Task by the real code, builds by the local CodeBuild
 * stand-in running the real scripts and the real Terraform against moto, kops by its stand-in, which
 * logs every call it gets (KOPS_STANDIN_CALL_LOG) so the order of kops's commands can be checked.
 * Scenario 5, two executions for one fabric at once, is test/workflow/concurrency.test.ts: its holder
 * fails in its network job, so it holds the lock without a whole provisioning run.
 * They share one emulator and run in order; each says what state it starts from. After scenario 2,
 * `fabricctl kubeconfig` reads the CA the kops stand-in stored for the provisioned fabric and the
 * API stand-in is asked with what it mints; then the same fabric, provisioned at 1.35.0, is upgraded
 * (one provisioning from an empty emulator serves both: it is most of such a suite's CPU).
 */
const ready = motoInstalled() && TERRAFORM_SKIP_REASON === undefined;
if (!ready) {
  // eslint-disable-next-line no-console
  console.warn(
    `SKIPPED workflow scenarios: they need moto_server (${motoInstalled() ? 'found' : 'missing'}) ` +
      `and Terraform (${TERRAFORM_SKIP_REASON ?? 'found'}).`,
  );
}
const describeWorkflow = ready ? describe : describe.skip;
// A provisioning run applies two Terraform configurations; on a busy 2-core machine one takes minutes.
jest.setTimeout(600_000);

const BUCKET = 'fabricctl-state-123456789012-us-east-2';
const DOMAIN = 'fabric.example.com';
const spec = (name: string, extra: Record<string, unknown> = {}) => ({ name, domain: DOMAIN, region: 'us-east-2', ...extra });
/** The fabric of scenarios 1 and 2, at the Kubernetes release the upgrade scenarios start from. */
const demoAt = (version: string) => spec('demo', { kubernetes: { version } });
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
/** Whether every state of `order` was entered, in that order. */
const inOrder = (entered: readonly string[], order: readonly string[]): boolean =>
  order.every((state, i) => entered.indexOf(state) >= 0 && (i === 0 || entered.indexOf(state) > entered.indexOf(order[i - 1] ?? '')));

interface Observed {
  readonly result: LocalRunResult;
  /** States in the order they were entered. */
  readonly entered: readonly string[];
  /** The cluster job's kops calls, as `command [--instance-group-roles=...]`, in order. */
  readonly kops: readonly string[];
  readonly callLog: string;
}

describeWorkflow('workflow scenarios (local mode, moto, real Terraform)', () => {
  const environment = useWorkflowEnvironment({ region: 'us-east-2', domain: DOMAIN });
  let codecommit: CodeCommitStandIn;
  const repoDir = mkdtempSync(path.join(tmpdir(), 'fabrics-repo-'));
  const callLogs = mkdtempSync(path.join(tmpdir(), 'scenario-kops-calls-'));
  const s3 = () => new S3Client({ forcePathStyle: true });
  const ec2 = () => new EC2Client({});
  const run = (input: Record<string, unknown>, options: ExecuteOptions = {}): Promise<LocalRunResult> =>
    executeLocal(environment(), input, { ...FAST, ...options });
  let observedRuns = 0;
  /** One execution, with the states it entered and the stand-in's call log of the cluster job's build. */
  async function observe(input: Record<string, unknown>): Promise<Observed> {
    const callLog = path.join(callLogs, `kops-calls-${(observedRuns += 1)}.jsonl`);
    const entered: string[] = [];
    const result = await run(input, {
      onEvent: (e: ProgressEvent) => {
        if (e.type === 'stateEntered') entered.push(e.state);
      },
      // A new fabric's cluster job runs on Lambda compute, an existing one's on EC2.
      injectBuildEnvironment: { ClusterJob: { KOPS_STANDIN_CALL_LOG: callLog }, ClusterJobOnLambda: { KOPS_STANDIN_CALL_LOG: callLog } },
    });
    return { result, entered, kops: readKopsCalls(callLog).map(kopsCallName), callLog };
  }
  const bucketExists = async () =>
    s3()
      .send(new HeadBucketCommand({ Bucket: BUCKET }))
      .then(
        () => true,
        () => false,
      );
  const vpcsWithCidr = async (cidr: string) =>
    (await ec2().send(new DescribeVpcsCommand({ Filters: [{ Name: 'cidr-block', Values: [cidr] }] }))).Vpcs ?? [];
  const locks = async () => (await new DynamoDBClient({}).send(new ScanCommand({ TableName: localOrchestrator().lockTable }))).Items ?? [];
  const record = async (fabric: string) =>
    JSON.parse(
      await (await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: `fabrics/${fabric}/fabric.json` }))).Body!.transformToString(),
    ) as Record<string, unknown>;
  /** What a build printed, from the run's progress events. */
  const buildLog = (lines: Array<{ state: string; line: string }>, state: string) =>
    lines
      .filter((l) => l.state === state)
      .map((l) => l.line)
      .join('\n');

  beforeAll(async () => {
    // moto has no CodeCommit GetFile: its stand-in answers from a local git repository.
    codecommit = await startCodeCommitStandIn({ fabrics: repoDir });
    process.env.AWS_ENDPOINT_URL_CODECOMMIT = codecommit.endpoint;
  }, 60_000);
  afterAll(async () => {
    await codecommit?.stop();
    rmSync(repoDir, { recursive: true, force: true });
    rmSync(callLogs, { recursive: true, force: true });
  });

  test('3. fails when the spec is invalid, in several ways, before anything exists', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ action: 'provision', spec: { ...spec('demo'), colour: 'blue' } }, /colour.*unknown field/],
      [{ action: 'provision', spec: spec('demo', { network: { cidr: '8.8.0.0/16' } }) }, /network\.cidr.*RFC 1918/],
      [{ action: 'provision', spec: spec('9lives') }, /name.*start the name with a letter/],
      [{ action: 'provision', spec: spec('demo', { region: 'xx-nowhere-9' }) }, /region/],
      [{ action: 'provision' }, /spec/],
    ];
    for (const [input, cause] of cases) {
      const result = await run(input);
      expect({ status: result.status, error: result.error }).toEqual({ status: 'FAILED', error: 'FabricSpecInvalid' });
      expect(result.cause).toMatch(cause);
      expect(result.events.map((e) => e.DetailType)).toEqual(['Fabric Failed']);
    }
    expect(await bucketExists()).toBe(false);
    expect(await vpcsWithCidr('10.10.0.0/16')).toEqual([]);
    expect(await locks()).toEqual([]);
  });

  test('6. fails with InsufficientZones when the region has fewer available zones than asked', async () => {
    // moto's us-west-1 has two availability zones.
    const result = await run({ action: 'provision', spec: { name: 'west', domain: DOMAIN, region: 'us-west-1' } });
    expect(result.error).toBe('InsufficientZones');
    expect(result.cause).toMatch(/us-west-1.*2 usable/);
    expect(await locks()).toEqual([]);
  });

  test('8. plan creates nothing and reports what it would add', async () => {
    const result = await run({ action: 'plan', spec: spec('demo') });
    expect(result.status).toBe('SUCCEEDED');
    const output = result.output as {
      action: string;
      network: { changes: { add: number }; vpcId: string };
      stateBucket: { exists: boolean };
    };
    expect(output.action).toBe('plan');
    // The VPC, its gateway and route table, the route, the security group; a subnet and an association per zone.
    expect(output.network).toMatchObject({ vpcId: '', changes: { add: 11, change: 0, destroy: 0 } });
    expect(output.stateBucket.exists).toBe(false);
    expect(await bucketExists()).toBe(false);
    expect(await vpcsWithCidr('10.10.0.0/16')).toEqual([]);
    expect(await locks()).toEqual([]);
  });

  test(
    '1. provision succeeds from an empty emulator: record READY at 1.35.0, lock gone, VPC in 3 zones, one control plane per zone, ' +
      'jobs on Lambda compute, no roll',
    async () => {
      const { result, kops, entered } = await observe({ action: 'provision', spec: demoAt('1.35.0') });
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
      expect(await record('demo')).toMatchObject({ spec: { kubernetes: { version: '1.35.0' } } });
      expect(result.output).toMatchObject({ name: 'demo', status: 'READY', zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'] });
      expect(await record('demo')).toMatchObject({ status: 'READY', clusterName: `demo.${DOMAIN}` });
      expect(await locks()).toEqual([]);
      expect(result.events.map((e) => e.DetailType)).toEqual(['Fabric Ready']);
      const vpcId = (result.output as { outputs: { vpcId: string } }).outputs.vpcId;
      const subnets = (await ec2().send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).Subnets ?? [];
      expect(subnets.map((s) => s.AvailabilityZone).sort()).toEqual(['us-east-2a', 'us-east-2b', 'us-east-2c']);
      expect((await ec2().send(new DescribeNatGatewaysCommand({}))).NatGateways ?? []).toEqual([]);
      const groups = (await new AutoScalingClient({}).send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [];
      const controlPlanes = groups.filter(
        (g) => /^(control-plane|master)-/.test(g.AutoScalingGroupName ?? '') && g.AutoScalingGroupName?.endsWith(`demo.${DOMAIN}`),
      );
      expect(controlPlanes.flatMap((g) => g.AvailabilityZones ?? []).sort()).toEqual(['us-east-2a', 'us-east-2b', 'us-east-2c']);
    },
  );

  test('2. provisioning the same spec again, from a CodeCommit push to fabric/demo, succeeds with no Terraform changes', async () => {
    const commit = fabricRepository(repoDir, 'demo', demoAt('1.35.0'));
    // What the CodeCommit push function starts for this push: the commit-derived name and the provision input.
    const request = buildPushRequest(
      'arn:aws:states:us-east-2:123456789012:stateMachine:FabricOrchestrator',
      parsePushEvent(codeCommitPushEvent('fabrics', 'fabric/demo', commit)),
    );
    expect(request.input).toEqual({
      action: 'provision',
      source: { provider: 'codecommit', repository: 'fabrics', branch: 'fabric/demo', commit },
    });
    const lines: Array<{ state: string; line: string }> = [];
    const result = await run(
      { ...request.input },
      {
        executionName: request.name,
        onEvent: (e) => {
          if (e.type === 'log') lines.push({ state: e.state, line: e.line });
        },
      },
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ status: 'READY' });
    // Terraform's own summary lines, from its machine-readable UI (buildspecs/scripts/lib.sh tf_json).
    for (const job of ['NetworkJob', 'ClusterJob']) {
      expect(buildLog(lines, job)).toContain('Plan: 0 to add, 0 to change, 0 to destroy.');
      expect(buildLog(lines, job)).toContain('Apply complete! Resources: 0 added, 0 changed, 0 destroyed.');
    }
    expect(await vpcsWithCidr('10.10.0.0/16')).toHaveLength(1);
    expect(await locks()).toEqual([]);
  });

  test(
    'GIVEN demo READY WHEN fabricctl kubeconfig demo --local writes its kubeconfig ' +
      'THEN the exec plugin mints from the CA kops stored a certificate the API stand-in accepts (200), ' +
      'and a request without one gets 401',
    async () => {
      const clusterName = `demo.${DOMAIN}`;
      const api = await environment().apiServerFor(clusterName);
      const dir = mkdtempSync(path.join(tmpdir(), 'scenario-kubeconfig-'));
      const out = path.join(dir, 'config');
      // The real clock: the API stand-in checks the certificate's validity against it.
      const written = await runCli(
        ['kubeconfig', 'demo', '--local', '--endpoint', environment().endpoint, '--server', `https://127.0.0.1:${api.port}`, '--out', out],
        {
          env: { AWS_REGION: 'us-east-2', HOME: dir, PATH: '' },
          now: () => new Date(),
        },
      );
      expect({ code: written.code, err: written.err }).toEqual({ code: 0, err: '' });
      const doc = parseYaml(readFileSync(out, 'utf8')) as KubeconfigDoc;
      // The CA kops's state store holds is the one the API stand-in serves with: the file trusts it.
      expect(doc.clusters.find((c) => c.name === clusterName)?.cluster).toEqual({
        server: `https://127.0.0.1:${api.port}`,
        'certificate-authority-data': Buffer.from(api.caPem.replace(/\r\n/g, '\n')).toString('base64'),
        'tls-server-name': `api.${clusterName}`,
      });

      const credential = (JSON.parse((await runExecPlugin(doc, clusterName)).stdout) as ExecCredential).status;
      expect(new X509Certificate(credential.clientCertificateData).checkIssued(new X509Certificate(api.caPem))).toBe(true);
      expect(await kubeGet(doc, clusterName, { certPem: credential.clientCertificateData, keyPem: credential.clientKeyData })).toEqual({
        status: 200,
        body: 'ok',
      });
      expect((await kubeGet(doc, clusterName)).status).toBe(401);
      rmSync(dir, { recursive: true, force: true });
    },
  );

  test(
    'GIVEN demo READY at 1.35.0 WHEN 1.36.4 is provisioned ' +
      'THEN kops sets the version, updates, the control plane rolls, then the nodes, and the fabric is READY at 1.36.4',
    async () => {
      const { result, entered, kops } = await observe({ action: 'provision', spec: demoAt('1.36.4') });
      expect({ status: result.status, error: result.error, cause: result.cause }).toEqual({
        status: 'SUCCEEDED',
        error: undefined,
        cause: undefined,
      });
      expect(kops).toEqual(UPGRADE_KOPS_CALLS);
      // The rolls are inside the cluster job, on EC2 compute (a roll may outlast Lambda's 15 minutes);
      // readiness is checked after it, as for any provision.
      expect(inOrder(entered, ['ValidateSpec', 'AcquireLock', 'NetworkJob', 'ClusterJob', 'CheckReadiness', 'RecordReady'])).toBe(true);
      expect(entered.filter((state) => state.endsWith('OnLambda'))).toEqual([]);
      expect(result.output).toMatchObject({ name: 'demo', status: 'READY', spec: { kubernetes: { version: '1.36.4' } } });
      expect(await record('demo')).toMatchObject({ status: 'READY', spec: { kubernetes: { version: '1.36.4' } } });
      expect(result.events.map((e) => e.DetailType)).toEqual(['Fabric Ready']);
    },
  );

  test('fails when the spec downgrades the READY fabric (1.36.4 -> 1.35.0), with FabricSpecInvalid before any job runs', async () => {
    const { result, entered, callLog } = await observe({ action: 'provision', spec: demoAt('1.35.0') });
    expect({ status: result.status, error: result.error }).toEqual({ status: 'FAILED', error: 'FabricSpecInvalid' });
    expect(errorMessage(result.cause)).toBe(
      'spec.kubernetes.version: received "1.35.0"; downgrades are not supported (the fabric runs 1.36.4): ' +
        'keep 1.36.x (1.36.4 or a later patch) or destroy and provision again',
    );
    expect(entered.filter((state) => JOB_STATES.includes(state))).toEqual([]);
    expect(existsSync(callLog)).toBe(false);
    expect(await record('demo')).toMatchObject({ status: 'READY', spec: { kubernetes: { version: '1.36.4' } } });
  });

  test('fails when the spec skips a minor of a fabric recorded at 1.34.2 (-> 1.36.4), with FabricSpecInvalid before any job', async () => {
    // A fabric READY at 1.34.2, as its provisioning run records it (the record is all ValidateSpec
    // reads): demo's record, renamed, at 1.34.2. Provisioning a second cluster would only cost time.
    const upgraded = (await record('demo')) as { spec: { kubernetes: Record<string, unknown> } } & Record<string, unknown>;
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

    const { result, entered, callLog } = await observe({
      action: 'provision',
      spec: spec('legacy', { kubernetes: { version: '1.36.4' } }),
    });
    expect({ status: result.status, error: result.error }).toEqual({ status: 'FAILED', error: 'FabricSpecInvalid' });
    expect(errorMessage(result.cause)).toBe(
      'spec.kubernetes.version: received "1.36.4"; upgrade one minor at a time (the fabric runs 1.34.2): ' +
        'use 1.35.x (e.g. 1.35.9) first, then 1.36.4',
    );
    expect(entered.filter((state) => JOB_STATES.includes(state))).toEqual([]);
    expect(existsSync(callLog)).toBe(false);
    expect(result.events.map((e) => e.DetailType)).toEqual(['Fabric Failed']);
    expect(await record('legacy')).toMatchObject({ status: 'READY', spec: { kubernetes: { version: '1.34.2' } } });
  });

  test(
    "4. a Terraform failure in the network job ends in Fabric Failed with Terraform's error, lock released, state kept; " +
      'a stale Terraform lock is released and the re-run completes',
    async () => {
      const versionsBefore = (await s3().send(new ListObjectVersionsCommand({ Bucket: BUCKET }))).Versions?.length ?? 0;
      const failed = await run(
        { action: 'provision', spec: spec('broken', { network: { cidr: '10.20.0.0/16' } }) },
        // A new fabric: its network job runs on Lambda compute.
        { injectBuildEnvironment: { NetworkJobOnLambda: { TF_CLI_ARGS_apply: '-var=undeclared_by_fault_injection=1' } } },
      );
      expect(failed.error).toBe('States.TaskFailed');
      expect(failed.cause).toMatch(/network job/);
      expect(failed.cause).toMatch(/undeclared/);
      expect(failed.events.map((e) => e.DetailType)).toEqual(['Fabric Failed']);
      expect(await locks()).toEqual([]);
      expect(await record('broken')).toMatchObject({ status: 'FAILED', lastError: { error: 'States.TaskFailed' } });
      const versionsAfter = (await s3().send(new ListObjectVersionsCommand({ Bucket: BUCKET }))).Versions?.length ?? 0;
      expect(versionsAfter).toBeGreaterThan(versionsBefore);

      // A build that is stopped or times out never unlocks: leave the lock Terraform would have left.
      // Unreleased, the re-run's Terraform would wait out -lock-timeout=120s and fail.
      const staleLock = {
        ID: 'stale-lock-of-a-stopped-build',
        Operation: 'OperationTypeApply',
        Info: '',
        Who: 'root@codebuild',
        Version: '1.11.4',
        Created: new Date().toISOString(),
      };
      await s3().send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'fabrics/broken/network.tfstate.tflock', Body: JSON.stringify(staleLock) }),
      );

      const fixed = await run({ action: 'provision', spec: spec('broken', { network: { cidr: '10.20.0.0/16' } }) });
      expect({ status: fixed.status, error: fixed.error, cause: fixed.cause }).toEqual({
        status: 'SUCCEEDED',
        error: undefined,
        cause: undefined,
      });
      expect(await record('broken')).toMatchObject({ status: 'READY' });
    },
  );

  test(
    '7. destroy without the right confirm does nothing; ' +
      "with it, cluster and network go, kops's state with its CA keyset too, and the state bucket stays",
    async () => {
      const kopsState = `fabrics/broken/kops/broken.${DOMAIN}/`;
      const kopsObjects = async () =>
        ((await s3().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: kopsState }))).Contents ?? []).map((o) => o.Key);
      expect(await kopsObjects()).toContain(clusterCaKey('broken', `broken.${DOMAIN}`));
      const refused = await run({ action: 'destroy', name: 'broken', region: 'us-east-2', confirm: 'demo' });
      expect(refused.error).toBe('FabricSpecInvalid');
      expect(refused.cause).toMatch(/confirm/);
      expect(await record('broken')).toMatchObject({ status: 'READY' });

      const destroyed = await run({ action: 'destroy', name: 'broken', region: 'us-east-2', confirm: 'broken' });
      expect({ status: destroyed.status, cause: destroyed.cause }).toEqual({ status: 'SUCCEEDED', cause: undefined });
      expect(await record('broken')).toMatchObject({ status: 'DESTROYED' });
      const groups = (await new AutoScalingClient({}).send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [];
      expect(groups.filter((g) => g.AutoScalingGroupName?.endsWith(`broken.${DOMAIN}`))).toEqual([]);
      const vpcs = (await ec2().send(new DescribeVpcsCommand({ Filters: [{ Name: 'cidr-block', Values: ['10.20.0.0/16'] }] }))).Vpcs ?? [];
      expect(vpcs).toEqual([]);
      expect(await bucketExists()).toBe(true);
      const versions = (await s3().send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: 'fabrics/broken/' }))).Versions ?? [];
      expect(versions.some((v) => v.Key === 'fabrics/broken/network.tfstate')).toBe(true);
      expect(await kopsObjects()).toEqual([]);
      expect(destroyed.events.map((e) => e.DetailType)).toEqual(['Fabric Destroyed']);
      expect(await locks()).toEqual([]);
    },
  );
});
