import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { LocalRunOptions, LocalRunResult } from '../../lib/cli/commands';
import { runCli, tempDir } from './support';
import { buildTaskSucceeded, historyTime, historyToBuildSubmitted } from '../support/history-events';

/**
 * What a run prints: build lines hidden unless a build fails or --verbose, a failed build explained
 * (never its JSON) with its last lines, and the summary's next command. AWS SDK mocked, local mode faked.
 */
const cfn = mockClient(CloudFormationClient);
const sfn = mockClient(SFNClient);
const logs = mockClient(CloudWatchLogsClient);
const MACHINE = 'arn:aws:states:us-east-2:123456789012:stateMachine:Fabric';
const EXECUTION = `${MACHINE.replace(':stateMachine:', ':execution:')}:demo-1`;

/** A failed network build as Step Functions reports it for startBuild.sync (abridged). */
const BUILD_CAUSE = JSON.stringify({
  Build: {
    Id: 'FabricNetworkJob:1b2c',
    BuildStatus: 'FAILED',
    ProjectName: 'FabricNetworkJob',
    Phases: [
      { PhaseType: 'BUILD', PhaseStatus: 'FAILED', Contexts: [{ StatusCode: 'COMMAND_EXECUTION_ERROR', Message: 'exit status 1' }] },
    ],
    Logs: { GroupName: '/aws/codebuild/FabricNetworkJob', StreamName: '1b2c' },
  },
});
const EXPLAINED =
  'fabric demo: the network job (CodeBuild project FabricNetworkJob) ended FAILED in phase BUILD (FAILED)\n' +
  'Last error lines of the build log:\nError: invalid CIDR';

function specDir(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'fabric.json'), JSON.stringify({ name: 'demo', domain: 'example.com' }));
  return dir;
}

/** A local run whose network build prints `lines` lines and fails; ExplainFailure's cause ends it. */
function failingLocalRun(lines: number) {
  return async (options: LocalRunOptions): Promise<LocalRunResult> => {
    const at = new Date(0);
    options.onEvent({ type: 'stateEntered', state: 'NetworkJob', at });
    for (let i = 1; i <= lines; i += 1) options.onEvent({ type: 'log', state: 'NetworkJob', at, line: `terraform line ${i}` });
    options.onEvent({ type: 'stateFailed', state: 'NetworkJob', at, error: 'States.TaskFailed', cause: BUILD_CAUSE });
    options.onEvent({ type: 'stateExited', state: 'NetworkJob', at, durationMs: 1000 });
    return { status: 'FAILED', error: 'States.TaskFailed', cause: EXPLAINED, timings: [], totalMs: 1000 };
  };
}

