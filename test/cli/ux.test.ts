import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { parse as parseYaml } from 'yaml';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, GetObjectCommandOutput, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { LocalRunOptions } from '../../lib/cli/commands';
import { structuredFormatOf } from '../../lib/cli/io';
import { assertLocalPrerequisites, SystemProbe } from '../../lib/local/prerequisites';
import { runCli, tempDir } from './support';

/** Day-to-day CLI behaviour, in process, with injected fakes (no network, no emulator). */
const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const sts = mockClient(STSClient);
const MACHINE = 'arn:aws:states:us-east-2:123456789012:stateMachine:Fabric';
const BUCKET = 'fabricctl-state-123456789012-us-east-2';

/** A fabric record as RecordFabric writes it. */
function record(status: string, extra: Record<string, unknown> = {}) {
  return {
    name: 'demo',
    clusterName: 'demo.example.com',
    status,
    spec: { name: 'demo', domain: 'example.com', region: 'us-east-2' },
    zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'],
    outputs: { stateBucket: BUCKET },
    lastExecution: `${MACHINE.replace(':stateMachine:', ':execution:')}:demo-1`,
    createdAt: '2026-11-26T11:00:00Z',
    updatedAt: '2026-11-26T11:30:00Z',
    ...extra,
  };
}

function recordInBucket(value: unknown): void {
  const body = { transformToString: async () => JSON.stringify(value) } as unknown as GetObjectCommandOutput['Body'];
  s3.on(GetObjectCommand, { Bucket: BUCKET, Key: 'fabrics/demo/fabric.json' }).resolves({ Body: body });
  s3.on(ListObjectsV2Command).resolves({ CommonPrefixes: [{ Prefix: 'fabrics/demo/' }] });
}

beforeEach(() => {
  for (const m of [cfn, s3, sfn, sts]) m.reset();
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
  sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/dev' });
});
function specDir(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'fabric.json'), JSON.stringify({ name: 'demo', domain: 'example.com' }));
  return dir;
}

describe('local mode prerequisites, from the CLI', () => {
  /** A Linux machine with nothing local mode needs. */
  const bare: SystemProbe = {
    platform: 'linux',
    arch: 'x64',
    run: () => undefined,
    motoInstalled: () => false,
    providerMirror: () => undefined,
    list: () => [],
  };

  test('fails when tools are missing: exit 1, each named with its fix, and local mode never started', async () => {
    const started: LocalRunOptions[] = [];
    const run = await runCli(['up', '--local', 'fabric.json'], {
      cwd: specDir(),
      checkLocalPrerequisites: (options) => assertLocalPrerequisites(options, bare),
      runLocal: async (options) => {
        started.push(options);
        return { status: 'SUCCEEDED', output: {}, timings: [], totalMs: 1 };
      },
    });
    expect(run.code).toBe(1);
    expect(started).toEqual([]);
    expect(run.err).toContain(
      'error: LocalPrerequisitesMissing: local mode needs moto_server, terraform, jq, aws on this machine; nothing was started\n',
    );
    expect(run.err).toContain(
      "  moto_server\n    received: no Python with moto[server] (the AWS emulator local mode starts)\n    fix: pipx install 'moto[server]'",
    );
  });

  test('fails on macOS with LocalPlatformUnsupported in the JSON output, before anything starts', async () => {
    const mac: SystemProbe = { ...bare, platform: 'darwin', arch: 'arm64' };
    const run = await runCli(['plan', '--local', 'fabric.json', '--json'], {
      cwd: specDir(),
      checkLocalPrerequisites: (options) => assertLocalPrerequisites(options, mac),
    });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.out)).toMatchObject({
      error: 'LocalPlatformUnsupported',
      message: expect.stringContaining('this machine is darwin/arm64'),
    });
  });

  test('GIVEN down --local --endpoint WHEN checked THEN moto is not required (the emulator runs already)', async () => {
    const asked: unknown[] = [];
    const run = await runCli(['down', 'demo', '--confirm', 'demo', '--local', '--endpoint', 'http://127.0.0.1:5000'], {
      checkLocalPrerequisites: (options) => asked.push(options),
      runLocal: async () => ({ status: 'SUCCEEDED', output: {}, timings: [], totalMs: 1 }),
    });
    expect(run.code).toBe(0);
    expect(asked).toEqual([{ aws: undefined, endpoint: 'http://127.0.0.1:5000' }]);
  });
});

