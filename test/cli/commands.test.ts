import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeAvailabilityZonesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { LocalRunOptions } from '../../lib/cli/commands';
import { runCli, tempDir } from './support';
import { historyTime, historyToBuildSubmitted } from '../support/history-events';

/**
 * Each command in process, with the AWS SDK mocked by aws-sdk-client-mock (no network). The same
 * calls against moto are in cli.moto.test.ts.
 */
const cfn = mockClient(CloudFormationClient);
const ec2 = mockClient(EC2Client);
const sfn = mockClient(SFNClient);
const logs = mockClient(CloudWatchLogsClient);
const MACHINE = 'arn:aws:states:us-east-2:123456789012:stateMachine:Fabric';
const COMMIT = 'abcdef0123456789abcdef0123456789abcdef01';

function specDir(spec: unknown = { name: 'demo', domain: 'example.com' }): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'fabric.json'), typeof spec === 'string' ? spec : JSON.stringify(spec));
  return dir;
}

beforeEach(() => {
  for (const m of [cfn, ec2, sfn, logs]) m.reset();
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'FabricOrchestrator',
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [{ OutputKey: 'StateMachineArn', OutputValue: MACHINE }],
      },
    ],
  });
});

describe('fabricctl validate', () => {
  test('GIVEN a valid spec WHEN validated THEN exit 0', async () => {
    const run = await runCli(['validate', 'fabric.json'], { cwd: specDir() });
    expect(run.code).toBe(0);
    expect(run.out).toContain('valid (fabric demo');
  });

  test('fails when the spec has several problems: exit 2 and every one listed with field, value and fix', async () => {
    const run = await runCli(['validate', 'fabric.json', '--json'], {
      cwd: specDir({ name: '9', domain: 'nope', network: { cidr: '8.8.0.0/16' }, colour: 'blue' }),
    });
    expect(run.code).toBe(2);
    const result = JSON.parse(run.out) as { valid: boolean; problems: { field: string; received: string; fix: string }[] };
    expect(result.valid).toBe(false);
    expect(result.problems.map((p) => p.field).sort()).toEqual(['colour', 'domain', 'name', 'network.cidr']);
    expect(result.problems.every((p) => p.received.length > 0 && p.fix.length > 0)).toBe(true);
  });

  test('fails when the file does not exist: exit 3', async () => {
    expect((await runCli(['validate', 'missing.json'])).code).toBe(3);
  });

  test('fails when the file is not JSON: exit 2', async () => {
    expect((await runCli(['validate', 'fabric.json'], { cwd: specDir('{ name: ') })).code).toBe(2);
  });

  test('GIVEN a spec file that starts with a UTF-8 byte order mark WHEN validated THEN exit 0', async () => {
    const run = await runCli(['validate', 'fabric.json'], { cwd: specDir('\ufeff{"name": "demo", "domain": "example.com"}') });
    expect(run.code).toBe(0);
  });

  test('fails when the name has non-ASCII letters: exit 2 with the ASCII name to use', async () => {
    const run = await runCli(['validate', 'fabric.json', '--json'], { cwd: specDir({ name: 'démo', domain: 'example.com' }) });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.out)).toEqual({
      valid: false,
      problems: [
        {
          field: 'name',
          received: '"démo"',
          fix: 'write the name in ASCII: "demo" ("é" would otherwise be dropped, naming another fabric)',
        },
      ],
    });
  });
});