beforeEach(() => {
  for (const m of [cfn, sfn, logs]) m.reset();
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

describe('a failed build, locally', () => {
  test(
    'GIVEN a build that fails WHEN up --local ' +
      'THEN the cause is explained, its last 30 lines shown, the raw build JSON never, and the next command reruns it verbose',
    async () => {
      const run = await runCli(['up', '--local', 'fabric.json'], { cwd: specDir(), runLocal: failingLocalRun(40) });
      expect(run.code).toBe(1);
      expect(run.out).toContain(
        '  ✗ NetworkJob States.TaskFailed: the network job (CodeBuild project FabricNetworkJob) ' +
          'ended FAILED in phase BUILD (FAILED), build FabricNetworkJob:1b2c',
      );
      expect(run.out).toContain("    last 30 line(s) of NetworkJob's build log (--verbose shows every line):\n    │ terraform line 11\n");
      expect(run.out).toContain('    │ terraform line 40\n');
      expect(run.out).not.toContain('terraform line 10\n');
      expect(run.out).not.toContain('"Build"');
      expect(run.out).toContain(`cause: ${EXPLAINED}`);
      expect(run.out.trimEnd().split('\n').at(-1)).toBe('next: fabricctl up fabric.json --local --verbose    # every build line');
    },
  );

  test('GIVEN --verbose WHEN up --local THEN every build line is shown as it comes, once', async () => {
    const run = await runCli(['up', '--local', 'fabric.json', '--verbose'], { cwd: specDir(), runLocal: failingLocalRun(40) });
    expect(run.out).toContain('    │ terraform line 1\n');
    expect(run.out.match(/terraform line 40\n/g)).toHaveLength(1);
    expect(run.out).not.toContain('next:');
  });

  test('GIVEN a build that succeeds WHEN up --local THEN none of its lines are shown', async () => {
    const runLocal = async (options: LocalRunOptions): Promise<LocalRunResult> => {
      options.onEvent({ type: 'log', state: 'NetworkJob', at: new Date(0), line: 'terraform apply' });
      return { status: 'SUCCEEDED', output: {}, timings: [], totalMs: 1 };
    };
    const run = await runCli(['up', '--local', 'fabric.json'], { cwd: specDir(), runLocal });
    expect(run.code).toBe(0);
    expect(run.out).not.toContain('terraform apply');
  });

  test('GIVEN local mode synthesizing the stack WHEN up --local THEN its "synthesizing..." line is shown', async () => {
    const runLocal = async (options: LocalRunOptions): Promise<LocalRunResult> => {
      options.log?.('synthesizing the FabricOrchestrator stack (the definition the cloud runs)...');
      return { status: 'SUCCEEDED', output: {}, timings: [], totalMs: 1 };
    };
    const run = await runCli(['up', '--local', 'fabric.json'], { cwd: specDir(), runLocal });
    expect(run.err).toContain('synthesizing the FabricOrchestrator stack');
  });
});

describe('watching a cloud run', () => {
  const t = historyTime;
  /** The history up to the network build's submission, where each watch test starts. */
  const HISTORY_START = historyToBuildSubmitted('NetworkJob', { Id: 'FabricNetworkJob:1b2c' });

  function execution(ending: HistoryEvent[]): void {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
    sfn
      .on(DescribeExecutionCommand)
      .resolves({ executionArn: EXECUTION, stateMachineArn: MACHINE, status: 'RUNNING', startDate: new Date() });
    sfn.on(DescribeStateMachineCommand).resolves({
      definition: '{"StartAt":"NetworkJob","States":{}}',
      stateMachineArn: MACHINE,
      name: 'Fabric',
      roleArn: 'r',
      type: 'STANDARD',
      creationDate: new Date(),
    });
    sfn
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: HISTORY_START })
      .resolves({ events: [...HISTORY_START, ...ending] });
  }

  test('GIVEN a build that fails WHEN watched THEN the explained cause, the build lines read so far, then the logs command', async () => {
    execution([
      {
        id: 5,
        previousEventId: 4,
        type: 'TaskFailed',
        timestamp: t(30),
        taskFailedEventDetails: { resourceType: 'codebuild', resource: 'startBuild.sync', error: 'States.TaskFailed', cause: BUILD_CAUSE },
      },
      {
        id: 6,
        previousEventId: 5,
        type: 'ExecutionFailed',
        timestamp: t(31),
        executionFailedEventDetails: { error: 'States.TaskFailed', cause: EXPLAINED },
      },
    ]);
    // As CloudWatch Logs answers: each page from the token before, the same token back at the stream's end.
    logs
      .on(GetLogEventsCommand)
      .resolvesOnce({ events: [{ timestamp: 1, message: 'Terraform v1.11\n' }], nextForwardToken: 'f1' })
      .resolvesOnce({ events: [], nextForwardToken: 'f1' })
      .resolvesOnce({ events: [{ timestamp: 2, message: 'Error: invalid CIDR\n' }], nextForwardToken: 'f2' })
      .resolves({ events: [], nextForwardToken: 'f2' });
    const run = await runCli(['up', 'fabric.json', '--watch'], { cwd: specDir() });
    expect(run.code).toBe(1);
    expect(run.out).toContain(
      '  ✗ NetworkJob States.TaskFailed: the network job (CodeBuild project FabricNetworkJob) ' +
        'ended FAILED in phase BUILD (FAILED), build FabricNetworkJob:1b2c: COMMAND_EXECUTION_ERROR: exit status 1\n' +
        '    Full log: CloudWatch Logs group /aws/codebuild/FabricNetworkJob, stream 1b2c.\n' +
        "    last 1 line(s) of NetworkJob's build log (--verbose shows every line):\n" +
        '    │ Terraform v1.11\n',
    );
    // Read after the failure: shown as it comes.
    expect(run.out).toContain('    │ Error: invalid CIDR\n');
    expect(run.out).not.toContain('"Build"');
    expect(run.out.trimEnd().split('\n').at(-1)).toBe('next: fabricctl logs demo --region us-east-2');
  });

  test('GIVEN a plan that succeeds WHEN watched THEN its build lines are hidden and the summary ends with the up of the spec', async () => {
    execution([
      ...buildTaskSucceeded('NetworkJob', 30),
      {
        id: 7,
        previousEventId: 6,
        type: 'ExecutionSucceeded',
        timestamp: t(31),
        executionSucceededEventDetails: { output: '{"fabric":{"name":"demo"},"network":{"changes":{"add":9,"change":0,"destroy":0}}}' },
      },
    ]);
    logs
      .on(GetLogEventsCommand)
      .resolvesOnce({ events: [{ timestamp: 1, message: 'Terraform v1.11\n' }], nextForwardToken: 'f1' })
      .resolves({ events: [], nextForwardToken: 'f1' });
    const run = await runCli(['plan', 'fabric.json', '--watch'], { cwd: specDir() });
    expect(run.code).toBe(0);
    expect(run.out).not.toContain('Terraform v1.11');
    expect(run.out).toContain('network plan: 9 to add');
    expect(run.out).toMatch(/NAT gateway/i);
    expect(run.out.trimEnd().split('\n').at(-1)).toBe('next: fabricctl up fabric.json');
  });

  test('GIVEN two builds that start and end between polls WHEN watched with --verbose THEN the lines of both are shown, once', async () => {
    const cluster: HistoryEvent[] = [
      ...buildTaskSucceeded('NetworkJob', 10),
      { id: 7, previousEventId: 6, type: 'TaskStateEntered', timestamp: t(11), stateEnteredEventDetails: { name: 'ClusterJob' } },
      {
        id: 8,
        previousEventId: 7,
        type: 'TaskSubmitted',
        timestamp: t(12),
        taskSubmittedEventDetails: {
          resourceType: 'codebuild',
          resource: 'startBuild.sync',
          output: '{"Build":{"Id":"FabricClusterJob:9f8e"}}',
        },
      },
      { id: 9, previousEventId: 8, type: 'ExecutionSucceeded', timestamp: t(31), executionSucceededEventDetails: { output: '{}' } },
    ];
    execution(cluster);
    const streams: Record<string, string> = { '1b2c': 'network: Terraform v1.11', '9f8e': 'cluster: kops 1.36.2' };
    logs
      .on(GetLogEventsCommand)
      .callsFake((input: { logStreamName: string; nextToken?: string }) =>
        input.nextToken === undefined
          ? { events: [{ timestamp: 1, message: `${streams[input.logStreamName] ?? '?'}\n` }], nextForwardToken: 'f1' }
          : { events: [], nextForwardToken: input.nextToken },
      );
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [...HISTORY_START, ...cluster] });
    const run = await runCli(['plan', 'fabric.json', '--watch', '--verbose'], { cwd: specDir() });
    const buildLines = run.out.split('\n').filter((l) => l.includes('│'));
    expect(buildLines).toEqual(['    │ network: Terraform v1.11', '    │ cluster: kops 1.36.2']);
  });

  test('GIVEN --verbose WHEN a plan is watched THEN every build line is shown', async () => {
    execution([
      { id: 5, previousEventId: 4, type: 'ExecutionSucceeded', timestamp: t(31), executionSucceededEventDetails: { output: '{}' } },
    ]);
    logs
      .on(GetLogEventsCommand)
      .resolvesOnce({ events: [{ timestamp: 1, message: 'Terraform v1.11\n' }], nextForwardToken: 'f1' })
      .resolves({ events: [], nextForwardToken: 'f1' });
    const run = await runCli(['plan', 'fabric.json', '--watch', '--verbose'], { cwd: specDir() });
    expect(run.out).toContain('    │ Terraform v1.11\n');
  });
});
