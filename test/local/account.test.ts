import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { startPush } from '../../lambdas/codecommit-push/core';
import { stopLocalAccount } from '../../lib/local/account/control';
import { LocalAccountState, processAlive, readAccountState } from '../../lib/local/account/home';
import { runCli } from '../cli/support';
import { codeCommitPushEvent } from '../support/eventbridge';
import { MOTO_AVAILABLE } from '../support/moto';

/**
 * `fabricctl local start|status|stop` and the commands' `--local` against the account, end to end:
 * the daemon is started detached on free ports (its own moto, stand-ins and Step Functions endpoint,
 * the synthesized state machine run by executeLocal), used through the CLI, the AWS SDK, the AWS CLI
 * and the CodeCommit push function's core, stopped and started again on its folder, then stopped.
 * One plan runs the real jobs (about a minute on 2 cores); the other runs fail in seconds.
 */
const describeAccount = MOTO_AVAILABLE ? describe : describe.skip;
// A skipped test says why (DEVELOPERS.md).
// eslint-disable-next-line no-console
if (!MOTO_AVAILABLE) console.warn('SKIPPED: moto_server (pip install moto[server]) is not installed, so no local account can start.');

const AWS_CLI = spawnSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' }).stdout.trim();

/** A fabrics repository with `fabric.json` on branch `fabric/<name>`, as a push leaves it; returns the commit. */
function fabricRepository(dir: string, name: string, spec: unknown): string {
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, '-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { encoding: 'utf8' }).trim();
  git('init', '-q', '-b', `fabric/${name}`);
  writeFileSync(join(dir, 'fabric.json'), JSON.stringify(spec));
  git('add', 'fabric.json');
  git('commit', '-q', '-m', `fabric ${name}`);
  return git('rev-parse', 'HEAD');
}
const repository = mkdtempSync(join(tmpdir(), 'fabricctl-account-repo-'));
// Five zones in a region with three: the run fails in seconds, after it has read this file.
const pushedCommit = fabricRepository(repository, 'pushed', { name: 'pushed', domain: 'pushed.example.com', zoneCount: 5 });

const home = mkdtempSync(join(tmpdir(), 'fabricctl-account-'));
const env: NodeJS.ProcessEnv = { AWS_REGION: 'us-east-2', FABRICCTL_LOCAL_HOME: home };
const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const cli = (argv: string[], cwd?: string) => runCli(argv, { env, cwd, sleep: realSleep, pollMs: 500 });
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

function account(): LocalAccountState {
  const state = readAccountState(home);
  if (!state?.stepFunctions || !state.moto) throw new Error(`no running account in ${home}`);
  return state;
}

const sfnClient = () => new SFNClient({ region: 'us-east-2', endpoint: account().stepFunctions?.endpoint, credentials, maxAttempts: 2 });

async function finished(sfn: SFNClient, executionArn: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING' || Date.now() > deadline) return described;
    await realSleep(300);
  }
}

/** Processes whose environment names this account's folder: the daemon and everything it started. */
function processesOfAccount(): number[] {
  const marker = `FABRICCTL_LOCAL_HOME=${home}\0`;
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return `${readFileSync(`/proc/${pid}/environ`, 'utf8')}\0`.includes(marker) && processAlive(Number(pid));
      } catch {
        return false;
      }
    })
    .map(Number);
}

