import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { explainFailure, extractErrorLines } from '../../lambdas/explain-failure/core';
import { parseBuildCause } from '../../lib/domain/build-cause';

/** A failed build as Step Functions reports it for codebuild:startBuild.sync (PascalCase, abridged). */
function buildCause(overrides: Record<string, unknown> = {}, wrap = true): string {
  const build = {
    Id: 'FabricNetworkJob:1b2c',
    Arn: 'arn:aws:codebuild:us-east-2:123456789012:build/FabricNetworkJob:1b2c',
    BuildStatus: 'FAILED',
    CurrentPhase: 'COMPLETED',
    BuildComplete: true,
    ProjectName: 'FabricNetworkJob',
    Phases: [
      { PhaseType: 'SUBMITTED', PhaseStatus: 'SUCCEEDED' },
      { PhaseType: 'INSTALL', PhaseStatus: 'SUCCEEDED', Contexts: [{ StatusCode: '', Message: '' }] },
      {
        PhaseType: 'BUILD',
        PhaseStatus: 'FAILED',
        Contexts: [
          {
            StatusCode: 'COMMAND_EXECUTION_ERROR',
            Message: 'Error while executing command: buildspecs/scripts/network.sh. Reason: exit status 1',
          },
        ],
      },
      { PhaseType: 'COMPLETED' },
    ],
    Logs: { GroupName: '/aws/codebuild/FabricNetworkJob', StreamName: '1b2c', DeepLink: 'https://console.aws.amazon.com/cloudwatch/home' },
    ...overrides,
  };
  return JSON.stringify(wrap ? { Build: build } : build);
}

const TERRAFORM_LOG = [
  '[Container] 2026/11/26 10:00:00.000 Running command buildspecs/scripts/network.sh',
  'aws_vpc.this: Creating...',
  '╷',
  '│ Error: creating EC2 VPC: operation error EC2: CreateVpc, ' +
    'https response error StatusCode: 400, InvalidVpc.Range: The CIDR 10.0.0.0/30 is invalid.',
  '│ ',
  '│   with aws_vpc.this,',
  '│   on main.tf line 12, in resource "aws_vpc" "this":',
  '│   12: resource "aws_vpc" "this" {',
  '│ ',
  '╵',
  '[Container] 2026/11/26 10:00:05.000 Command did not exit successfully buildspecs/scripts/network.sh exit status 1',
  '[Container] 2026/11/26 10:00:05.000 Phase complete: BUILD State: FAILED',
];

function fakeLogs(lines: readonly string[] | Error, seen: GetLogEventsCommand[] = []): CloudWatchLogsClient {
  return {
    send: async (c: unknown) => {
      if (!(c instanceof GetLogEventsCommand)) throw new Error('unexpected');
      seen.push(c);
      if (lines instanceof Error) throw lines;
      return { events: lines.map((message, i) => ({ timestamp: i, message: `${message}\n` })) };
    },
  } as unknown as CloudWatchLogsClient;
}

describe('parseBuildCause', () => {
  test('GIVEN the Step Functions cause of a failed build WHEN parsed THEN job, failed phase, context and log location are found', () => {
    expect(parseBuildCause(buildCause())).toEqual({
      id: 'FabricNetworkJob:1b2c',
      projectName: 'FabricNetworkJob',
      buildStatus: 'FAILED',
      currentPhase: 'COMPLETED',
      failedPhase: {
        type: 'BUILD',
        status: 'FAILED',
        contexts: ['COMMAND_EXECUTION_ERROR: Error while executing command: buildspecs/scripts/network.sh. Reason: exit status 1'],
      },
      logGroup: '/aws/codebuild/FabricNetworkJob',
      logStream: '1b2c',
    });
  });

  test('GIVEN the camelCase shape of the CodeBuild API WHEN parsed THEN the same facts are found', () => {
    const cause = JSON.stringify({
      build: {
        id: 'p:1',
        projectName: 'p',
        buildStatus: 'TIMED_OUT',
        currentPhase: 'BUILD',
        phases: [{ phaseType: 'BUILD', phaseStatus: 'TIMED_OUT', contexts: [] }],
        logs: { groupName: 'g', streamName: 's' },
      },
    });
    expect(parseBuildCause(cause)).toMatchObject({
      buildStatus: 'TIMED_OUT',
      failedPhase: { type: 'BUILD', status: 'TIMED_OUT' },
      logGroup: 'g',
      logStream: 's',
    });
  });

  test('GIVEN a bare build object without the Build wrapper WHEN parsed THEN it is recognised', () => {
    expect(parseBuildCause(buildCause({}, false))?.logStream).toBe('1b2c');
  });

  test('GIVEN a cause that is not a build WHEN parsed THEN undefined', () => {
    expect(parseBuildCause('fabric demo is locked by execution x')).toBeUndefined();
    expect(parseBuildCause(JSON.stringify({ errorMessage: 'boom', errorType: 'Error' }))).toBeUndefined();
  });
});

