import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { motoInstalled } from '../../lib/local/moto';
import { executeLocal, ExecuteOptions, localOrchestrator, LocalRunResult } from '../../lib/local/run';
import type { ProgressEvent } from '../../lib/progress-events';
import { TERRAFORM_SKIP_REASON } from '../support/terraform';
import { useWorkflowEnvironment } from '../support/workflow-environment';

/**
 * Two runs for one fabric at once, in local mode (the synthesized state machine, the real handlers,
 * the real network script and Terraform against moto). The first takes the lock and fails in its
 * network job (fault injection: Terraform's apply gets an undeclared variable), so it holds the
 * lock without building a whole cluster; the second starts once the first holds the lock, retries
 * AcquireLock as its retrier allows (maxAttempts 10 in lib/workflow.ts) and gives up with
 * FabricBusy. The first's build waits at a gate until then (BASH_ENV, which bash reads when it
 * starts), so how fast Terraform fails cannot decide the race. This is workflow scenario 5 (the
 * other seven are test/workflow/scenarios.test.ts).
 */
const ready = motoInstalled() && TERRAFORM_SKIP_REASON === undefined;
if (!ready) {
  // eslint-disable-next-line no-console
  console.warn(
    `SKIPPED concurrency workflow: it needs moto_server (${motoInstalled() ? 'found' : 'missing'}) ` +
      `and Terraform (${TERRAFORM_SKIP_REASON ?? 'found'}).`,
  );
}
const describeWorkflow = ready ? describe : describe.skip;
jest.setTimeout(300_000);

const BUCKET = 'fabricctl-state-123456789012-us-east-2';
const DOMAIN = 'fabric.example.com';
const RECORD_KEY = 'fabrics/race/fabric.json';
const FAST: ExecuteOptions = { readinessPollMs: 200, dnsControllerDelayMs: 300, retryIntervalOverrides: { AcquireLock: 50 } };
const FAULT = { TF_CLI_ARGS_apply: '-var=undeclared_by_fault_injection=1' };

/** A build environment whose bash sessions wait until `open()`: BASH_ENV is sourced by every non-interactive bash. */
function buildGate(): { readonly env: Record<string, string>; open(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'build-gate-'));
  const script = join(dir, 'wait.sh');
  writeFileSync(script, `until [[ -e '${join(dir, 'open')}' ]]; do sleep 0.05; done\n`);
  return { env: { BASH_ENV: script }, open: () => writeFileSync(join(dir, 'open'), '') };
}

describeWorkflow('two runs for one fabric (local mode, moto, real Terraform)', () => {
  const environment = useWorkflowEnvironment({ region: 'us-east-2', domain: DOMAIN });
  const s3 = () => new S3Client({ forcePathStyle: true });

  /** Every stored version of the fabric record, oldest first. */
  async function recordVersions(): Promise<Array<Record<string, unknown>>> {
    const listed = (await s3().send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: RECORD_KEY }))).Versions ?? [];
    const versions = listed.filter((v) => v.Key === RECORD_KEY).reverse();
    return Promise.all(
      versions.map(async (v) => {
        const object = await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: RECORD_KEY, VersionId: v.VersionId }));
        return JSON.parse(await object.Body!.transformToString()) as Record<string, unknown>;
      }),
    );
  }

  test(
    'GIVEN a run holding the lock WHEN a second run for the fabric waits, retrying, then gives up with FabricBusy ' +
      'THEN only the holder writes the record',
    async () => {
      const spec = { name: 'race', domain: DOMAIN, region: 'us-east-2', network: { cidr: '10.30.0.0/16' } };
      let startSecond: () => void = () => undefined;
      const firstHoldsLock = new Promise<void>((resolve) => {
        startSecond = resolve;
      });
      const onFirstEvent = (e: ProgressEvent) => {
        if (e.type === 'stateExited' && e.state === 'AcquireLock') startSecond();
      };

      const gate = buildGate();
      const holdThenFail = { ...FAULT, ...gate.env };
      // On either compute: a new fabric's network job runs on Lambda compute, an existing one's on EC2.
      const first = executeLocal(
        environment(),
        { action: 'provision', spec },
        {
          ...FAST,
          executionName: 'holder',
          onEvent: onFirstEvent,
          injectBuildEnvironment: { NetworkJob: holdThenFail, NetworkJobOnLambda: holdThenFail },
        },
      );
      const retries: Array<{ state: string; error: string }> = [];
      const onLoserEvent = (e: ProgressEvent) => {
        if (e.type === 'retry') retries.push({ state: e.state, error: e.error });
      };
      const second = firstHoldsLock.then(() =>
        executeLocal(environment(), { action: 'provision', spec }, { ...FAST, executionName: 'loser', onEvent: onLoserEvent }),
      );
      let loser: LocalRunResult;
      let afterLoser: Array<Record<string, unknown>>;
      try {
        loser = await second;
        // The loser is done while the holder still waits at the gate: nothing it did may show in the record.
        afterLoser = await recordVersions();
      } finally {
        gate.open();
      }
      const holder = await first;

      expect({ error: loser.error, events: loser.events.map((e) => e.DetailType) }).toEqual({
        error: 'FabricBusy',
        events: ['Fabric Failed'],
      });
      expect(loser.cause).toMatch(/locked by execution arn:aws:states:us-east-2:123456789012:execution:FabricOrchestrator:holder/);
      // The waiting is visible: one retry event per attempt of AcquireLock's retrier, naming the failed condition.
      expect(retries).toHaveLength(10);
      expect(new Set(retries.map((r) => `${r.state} ${r.error}`))).toEqual(
        new Set(['AcquireLock DynamoDB.ConditionalCheckFailedException']),
      );
      // At most the holder's own PROVISIONING (written after its Prepare, whichever run ends first).
      expect(afterLoser.map((v) => ({ status: v.status, lastExecution: v.lastExecution }))).toEqual(
        afterLoser.length === 0 ? [] : [{ status: 'PROVISIONING', lastExecution: holder.execution }],
      );
      expect(holder.error).toBe('States.TaskFailed');
      const versions = await recordVersions();
      expect(versions.map((v) => ({ status: v.status, lastExecution: v.lastExecution }))).toEqual([
        { status: 'PROVISIONING', lastExecution: holder.execution },
        { status: 'FAILED', lastExecution: holder.execution },
      ]);
      const locks = (await new DynamoDBClient({}).send(new ScanCommand({ TableName: localOrchestrator().lockTable }))).Items ?? [];
      expect(locks).toEqual([]);
    },
  );
});