describeAccount('fabricctl local: a local account that persists', () => {
  afterAll(async () => {
    // A failed test must not leave the daemon and moto running.
    await stopLocalAccount(home);
  }, 60_000);

  test(
    'GIVEN no account WHEN local start ' +
      'THEN the daemon, moto and the Step Functions endpoint run on free ports, account.json names them, local status says each is alive',
    async () => {
      const started = await cli(['local', 'start', '--json', '--repository', `fabrics=${repository}`]);
      expect(started.code).toBe(0);
      const state = JSON.parse(started.out) as LocalAccountState;
      expect(state).toMatchObject({
        status: 'running',
        home,
        region: 'us-east-2',
        stepFunctions: {
          endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
          stateMachineArn: 'arn:aws:states:us-east-2:123456789012:stateMachine:FabricOrchestrator',
        },
      });
      expect(readAccountState(home)).toEqual(state);
      const status = await cli(['local', 'status']);
      expect(status.code).toBe(0);
      expect(status.out).toMatch(/daemon\s+\d+\s+-\s+yes/);
      expect(status.out).toMatch(/AWS emulator \(moto\)\s+\d+\s+http:\/\/127\.0\.0\.1:\d+\s+yes/);
      expect(status.out).toMatch(/Step Functions\s+\d+\s+http:\/\/127\.0\.0\.1:\d+\s+yes/);
    },
    300_000,
  );

  test('fails when a second start is asked: LocalAccountRunning (exit 1) naming the running one, which is left alone', async () => {
    const before = account();
    const second = await cli(['local', 'start']);
    expect(second.code).toBe(1);
    expect(second.err).toContain(`error: LocalAccountRunning: a local account already runs in ${home} (daemon pid ${before.daemon.pid}`);
    expect(account()).toEqual(before);
  });

  test("GIVEN an invalid spec run at the endpoint THEN it fails FabricSpecInvalid in seconds, with Step Functions' history", async () => {
    const sfn = sfnClient();
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: account().stepFunctions?.stateMachineArn,
        name: 'invalid-1',
        input: JSON.stringify({ action: 'provision', spec: { name: 'demo', domain: 'not a domain' } }),
      }),
    );
    const described = await finished(sfn, executionArn);
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(described).toMatchObject({ status: 'FAILED', error: 'FabricSpecInvalid' });
    expect(history.events?.slice(0, 2).map((e) => [e.type, e.stateEnteredEventDetails?.name])).toEqual([
      ['ExecutionStarted', undefined],
      ['TaskStateEntered', 'ValidateSpec'],
    ]);
    expect(history.events?.at(-1)).toMatchObject({ type: 'ExecutionFailed', executionFailedEventDetails: { error: 'FabricSpecInvalid' } });
  }, 120_000);

  test("GIVEN the AWS CLI WHEN it starts, describes and reads an execution's history at the endpoint THEN Step Functions' answers", () => {
    if (!AWS_CLI) {
      // A skipped test says why (DEVELOPERS.md).
      // eslint-disable-next-line no-console
      console.warn('SKIPPED: the aws command is not installed here, so the AWS CLI cannot be driven against the local endpoint.');
      return;
    }
    const state = account();
    const aws = (...args: string[]) => {
      const run = spawnSync('aws', ['stepfunctions', ...args, '--endpoint-url', state.stepFunctions?.endpoint ?? '', '--output', 'json'], {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: home,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_DEFAULT_REGION: 'us-east-2',
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        },
        timeout: 60_000,
      });
      return { code: run.status, out: run.stdout, err: run.stderr };
    };
    const started = aws(
      'start-execution',
      '--state-machine-arn',
      state.stepFunctions?.stateMachineArn ?? '',
      '--name',
      'aws-cli-1',
      '--input',
      '{"action":"provision","spec":{"name":"demo","domain":"not a domain"}}',
    );
    expect(started.code).toBe(0);
    const { executionArn } = JSON.parse(started.out) as { executionArn: string };
    let described: { status: string; error?: string } = { status: 'RUNNING' };
    for (let i = 0; i < 60 && described.status === 'RUNNING'; i += 1) {
      spawnSync('sleep', ['1']);
      described = JSON.parse(aws('describe-execution', '--execution-arn', executionArn).out) as typeof described;
    }
    const history = JSON.parse(aws('get-execution-history', '--execution-arn', executionArn).out) as { events: { type: string }[] };
    const missing = aws('describe-execution', '--execution-arn', executionArn.replace('aws-cli-1', 'nope'));
    expect(described).toMatchObject({ status: 'FAILED', error: 'FabricSpecInvalid' });
    expect(history.events[0]?.type).toBe('ExecutionStarted');
    expect(history.events.at(-1)?.type).toBe('ExecutionFailed');
    // AWS CLI v1 exits 255 on a service error, v2 254.
    expect([missing.code === 254 || missing.code === 255, missing.err]).toEqual([
      true,
      expect.stringContaining('An error occurred (ExecutionDoesNotExist) when calling the DescribeExecution operation'),
    ]);
  }, 180_000);

  test(
    "GIVEN a CodeCommit push WHEN the push function's core starts its run through the endpoint " +
      'THEN one execution named after the commit runs the fabric.json of that commit, and the same push again starts nothing',
    async () => {
      const sfn = sfnClient();
      const stateMachineArn = account().stepFunctions?.stateMachineArn ?? '';
      // What a user makes by hand once (an execution with a spec gets it made; a push's names no domain).
      const route53 = new Route53Client({ region: 'us-east-1', endpoint: account().moto?.endpoint, credentials });
      await route53.send(new CreateHostedZoneCommand({ Name: 'pushed.example.com.', CallerReference: 'account-test' }));
      const event = codeCommitPushEvent('fabrics', 'fabric/pushed', pushedCommit);
      const first = await startPush(event, { sfn, stateMachineArn });
      const again = await startPush(event, { sfn, stateMachineArn });
      if (first.outcome === 'misnamed') throw new Error(first.reason);
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: first.executionArn }));
      expect([first.outcome, again.outcome, first.executionName]).toEqual(['started', 'duplicate', `pushed-${pushedCommit.slice(0, 12)}`]);
      expect(JSON.parse(described.input ?? '')).toEqual({
        action: 'provision',
        source: { provider: 'codecommit', repository: 'fabrics', branch: 'fabric/pushed', commit: pushedCommit },
      });
      // ValidateSpec read the commit's fabric.json from the CodeCommit stand-in: its five zones are what fails.
      expect(await finished(sfn, first.executionArn)).toMatchObject({ status: 'FAILED', error: 'InsufficientZones' });
    },
    120_000,
  );

  test('WHEN plan --local --watch --verbose THEN it runs the real jobs in the account; the watch shows their logs', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'fabricctl-account-spec-'));
    writeFileSync(join(cwd, 'fabric.json'), JSON.stringify({ name: 'planned', domain: 'example.com' }));
    const plan = await cli(['plan', '--local', 'fabric.json', '--watch', '--verbose'], cwd);
    expect(plan.err).toContain(`local account in ${home}: Step Functions ${account().stepFunctions?.endpoint}`);
    expect(plan.out).toContain('started plan of planned: arn:aws:states:us-east-2:123456789012:execution:FabricOrchestrator:planned-plan-');
    expect(plan.out).toContain('Plan: 11 to add, 0 to change, 0 to destroy.');
    expect(plan.out).toMatch(/status: SUCCEEDED/);
    expect(plan.code).toBe(0);
  }, 300_000);

  test('GIVEN up --local failed on a fabric the region cannot hold THEN list, status, logs --local read its record and steps', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'fabricctl-account-spec-'));
    writeFileSync(join(cwd, 'fabric.json'), JSON.stringify({ name: 'kept', domain: 'example.com', zoneCount: 5 }));
    const up = await cli(['up', '--local', 'fabric.json', '--watch'], cwd);
    expect([up.code, up.out]).toEqual([1, expect.stringContaining('error: InsufficientZones')]);
    const list = await cli(['list', '--local']);
    expect(list.out).toMatch(/^kept\s+FAILED\s/m);
    const status = await cli(['status', 'kept', '--local', '--json']);
    expect(JSON.parse(status.out)).toMatchObject({
      name: 'kept',
      status: 'FAILED',
      lastExecution: expect.stringContaining(':execution:FabricOrchestrator:kept-provision-'),
    });
    const logs = await cli(['logs', 'kept', '--local']);
    expect(logs.out).toContain('✗ DiscoverZones InsufficientZones');
    // approve and kubeconfig find the account too (no --endpoint): the lock table, then the record.
    const approve = await cli(['approve', 'kept', '--local']);
    expect([approve.code, approve.err]).toEqual([
      3,
      'error: NotAwaitingApproval: no run of fabric kept is waiting for approval (fabricctl status kept shows its state)\n',
    ]);
    const kubeconfig = await cli(['kubeconfig', 'kept', '--local', '--out', join(cwd, 'kubeconfig')]);
    expect([kubeconfig.code, kubeconfig.err]).toEqual([
      1,
      expect.stringContaining('error: FabricNotReady: fabric kept is FAILED, not READY'),
    ]);
  }, 120_000);

  test('GIVEN the account stopped and started again on its folder THEN the fabric record and the executions are still there', async () => {
    const before = account();
    expect((await cli(['local', 'stop'])).code).toBe(0);
    expect(existsSync(join(home, 'account.json'))).toBe(false);
    expect((await cli(['local', 'start'])).code).toBe(0);
    const after = account();
    expect(after.daemon.pid).not.toBe(before.daemon.pid);
    expect(after.moto?.replayedRequests).toBeGreaterThan(0);
    const status = await cli(['status', 'kept', '--local', '--json']);
    expect(JSON.parse(status.out)).toMatchObject({ name: 'kept', status: 'FAILED' });
    const described = await sfnClient().send(
      new DescribeExecutionCommand({
        executionArn: `${after.stepFunctions?.stateMachineArn.replace(':stateMachine:', ':execution:')}:invalid-1`,
      }),
    );
    expect(described).toMatchObject({ status: 'FAILED', error: 'FabricSpecInvalid' });
  }, 300_000);

  test('WHEN local stop THEN nothing of the account runs (daemon, moto, anything run with its folder); local status says so', async () => {
    const state = account();
    expect(processesOfAccount().length).toBeGreaterThan(0);
    const stopped = await cli(['local', 'stop']);
    expect(stopped.out).toContain(`stopped daemon (pid ${state.daemon.pid})`);
    expect([processAlive(state.daemon.pid), processAlive(state.moto?.pid ?? 0), processesOfAccount()]).toEqual([false, false, []]);
    const status = await cli(['local', 'status']);
    expect([status.code, status.out]).toEqual([3, `no local account runs in ${home} (fabricctl local start starts one)\n`]);
  }, 120_000);
});

describe('--local without a running account', () => {
  test('fails when status --local finds no account: LocalAccountNotRunning, exit 3, saying how to start one', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'fabricctl-no-account-'));
    const run = await runCli(['status', 'demo', '--local'], { env: { AWS_REGION: 'us-east-2', FABRICCTL_LOCAL_HOME: empty } });
    expect([run.code, run.err]).toEqual([
      3,
      `error: LocalAccountNotRunning: no local account runs in ${empty}: start one with fabricctl local start ` +
        `(or set FABRICCTL_LOCAL_HOME to the folder of the one you started)\n`,
    ]);
  });
});
