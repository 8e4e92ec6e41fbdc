import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateTagsCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ApprovalRequest, FabricRecord } from '../../lib/domain/contract';
import { sweepFabrics, SweepEvent } from '../../lambdas/sweep-fabrics/core';
import { approve, pendingApproval, reject } from '../../lib/cli/approval';
import { motoInstalled } from '../../lib/local/moto';
import { executeLocal, ExecuteOptions, localOrchestrator, LocalRunResult } from '../../lib/local/run';
import { localTaskTokens } from '../../lib/local/task-tokens';
import { TERRAFORM_SKIP_REASON } from '../support/terraform';
import { useWorkflowEnvironment } from '../support/workflow-environment';

/**
 * Day-2 workflow scenarios on one fabric, in order: the synthesized state machine run by
 * aws-local-stepfunctions, every Task by the real code, builds by the local CodeBuild stand-in
 * running the real scripts and Terraform against moto, kops by its stand-in. Approvals go through
 * the same core as `fabricctl approve` (lock item -> task token), sweeps through the real sweep core.
 */
const ready = motoInstalled() && TERRAFORM_SKIP_REASON === undefined;
if (!ready) {
  // eslint-disable-next-line no-console
  console.warn(
    `SKIPPED day-2 workflow scenarios: they need moto_server (${motoInstalled() ? 'found' : 'missing'}) ` +
      `and Terraform (${TERRAFORM_SKIP_REASON ?? 'found'}).`,
  );
}
const describeWorkflow = ready ? describe : describe.skip;
jest.setTimeout(600_000);

const ACCOUNT = '123456789012';
const BUCKET = `fabricctl-state-${ACCOUNT}-us-east-2`;
const DOMAIN = 'day2.example.com';
const NAME = 'gate';
const FAST: ExecuteOptions = { readinessPollMs: 200, dnsControllerDelayMs: 300, retryIntervalOverrides: { AcquireLock: 150 } };
const spec = (extra: Record<string, unknown> = {}) => ({ name: NAME, domain: DOMAIN, region: 'us-east-2', ...extra });