describe('fabricctl validate with several specs', () => {
  /** A directory holding each spec at its relative path. */
  function specTree(files: Record<string, unknown>): string {
    const dir = tempDir();
    for (const [path, spec] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), typeof spec === 'string' ? spec : JSON.stringify(spec));
    }
    return dir;
  }

  test('GIVEN two specs of different fabrics WHEN validated together THEN exit 0 and each is listed valid', async () => {
    const cwd = specTree({ 'a.json': { name: 'alpha', domain: 'example.com' }, 'b.json': { name: 'beta', domain: 'example.com' } });
    const run = await runCli(['validate', 'a.json', 'b.json'], { cwd });
    expect(run.code).toBe(0);
    expect(run.out).toBe(
      'a.json: valid (fabric alpha, cluster alpha.example.com, region us-east-2)\n' +
        'b.json: valid (fabric beta, cluster beta.example.com, region us-east-2)\n',
    );
  });

  test('fails when two raw names normalise to the same fabric: exit 2 and each file names the other', async () => {
    const cwd = specTree({
      'a.json': { name: 'Demo', domain: 'example.com' },
      'b.json': { name: 'de-mo', domain: 'example.com', region: 'eu-west-1' },
    });
    const run = await runCli(['validate', 'a.json', 'b.json', '--json'], { cwd });
    expect(run.code).toBe(2);
    const result = JSON.parse(run.out) as { valid: boolean; files: { path: string; valid: boolean; problems?: unknown[] }[] };
    expect(result.valid).toBe(false);
    expect(result.files.map((f) => [f.path, f.problems])).toEqual([
      [
        'a.json',
        [
          {
            field: 'name',
            received: '"Demo"',
            fix:
              'rename this fabric or the other: "de-mo" in b.json also normalises to demo, ' +
              'and one fabric has one branch (fabric/demo), one lock and one record',
          },
        ],
      ],
      [
        'b.json',
        [
          {
            field: 'name',
            received: '"de-mo"',
            fix:
              'rename this fabric or the other: "Demo" in a.json also normalises to demo, ' +
              'and one fabric has one branch (fabric/demo), one lock and one record',
          },
        ],
      ],
    ]);
  });

  test('GIVEN a directory WHEN validated THEN every fabric.json under it is checked; a collision is printed with both files', async () => {
    const cwd = specTree({
      'fabrics/one/fabric.json': { name: 'Shop', domain: 'example.com' },
      'fabrics/two/fabric.json': { name: 'shop', domain: 'example.org' },
      'fabrics/three/fabric.json': { name: 'other', domain: 'example.com' },
      'fabrics/notes.json': '{"not": "a spec"}',
      'fabrics/.git/fabric.json': '{}',
    });
    const run = await runCli(['validate', 'fabrics'], { cwd });
    expect(run.code).toBe(2);
    expect(run.out).toBe('fabrics/three/fabric.json: valid (fabric other, cluster other.example.com, region us-east-2)\n');
    expect(run.err).toContain(
      'fabrics/one/fabric.json: 1 problem(s)\n  name\n    received: "Shop"\n' +
        '    fix: rename this fabric or the other: "shop" in fabrics/two/fabric.json also normalises to shop',
    );
    expect(run.err).toContain(
      'fabrics/two/fabric.json: 1 problem(s)\n  name\n    received: "shop"\n' +
        '    fix: rename this fabric or the other: "Shop" in fabrics/one/fabric.json also normalises to shop',
    );
  });

  test('GIVEN one file that is not JSON among several WHEN validated THEN the others are still checked', async () => {
    const cwd = specTree({ 'a.json': '{ name: ', 'b.json': { name: 'beta', domain: 'example.com' } });
    const run = await runCli(['validate', 'a.json', 'b.json', '--json'], { cwd });
    expect(run.code).toBe(2);
    const result = JSON.parse(run.out) as { files: { path: string; valid: boolean; problems?: { field: string }[] }[] };
    expect(result.files.map((f) => [f.path, f.valid, f.problems?.map((p) => p.field)])).toEqual([
      ['a.json', false, ['(file)']],
      ['b.json', true, undefined],
    ]);
  });

  test('GIVEN the examples directory WHEN validated THEN every example spec is valid', async () => {
    const run = await runCli(['validate', join(__dirname, '../../examples')]);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
  });

  test('fails when a directory holds no fabric.json: exit 3', async () => {
    const cwd = specTree({ 'empty/readme.json': '{}' });
    const run = await runCli(['validate', 'empty'], { cwd });
    expect(run.code).toBe(3);
    expect(run.err).toContain('no fabric.json under empty');
  });
});