describe('-o yaml', () => {
  const local = async () => ({
    status: 'SUCCEEDED' as const,
    output: { name: 'demo', status: 'READY' },
    timings: [{ state: 'ValidateSpec', ms: 5 }],
    totalMs: 5,
  });

  test.each<[string, string[], boolean]>([
    ['validate', ['validate', 'fabric.json'], false],
    ['validate of an invalid spec', ['validate', 'bad.json'], false],
    ['cost', ['cost', 'fabric.json'], false],
    ['up --local', ['up', '--local', 'fabric.json'], false],
    ['up --no-watch', ['up', 'fabric.json', '--no-watch'], false],
    ['status', ['status', 'demo'], true],
    ['list', ['list'], true],
    ['an error (spec not found)', ['up', 'missing.json'], false],
  ])('GIVEN %s WHEN -o yaml THEN the same data as --json, as YAML', async (_case, argv, needsRecord) => {
    const cwd = specDir();
    writeFileSync(join(cwd, 'bad.json'), JSON.stringify({ name: '9' }));
    if (needsRecord) recordInBucket(record('READY'));
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: 'arn:aws:states:us-east-2:123456789012:execution:Fabric:demo-1', startDate: new Date() });
    const asJson = await runCli([...argv, '--json'], { cwd, runLocal: local });
    const asYaml = await runCli([...argv, '-o', 'yaml'], { cwd, runLocal: local });
    expect(asYaml.code).toBe(asJson.code);
    expect(asYaml.out.trimStart().startsWith('{')).toBe(false);
    expect(parseYaml(asYaml.out)).toEqual(JSON.parse(asJson.out));
  });

  test.each<[string[], 'json' | 'yaml' | undefined]>([
    [['status', '-o', 'yaml'], 'yaml'],
    [['status', '-oyaml'], 'yaml'],
    [['status', '--output=yaml'], 'yaml'],
    [['status', '--output', 'json'], 'json'],
    [['status', '-o', 'yaml', '--json'], 'json'],
    [['status', '-o', 'yaml', '-o', 'text'], undefined],
    [['status'], undefined],
  ])('GIVEN %j WHEN the format is read THEN %s', (argv, expected) => {
    expect(structuredFormatOf(argv)).toBe(expected);
  });

  test('fails when -o names another format: exit 2, the choices listed', async () => {
    const run = await runCli(['list', '-o', 'xml']);
    expect(run.code).toBe(2);
    expect(run.err).toContain('Allowed choices are text, json, yaml');
  });
});

describe('fabricctl status', () => {
  test('GIVEN a FAILED fabric WHEN status THEN exit 0, like kubectl get, with the state and the last error shown', async () => {
    recordInBucket(record('FAILED', { lastError: { error: 'ClusterNotReady', cause: 'api.demo.example.com did not answer /readyz' } }));
    const run = await runCli(['status', 'demo']);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^Status: +FAILED$/m);
    expect(run.out).toContain('ClusterNotReady: api.demo.example.com did not answer /readyz');
  });

  test('GIVEN a FAILED fabric WHEN status --json THEN exit 0 and the status in the record', async () => {
    recordInBucket(record('FAILED'));
    const run = await runCli(['status', 'demo', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ status: 'FAILED' });
  });
});

describe('fabricctl down without --confirm', () => {
  beforeEach(() => {
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: 'arn:aws:states:us-east-2:123456789012:execution:Fabric:demo-destroy', startDate: new Date() });
  });

  test('GIVEN a terminal WHEN the name is typed THEN it is the confirmation and the destroy starts', async () => {
    const questions: string[] = [];
    const run = await runCli(['down', 'demo', '--no-watch'], { isTTY: true, ask: async (q) => (questions.push(q), ' demo\n') });
    expect(run.code).toBe(0);
    expect(questions).toEqual(['destroy fabric demo: its cluster, then its network. Type demo to confirm: ']);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}')).toMatchObject({
      action: 'destroy',
      name: 'demo',
      confirm: 'demo',
    });
  });

  test('fails when another name is typed: exit 2 ConfirmationRequired, nothing started', async () => {
    const run = await runCli(['down', 'demo', '--no-watch'], { isTTY: true, ask: async () => 'prod' });
    expect(run.code).toBe(2);
    expect(run.err).toBe('error: ConfirmationRequired: destroying fabric demo needs --confirm demo (received "prod")\n');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  test('fails when not on a terminal (nobody to ask): exit 2 ConfirmationRequired, as before', async () => {
    const run = await runCli(['down', 'demo', '--no-watch']);
    expect(run.code).toBe(2);
    expect(run.err).toBe('error: ConfirmationRequired: destroying fabric demo needs --confirm demo (received nothing)\n');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  test('GIVEN --confirm WHEN down on a terminal THEN nothing is asked', async () => {
    let asked = false;
    const run = await runCli(['down', 'demo', '--confirm', 'demo', '--no-watch'], { isTTY: true, ask: async () => ((asked = true), '') });
    expect(run.code).toBe(0);
    expect(asked).toBe(false);
  });

  test('GIVEN down --local on a terminal WHEN the name is typed THEN local mode gets it as the confirmation', async () => {
    const confirms: (string | undefined)[] = [];
    const run = await runCli(['down', 'demo', '--local'], {
      isTTY: true,
      ask: async () => 'demo',
      runLocal: async (options) => (confirms.push(options.confirm), { status: 'SUCCEEDED', output: {}, timings: [], totalMs: 1 }),
    });
    expect(run.code).toBe(0);
    expect(confirms).toEqual(['demo']);
  });
});