describe('extractErrorLines', () => {
  test('GIVEN a boxed Terraform error WHEN extracted THEN the Error line and its context, without box characters', () => {
    expect(extractErrorLines(TERRAFORM_LOG)).toEqual([
      'Error: creating EC2 VPC: operation error EC2: CreateVpc, ' +
        'https response error StatusCode: 400, InvalidVpc.Range: The CIDR 10.0.0.0/30 is invalid.',
      '    with aws_vpc.this,',
      '    on main.tf line 12, in resource "aws_vpc" "this":',
      '    12: resource "aws_vpc" "this" {',
    ]);
  });

  test('GIVEN an unboxed -no-color Terraform error and a kops error WHEN extracted THEN both are kept', () => {
    const lines = [
      'Plan: 1 to add',
      '',
      'Error: Unsupported argument',
      '',
      '  on main.tf line 3:',
      'next output',
      'Error: cluster "demo.example.com" already exists',
    ];
    expect(extractErrorLines(lines)).toEqual([
      'Error: Unsupported argument',
      '    on main.tf line 3:',
      'Error: cluster "demo.example.com" already exists',
    ]);
  });

  test('GIVEN colour codes WHEN extracted THEN they are removed', () => {
    expect(
      extractErrorLines([
        '\u001b[31m╷\u001b[0m',
        '\u001b[31m│\u001b[0m \u001b[1m\u001b[31mError: ' + '\u001b[0m\u001b[0m\u001b[1mbad\u001b[0m',
      ]),
    ).toEqual(['Error: bad']);
  });

  test('GIVEN no error lines WHEN extracted THEN the last script lines, without CodeBuild chatter', () => {
    expect(extractErrorLines(['[Container] start', 'one', 'two: permission denied', '[Container] Phase complete'])).toEqual([
      'one',
      'two: permission denied',
    ]);
  });
});

describe('explainFailure', () => {
  const fabric = { name: 'demo', execution: 'arn:exec' };

  test('GIVEN a failed network build THEN the explained cause names job, phase, Terraform error, log location; Error kept', async () => {
    const seen: GetLogEventsCommand[] = [];
    const result = await explainFailure(
      { fabric, error: { Error: 'States.TaskFailed', Cause: buildCause() } },
      fakeLogs(TERRAFORM_LOG, seen),
    );
    expect(result.Error).toBe('States.TaskFailed');
    expect(result.Cause).toBe(
      [
        'fabric demo: the network job (CodeBuild project FabricNetworkJob) ' +
          'ended FAILED in phase BUILD (FAILED), build FabricNetworkJob:1b2c: COMMAND_EXECUTION_ERROR: ' +
          'Error while executing command: buildspecs/scripts/network.sh. Reason: exit status 1',
        'Last error lines of the build log:',
        'Error: creating EC2 VPC: operation error EC2: CreateVpc, ' +
          'https response error StatusCode: 400, InvalidVpc.Range: The CIDR 10.0.0.0/30 is invalid.',
        '    with aws_vpc.this,',
        '    on main.tf line 12, in resource "aws_vpc" "this":',
        '    12: resource "aws_vpc" "this" {',
        'Full log: CloudWatch Logs group /aws/codebuild/FabricNetworkJob, stream 1b2c.',
      ].join('\n'),
    );
    expect(seen[0]?.input).toEqual({
      logGroupName: '/aws/codebuild/FabricNetworkJob',
      logStreamName: '1b2c',
      startFromHead: false,
      limit: 200,
    });
  });

  test('GIVEN an unreadable log WHEN explained THEN the cause says so and keeps the original', async () => {
    const denied = Object.assign(new Error('not authorized to perform logs:GetLogEvents'), { name: 'AccessDeniedException' });
    const cause = buildCause();
    const result = await explainFailure({ fabric, error: { Error: 'States.TaskFailed', Cause: cause } }, fakeLogs(denied));
    expect(result.Cause).toContain('The build log could not be read (AccessDeniedException: not authorized to perform logs:GetLogEvents)');
    expect(result.Cause).toContain(`Original cause: ${cause}`);
  });

  test('GIVEN a cause that is not a build WHEN explained THEN it passes through unchanged without reading logs', async () => {
    const seen: GetLogEventsCommand[] = [];
    const error = { Error: 'FabricBusy', Cause: 'fabric demo is locked by execution x until y' };
    expect(await explainFailure({ fabric, error }, fakeLogs([], seen))).toEqual(error);
    expect(seen).toHaveLength(0);
  });

  test('GIVEN an event without an error WHEN explained THEN it answers instead of throwing', async () => {
    await expect(explainFailure({} as never, fakeLogs([]))).resolves.toEqual({ Error: 'States.Runtime', Cause: '' });
  });
});