describe('fabricctl init', () => {
  test('GIVEN a region whose first zone is unavailable WHEN init THEN the zones are filtered first and pinned in fabric.json', async () => {
    ec2.on(DescribeAvailabilityZonesCommand).resolves({
      AvailabilityZones: [
        { ZoneName: 'us-east-2a', State: 'impaired', ZoneType: 'availability-zone', OptInStatus: 'opt-in-not-required' },
        { ZoneName: 'us-east-2b', State: 'available', ZoneType: 'availability-zone', OptInStatus: 'opt-in-not-required' },
        { ZoneName: 'us-east-2c', State: 'available', ZoneType: 'availability-zone', OptInStatus: 'opt-in-not-required' },
        { ZoneName: 'us-east-2-lax-1a', State: 'available', ZoneType: 'local-zone', OptInStatus: 'opted-in' },
        { ZoneName: 'us-east-2d', State: 'available', ZoneType: 'availability-zone', OptInStatus: 'opt-in-not-required' },
      ],
    });
    const cwd = tempDir();
    const run = await runCli(['init', 'Demo-1', '--domain', 'Example.com.'], { cwd });
    expect(run.code).toBe(0);
    expect(JSON.parse(readFileSync(join(cwd, 'fabric.json'), 'utf8'))).toEqual({
      name: 'demo1',
      domain: 'example.com',
      region: 'us-east-2',
      zones: ['us-east-2b', 'us-east-2c', 'us-east-2d'],
    });
    expect(run.out).toContain('git checkout -b fabric/demo1');
  });

  test('fails when the region has too few usable zones: exit 2 naming InsufficientZones', async () => {
    ec2
      .on(DescribeAvailabilityZonesCommand)
      .resolves({ AvailabilityZones: [{ ZoneName: 'us-east-2a', State: 'available', ZoneType: 'availability-zone' }] });
    const run = await runCli(['init', 'demo', '--domain', 'example.com', '--json']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.out)).toMatchObject({ error: 'InsufficientZones' });
  });

  test('fails when fabric.json exists and --force is absent: exit 2, file untouched', async () => {
    const cwd = specDir('{"keep":true}');
    expect((await runCli(['init', 'demo', '--domain', 'example.com'], { cwd })).code).toBe(2);
    expect(readFileSync(join(cwd, 'fabric.json'), 'utf8')).toBe('{"keep":true}');
  });
});