describeWorkflow('day-2 workflow scenarios (local mode, moto, real Terraform)', () => {
  const environment = useWorkflowEnvironment({ region: 'us-east-2', domain: DOMAIN });
  const s3 = () => new S3Client({ forcePathStyle: true });
  const ec2 = () => new EC2Client({});
  const run = (input: Record<string, unknown>, options: ExecuteOptions = {}): Promise<LocalRunResult> =>
    executeLocal(environment(), input, { ...FAST, ...options });
  const record = async (): Promise<FabricRecord> =>
    JSON.parse(
      await (await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: `fabrics/${NAME}/fabric.json` }))).Body!.transformToString(),
    ) as FabricRecord;
  const locks = async () => (await new DynamoDBClient({}).send(new ScanCommand({ TableName: localOrchestrator().lockTable }))).Items ?? [];
  const nodeGroupMax = async () =>
    ((await new AutoScalingClient({}).send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [])
      .filter((g) => g.AutoScalingGroupName?.startsWith('nodes') && g.AutoScalingGroupName.endsWith(`${NAME}.${DOMAIN}`))
      .reduce((sum, g) => sum + (g.MaxSize ?? 0), 0);
  const fabricVpc = async () =>
    (await ec2().send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: [NAME] }] }))).Vpcs?.[0]?.VpcId ?? '';

  /** Answers the approval as `fabricctl approve|reject` would: reads the lock item, sends the token. */
  const answer = (decision: 'approve' | 'reject', before?: () => Promise<void>) => {
    const seen: { request?: ApprovalRequest; status?: string } = {};
    const onApprovalRequested = () => {
      void (async () => {
        const request = await pendingApproval(new DynamoDBClient({}), localOrchestrator().lockTable, NAME);
        seen.request = request;
        seen.status = (await record()).status;
        await before?.();
        if (decision === 'approve') await approve(request, localTaskTokens, 'arn:aws:iam::123456789012:user/reviewer', new Date());
        else await reject(request, localTaskTokens, 'arn:aws:iam::123456789012:user/reviewer', 'not this week');
      })().catch((error: unknown) => {
        seen.status = `answer failed: ${String(error)}`;
      });
    };
    return { seen, onApprovalRequested };
  };

  /** The sweep core as its schedule runs it, starting executions in this process. */
  const sweep = async (task: SweepEvent['task'], now: Date) => {
    const put: unknown[] = [];
    const events = new EventBridgeClient({});
    const runs: LocalRunResult[] = [];
    const actions = await sweepFabrics(
      { task },
      {
        s3: s3(),
        s3ForRegion: () => s3(),
        events: {
          send: async (command: PutEventsCommand) => {
            put.push(JSON.parse(command.input.Entries?.[0]?.Detail ?? '{}'));
            return events.send(command);
          },
        } as never,
        accountId: ACCOUNT,
        stackRegion: 'us-east-2',
        bucketPrefix: 'fabricctl-state',
        now,
        start: async ({ name, input }) => {
          runs.push(await run(input as Record<string, unknown>, { executionName: name }));
          return true;
        },
      },
    );
    return { actions, put, runs };
  };

  beforeAll(async () => {
    await environment().apiServerFor(`${NAME}.${DOMAIN}`);
  }, 60_000);

  test(
    '1. approval required: ' +
      'the run plans, records AWAITING_APPROVAL, puts the plan in Fabric Awaiting Approval, and applies once approved',
    async () => {
      const { seen, onApprovalRequested } = answer('approve');
      const result = await run({ action: 'provision', spec: spec({ approve: 'required' }) }, { onApprovalRequested });
      expect({ status: result.status, error: result.error, cause: result.cause }).toEqual({
        status: 'SUCCEEDED',
        error: undefined,
        cause: undefined,
      });
      expect(seen.status).toBe('AWAITING_APPROVAL');
      expect(seen.request?.summary.lines[0]).toMatch(/^network \(Terraform\): \d+ to add, 0 to change, 0 to destroy$/);
      expect(seen.request?.summary.digests.network).toMatch(/^[0-9a-f]{64}$/);
      expect(result.events.map((e) => e.DetailType)).toEqual(['Fabric Awaiting Approval', 'Fabric Ready']);
      expect(await record()).toMatchObject({ status: 'READY' });
      expect(await locks()).toEqual([]);
    },
  );

  test('2. a rejected plan ends the run with ApprovalRejected, applies nothing, and the fabric stays READY', async () => {
    const { seen, onApprovalRequested } = answer('reject');
    const maxBefore = await nodeGroupMax();
    const result = await run(
      { action: 'provision', spec: spec({ approve: 'required', kubernetes: { nodes: { min: 3, max: 9 } } }) },
      { onApprovalRequested },
    );
    expect({ error: result.error, cause: result.error === 'ApprovalRejected' ? '' : result.cause }).toEqual({
      error: 'ApprovalRejected',
      cause: '',
    });
    expect(result.cause).toMatch(/rejected by arn:aws:iam::123456789012:user\/reviewer: not this week; nothing was applied/);
    expect(seen.request?.summary.lines[1]).toMatch(/^cluster \(kops Terraform\): 0 to add, [1-9]\d* to change, 0 to destroy$/);
    expect(await nodeGroupMax()).toBe(maxBefore);
    expect(await record()).toMatchObject({ status: 'READY', lastError: { error: 'ApprovalRejected' } });
    expect(await locks()).toEqual([]);
  });

  test("3. an unanswered approval ends with ApprovalTimedOut after the run's approvalTimeout; nothing changes", async () => {
    const result = await run({
      action: 'provision',
      approvalTimeout: '2s',
      spec: spec({ approve: 'required', kubernetes: { nodes: { min: 3, max: 9 } } }),
    });
    expect(result.error).toBe('ApprovalTimedOut');
    expect(result.cause).toMatch(/nobody approved or rejected the plan of fabric gate within 2 seconds/);
    expect(await record()).toMatchObject({ status: 'READY', lastError: { error: 'ApprovalTimedOut' } });
    expect(await locks()).toEqual([]);
  });

  test('4. drift: a resource changed in the emulator is found by the drift sweep, which puts Fabric Drifted and records it', async () => {
    const subnets =
      (await ec2().send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [await fabricVpc()] }] }))).Subnets ?? [];
    expect(subnets.length).toBe(3);
    await ec2().send(new CreateTagsCommand({ Resources: [subnets[0]!.SubnetId!], Tags: [{ Key: 'Name', Value: 'renamed-by-hand' }] }));

    const { actions, runs } = await sweep('drift', new Date());
    expect(actions).toEqual([expect.objectContaining({ fabric: NAME, kind: 'drift-check', started: true })]);
    expect(runs[0]?.status).toBe('SUCCEEDED');
    expect(runs[0]?.events.map((e) => e.DetailType)).toEqual(['Fabric Drifted']);
    const drifted = await record();
    expect(drifted.status).toBe('READY');
    expect(drifted.drift).toMatchObject({ drifted: true, summary: { network: { add: 0, change: 1, destroy: 0 } } });
  });

  test('5. a plan that changes between approval and apply is refused (PlanChanged) before anything is applied', async () => {
    const vpc = await fabricVpc();
    const { onApprovalRequested } = answer('approve', async () => {
      await ec2().send(new CreateTagsCommand({ Resources: [vpc], Tags: [{ Key: 'Name', Value: 'changed-after-the-plan' }] }));
    });
    const result = await run({ action: 'provision', spec: spec({ approve: 'required' }) }, { onApprovalRequested });
    expect(result.error).toBe('States.TaskFailed');
    expect(result.cause).toMatch(/network job/);
    expect(result.cause).toMatch(/PlanChanged: the plan differs from the approved one/);
    const vpcs = (await ec2().send(new DescribeVpcsCommand({ VpcIds: [vpc] }))).Vpcs ?? [];
    expect(vpcs[0]?.Tags?.find((t) => t.Key === 'Name')?.Value).toBe('changed-after-the-plan');
  });

  test(
    '6. a lease: ' + 'provision with expiresAfter sets the expiry, extend moves it, the sweep warns once before and destroys after',
    async () => {
      const provisioned = await run({ action: 'provision', spec: spec({ expiresAfter: '2h' }) });
      expect(provisioned.status).toBe('SUCCEEDED');
      const leased = await record();
      expect(leased).toMatchObject({ status: 'READY', lease: { expiresAfter: '2h' } });
      expect(leased.drift).toBeUndefined();

      const extended = await run({ action: 'extend', name: NAME, region: 'us-east-2', extendBy: '24h' });
      expect(extended.status).toBe('SUCCEEDED');
      const expiresAt = Date.parse((await record()).lease?.expiresAt ?? '');
      expect(expiresAt - Date.parse(leased.lease?.expiresAt ?? '')).toBe(24 * 3600 * 1000);

      // A 2h lease warns a quarter of it (30 minutes) before its end, in exactly one sweep's window.
      const early = await sweep('leases', new Date(expiresAt - 60 * 60_000));
      expect(early.actions).toEqual([]);
      const warned = await sweep('leases', new Date(expiresAt - 25 * 60_000));
      expect(warned.actions).toEqual([{ fabric: NAME, region: 'us-east-2', kind: 'warn' }]);
      expect(warned.put).toEqual([expect.objectContaining({ name: NAME, extendWith: 'fabricctl extend gate 24h --region us-east-2' })]);

      const expired = await sweep('leases', new Date(expiresAt + 60_000));
      expect(expired.actions).toEqual([expect.objectContaining({ fabric: NAME, kind: 'destroy', started: true })]);
      expect({ status: expired.runs[0]?.status, cause: expired.runs[0]?.cause }).toEqual({ status: 'SUCCEEDED', cause: undefined });
      expect(await record()).toMatchObject({ status: 'DESTROYED' });
      expect(await fabricVpc()).toBe('');
    },
  );

  test('7. a protected spec cannot be destroyed: refused before anything, naming the field and the fix', async () => {
    const result = await run({ action: 'destroy', spec: spec({ protected: true }), confirm: NAME });
    expect(result.error).toBe('FabricSpecInvalid');
    expect(result.cause).toMatch(
      /spec\.protected: received true; fabric gate is protected: set .*protected.*: false in its fabric\.json and provision it/,
    );
  });
});