describe('fabricctl up (remote)', () => {
  test('GIVEN a clean commit WHEN up --no-watch THEN one StartExecution named <name>-<commit 12> with the provision input', async () => {
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: `${MACHINE.replace('stateMachine', 'execution')}:demo-abcdef012345`, startDate: new Date() });
    const run = await runCli(['up', 'fabric.json', '--no-watch', '--json'], {
      cwd: specDir(),
      git: () => ({ commit: COMMIT, clean: true }),
    });
    expect(run.code).toBe(0);
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      stateMachineArn: MACHINE,
      name: 'demo-abcdef012345',
      input: JSON.stringify({ action: 'provision', spec: { name: 'demo', domain: 'example.com' } }),
    });
    expect(JSON.parse(run.out)).toMatchObject({ started: true, name: 'demo-abcdef012345', status: 'RUNNING' });
  });

  test("GIVEN a fabric in another region than the stack WHEN up --no-watch THEN the logs hint names the fabric's region", async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    const run = await runCli(['up', 'fabric.json', '--no-watch', '--region', 'us-east-2'], {
      cwd: specDir({ name: 'demo', domain: 'example.com', region: 'eu-west-1' }),
      git: () => ({ commit: COMMIT, clean: true }),
    });
    expect(run.code).toBe(0);
    expect(run.out).toContain('follow it with: fabricctl logs demo --region eu-west-1\n');
  });

  test('GIVEN uncommitted changes WHEN up THEN the name carries a timestamp instead of the commit', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    await runCli(['up', 'fabric.json', '--no-watch'], { cwd: specDir(), git: () => ({ commit: COMMIT, clean: false }) });
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.name).toBe('demo-provision-20261126T120000Z');
  });

  test('GIVEN the commit already ran WHEN up again THEN no second execution starts and the existing one is reported', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const run = await runCli(['up', 'fabric.json', '--no-watch', '--json'], {
      cwd: specDir(),
      git: () => ({ commit: COMMIT, clean: true }),
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({
      started: false,
      executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:demo-abcdef012345`,
    });
  });

  test('GIVEN --watch WHEN the execution fails THEN the history is rendered, the build log tailed, and exit 1 with the error', async () => {
    const exec = `${MACHINE.replace(':stateMachine:', ':execution:')}:demo-1`;
    sfn.on(StartExecutionCommand).resolves({ executionArn: exec, startDate: new Date() });
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: exec, stateMachineArn: MACHINE, status: 'RUNNING', startDate: new Date() });
    sfn.on(DescribeStateMachineCommand).resolves({
      definition: '{"StartAt":"NetworkJob","States":{}}',
      stateMachineArn: MACHINE,
      name: 'Fabric',
      roleArn: 'r',
      type: 'STANDARD',
      creationDate: new Date(),
    });
    const t = historyTime;
    const submitted = historyToBuildSubmitted('NetworkJob', { Id: 'net:b1' });
    sfn
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({
        events: submitted,
      })
      .resolves({
        events: [
          ...submitted,
          {
            id: 5,
            previousEventId: 4,
            type: 'TaskFailed',
            timestamp: t(30),
            taskFailedEventDetails: {
              resourceType: 'lambda',
              resource: 'invoke',
              error: 'States.TaskFailed',
              cause: 'terraform: invalid CIDR',
            },
          },
          {
            id: 6,
            previousEventId: 5,
            type: 'ExecutionFailed',
            timestamp: t(31),
            executionFailedEventDetails: { error: 'States.TaskFailed', cause: 'terraform: invalid CIDR' },
          },
        ],
      });
    logs.on(GetLogEventsCommand).resolves({ events: [{ timestamp: 1, message: 'Terraform v1.11\n' }], nextForwardToken: 'f1' });
    const run = await runCli(['up', 'fabric.json', '--watch'], { cwd: specDir() });
    expect(run.code).toBe(1);
    expect(run.out).toContain('  ▸ NetworkJob\n');
    expect(run.out).toContain('    │ Terraform v1.11\n');
    expect(run.out).toContain('  ✗ NetworkJob States.TaskFailed: terraform: invalid CIDR\n');
    expect(run.out).toContain('status: FAILED');
    expect(logs.commandCalls(GetLogEventsCommand)[0]?.args[0].input).toMatchObject({
      logGroupName: '/aws/codebuild/net',
      logStreamName: 'b1',
    });
  });

  test('GIVEN Ctrl-C while watching WHEN the signal aborts THEN watching stops with exit 130; the execution is not stopped', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:aws:states:us-east-2:1:execution:F:x', startDate: new Date() });
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: 'arn:aws:states:us-east-2:1:execution:F:x',
      status: 'RUNNING',
      startDate: new Date(),
      stateMachineArn: undefined,
    });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [{ id: 1, type: 'ExecutionStarted', timestamp: new Date() }] });
    const controller = new AbortController();
    const run = await runCli(['up', 'fabric.json', '--watch'], {
      cwd: specDir(),
      signal: controller.signal,
      sleep: async () => controller.abort(),
    });
    expect(run.code).toBe(130);
    expect(run.out).toContain('stopped watching; the execution goes on');
    expect(sfn.calls().map((c) => c.args[0].constructor.name)).not.toContain('StopExecutionCommand');
  });

  test('fails when the stack does not exist: exit 3 naming it', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('Stack with id FabricOrchestrator does not exist'), { name: 'ValidationError' }));
    const run = await runCli(['up', 'fabric.json', '--no-watch'], { cwd: specDir() });
    expect(run.code).toBe(3);
    expect(run.err).toContain('StackNotFound');
  });

  test('fails when the spec is invalid: exit 2 and nothing started', async () => {
    const run = await runCli(['up', 'fabric.json', '--no-watch'], { cwd: specDir({ name: 'demo' }) });
    expect(run.code).toBe(2);
    expect(run.err).toContain('domain');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe('fabricctl down', () => {
  test('fails when --confirm differs from the name: exit 2 and nothing started', async () => {
    const run = await runCli(['down', 'demo', '--confirm', 'other', '--no-watch']);
    expect(run.code).toBe(2);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  test('fails when --confirm is missing: exit 2 (usage)', async () => {
    expect((await runCli(['down', 'demo'])).code).toBe(2);
  });

  test('fails when the name has non-ASCII letters: exit 2 with the ASCII name, and nothing started', async () => {
    const run = await runCli(['down', 'démo', '--confirm', 'dmo', '--no-watch', '--json']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.out)).toMatchObject({
      error: 'FabricSpecInvalid',
      problems: [
        {
          field: 'name',
          received: '"démo"',
          fix: 'write the name in ASCII: "demo" ("é" would otherwise be dropped, naming another fabric)',
        },
      ],
    });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  test('GIVEN the right confirm WHEN down THEN a destroy execution with name, confirm and region starts', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    const run = await runCli(['down', 'demo', '--confirm', 'demo', '--no-watch', '--region', 'eu-west-1']);
    expect(run.code).toBe(0);
    const input = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(JSON.parse(input?.input ?? '{}')).toEqual({ action: 'destroy', name: 'demo', confirm: 'demo', region: 'eu-west-1' });
    expect(input?.name).toBe('demo-destroy-20261126T120000Z');
  });
});

describe('--local', () => {
  test('GIVEN up --local WHEN the local run succeeds THEN runLocal gets the action and spec; --json prints the final output', async () => {
    const calls: LocalRunOptions[] = [];
    const runLocal = async (options: LocalRunOptions) => {
      calls.push(options);
      options.onEvent({ type: 'stateEntered', state: 'ValidateSpec', at: new Date(0) });
      options.onEvent({ type: 'stateExited', state: 'ValidateSpec', at: new Date(5), durationMs: 5 });
      return {
        status: 'SUCCEEDED' as const,
        output: { name: 'demo', status: 'READY' },
        timings: [{ state: 'ValidateSpec', ms: 5 }],
        totalMs: 5,
      };
    };
    const cwd = specDir();
    const run = await runCli(['up', '--local', 'fabric.json', '--json'], { cwd, runLocal });
    expect(run.code).toBe(0);
    expect(calls.map((c) => [c.action, c.specPath])).toEqual([['provision', join(cwd, 'fabric.json')]]);
    expect(JSON.parse(run.out)).toMatchObject({ status: 'SUCCEEDED', output: { name: 'demo', status: 'READY' }, totalMs: 5 });
    expect(run.err).toContain('  ✓ ValidateSpec 5ms');
  });

  test.each([
    [['--approve'], { approvedBy: 'local user (--approve)' }],
    [
      [],
      {
        error: 'ApprovalRejected',
        cause: 'the plan of demo was rejected by local user: no terminal to ask and no --approve; nothing was applied',
      },
    ],
  ])(
    'GIVEN up --local %j WHEN the run asks for approval without a terminal THEN the plan is shown and the token answered',
    async (flags, expected) => {
      const { waitForTaskToken } = await import('../../lib/local/task-tokens');
      let answer: unknown;
      const runLocal = async (options: LocalRunOptions) => {
        const decision = waitForTaskToken('token-1').then(
          (output) => output,
          (error: Error) => ({ error: error.name, cause: error.message }),
        );
        options.onApprovalRequested?.({
          name: 'demo',
          execution: 'arn:x',
          taskToken: 'token-1',
          expiresAt: '2999-01-01T00:00:00.000Z',
          summary: {
            network: { add: 1, change: 0, destroy: 0 },
            cluster: { add: 0, change: 0, destroy: 0 },
            rolls: [],
            digests: { network: 'n', cluster: '' },
            lines: ['network (Terraform): 1 to add, 0 to change, 0 to destroy'],
          },
        });
        answer = await decision;
        return { status: 'SUCCEEDED' as const, output: {}, timings: [], totalMs: 1 };
      };
      const run = await runCli(['up', '--local', 'fabric.json', ...flags], { cwd: specDir(), runLocal });
      expect(run.err).toContain(
        'fabric demo waits for approval until 2999-01-01T00:00:00.000Z\n  network (Terraform): 1 to add, 0 to change, 0 to destroy\n',
      );
      expect(answer).toMatchObject(expected);
    },
  );

  test("GIVEN plan --local WHEN it succeeds THEN the output also gives the fabric's monthly cost, naming the price table", async () => {
    const runLocal = async () => ({
      status: 'SUCCEEDED' as const,
      output: { action: 'plan', network: { changes: { add: 11, change: 0, destroy: 0 } } },
      timings: [],
      totalMs: 1,
    });
    const run = await runCli(['plan', '--local', 'fabric.json'], { cwd: specDir(), runLocal });
    expect(run.code).toBe(0);
    expect(run.out).toContain('network plan: 11 to add, 0 to change, 0 to destroy');
    expect(run.out).toMatch(/NAT gateway/i);
    expect(run.out).toMatch(/us-east-2/);
    const asJson = await runCli(['plan', '--local', 'fabric.json', '--json'], { cwd: specDir(), runLocal });
    expect(JSON.parse(asJson.out).cost).toMatchObject({
      priceTable: { region: 'us-east-2' },
      fabric: { region: 'us-east-2', currency: 'USD' },
    });
  });

  test('GIVEN up --local --aws WHEN run THEN local mode is asked for the real account, not the emulator', async () => {
    const calls: LocalRunOptions[] = [];
    const runLocal = async (options: LocalRunOptions) => {
      calls.push(options);
      return { status: 'SUCCEEDED' as const, output: {}, timings: [], totalMs: 1 };
    };
    const run = await runCli(['up', '--local', '--aws', 'fabric.json'], { cwd: specDir(), runLocal });
    expect(run.code).toBe(0);
    expect(calls.map((c) => ({ aws: c.aws, endpoint: c.endpoint }))).toEqual([{ aws: true, endpoint: undefined }]);
  });

  test('GIVEN down --local WHEN the run fails THEN exit 1 with the error name and cause', async () => {
    const runLocal = async () => ({
      status: 'FAILED' as const,
      error: 'FabricSpecInvalid',
      cause: 'confirm: must be demo',
      timings: [],
      totalMs: 1,
    });
    const run = await runCli(['down', 'demo', '--confirm', 'demo', '--local'], { runLocal });
    expect(run.code).toBe(1);
    expect(run.out).toContain('error: FabricSpecInvalid\ncause: confirm: must be demo');
  });
});

describe('fabricctl cost', () => {
  test('GIVEN a spec WHEN cost --json THEN the cost report is printed as JSON', async () => {
    const run = await runCli(['cost', 'fabric.json', '--json'], { cwd: specDir() });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({
      priceTable: { region: 'us-east-2' },
      fabric: { region: 'us-east-2', currency: 'USD', nodes: 3 },
    });
  });
});

describe('usage', () => {
  test('fails when the command is unknown: exit 2', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
  });
  test('GIVEN --help WHEN run THEN exit 0 and every command is listed', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const command of ['init', 'validate', 'up', 'plan', 'down', 'status', 'list', 'logs', 'cost']) expect(run.out).toContain(command);
  });
});
