import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { HistoryConverter } from '../../lib/cli/history';
import type { ProgressEvent } from '../../lib/progress-events';
import { historyToBuildSubmitted } from '../support/history-events';

/** History shapes as GetExecutionHistory returns them (ids chained by previousEventId). No network. */
const t = (s: number) => new Date(Date.UTC(2026, 10, 26, 12, 0, s));
const EXEC = 'arn:aws:states:us-east-2:123456789012:execution:Fabric:demo-1';

function convert(events: HistoryEvent[], definition?: unknown): { progress: ProgressEvent[]; converter: HistoryConverter } {
  const converter = new HistoryConverter({ execution: EXEC, definition });
  return { progress: events.flatMap((e) => converter.push(e)), converter };
}

const started: HistoryEvent = { id: 1, type: 'ExecutionStarted', timestamp: t(0), executionStartedEventDetails: { input: '{}' } };

describe('HistoryConverter', () => {
  test('GIVEN a task entered and exited WHEN converted THEN it is one stateEntered and one stateExited with the duration', () => {
    const { progress } = convert([
      started,
      { id: 2, previousEventId: 1, type: 'TaskStateEntered', timestamp: t(1), stateEnteredEventDetails: { name: 'ValidateSpec' } },
      { id: 3, previousEventId: 2, type: 'TaskScheduled', timestamp: t(1) },
      { id: 4, previousEventId: 3, type: 'TaskSucceeded', timestamp: t(3) },
      { id: 5, previousEventId: 4, type: 'TaskStateExited', timestamp: t(4), stateExitedEventDetails: { name: 'ValidateSpec' } },
    ]);
    expect(progress).toEqual([
      { type: 'executionStarted', execution: EXEC, at: t(0) },
      { type: 'stateEntered', state: 'ValidateSpec', at: t(1) },
      { type: 'stateExited', state: 'ValidateSpec', at: t(4), durationMs: 3000 },
    ]);
  });

  test('GIVEN a failed task scheduled again WHEN converted THEN a retry with the attempt, the error and the delay', () => {
    const { progress } = convert([
      started,
      { id: 2, previousEventId: 1, type: 'TaskStateEntered', timestamp: t(1), stateEnteredEventDetails: { name: 'DiscoverZones' } },
      { id: 3, previousEventId: 2, type: 'TaskScheduled', timestamp: t(1) },
      {
        id: 4,
        previousEventId: 3,
        type: 'TaskFailed',
        timestamp: t(2),
        taskFailedEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke',
          error: 'Lambda.TooManyRequestsException',
          cause: 'slow down',
        },
      },
      { id: 5, previousEventId: 4, type: 'TaskScheduled', timestamp: t(6) },
    ]);
    expect(progress.at(-1)).toEqual({
      type: 'retry',
      state: 'DiscoverZones',
      at: t(6),
      attempt: 1,
      error: 'Lambda.TooManyRequestsException',
      delayMs: 4000,
    });
  });

  test('GIVEN a task failure caught by the state WHEN converted THEN stateFailed comes before the exit', () => {
    const { progress } = convert([
      started,
      { id: 2, previousEventId: 1, type: 'TaskStateEntered', timestamp: t(1), stateEnteredEventDetails: { name: 'NetworkJob' } },
      { id: 3, previousEventId: 2, type: 'TaskScheduled', timestamp: t(1) },
      {
        id: 4,
        previousEventId: 3,
        type: 'TaskFailed',
        timestamp: t(9),
        taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', error: 'States.TaskFailed', cause: 'terraform apply failed' },
      },
      { id: 5, previousEventId: 4, type: 'TaskStateExited', timestamp: t(9), stateExitedEventDetails: { name: 'NetworkJob' } },
    ]);
    expect(progress.slice(-2).map((p) => p.type)).toEqual(['stateFailed', 'stateExited']);
    expect(progress.at(-2)).toMatchObject({ state: 'NetworkJob', error: 'States.TaskFailed', cause: 'terraform apply failed' });
  });

  test('GIVEN a Wait state with SecondsPath WHEN entered THEN a wait event with the seconds from its input', () => {
    const definition = {
      StartAt: 'W',
      States: {
        Poll: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'W', States: { WaitForReadiness: { Type: 'Wait', SecondsPath: '$.readiness.pollSeconds', End: true } } }],
        },
      },
    };
    const { progress } = convert(
      [
        started,
        {
          id: 2,
          previousEventId: 1,
          type: 'WaitStateEntered',
          timestamp: t(1),
          stateEnteredEventDetails: { name: 'WaitForReadiness', input: '{"readiness":{"pollSeconds":30}}' },
        },
      ],
      definition,
    );
    expect(progress.at(-1)).toEqual({ type: 'wait', state: 'WaitForReadiness', at: t(1), seconds: 30 });
  });

  test.each([
    [
      'its log group and stream are known for tailing',
      { Id: 'fabric-network:1b2c', Logs: { GroupName: '/aws/codebuild/fabric-network', StreamName: '1b2c' } },
      { state: 'NetworkJob', buildId: 'fabric-network:1b2c', logGroup: '/aws/codebuild/fabric-network', logStream: '1b2c' },
    ],
    [
      "without a stream yet, its project's configured log group is used and the stream is the id after the colon",
      { Id: 'ClusterProject:9f8e', Logs: { CloudWatchLogs: { Status: 'ENABLED', GroupName: 'FabricOrchestrator-ClusterLogs' } } },
      { state: 'NetworkJob', buildId: 'ClusterProject:9f8e', logGroup: 'FabricOrchestrator-ClusterLogs', logStream: '9f8e' },
    ],
  ])('GIVEN a CodeBuild task submitted WHEN converted THEN %s', (_what, build, expected) => {
    expect(convert(historyToBuildSubmitted('NetworkJob', build)).converter.builds).toEqual([expected]);
  });

  test('GIVEN ExecutionFailed WHEN converted THEN executionFailed with the error and cause, and the outcome is FAILED', () => {
    const { progress, converter } = convert([
      started,
      {
        id: 2,
        previousEventId: 1,
        type: 'ExecutionFailed',
        timestamp: t(5),
        executionFailedEventDetails: { error: 'FabricBusy', cause: 'locked by x' },
      },
    ]);
    expect(progress.at(-1)).toEqual({ type: 'executionFailed', at: t(5), error: 'FabricBusy', cause: 'locked by x' });
    expect(converter.outcome).toEqual({ status: 'FAILED', error: 'FabricBusy', cause: 'locked by x' });
  });

  test('GIVEN ExecutionSucceeded WHEN converted THEN the output is parsed', () => {
    const { converter } = convert([
      started,
      {
        id: 2,
        previousEventId: 1,
        type: 'ExecutionSucceeded',
        timestamp: t(5),
        executionSucceededEventDetails: { output: '{"status":"READY"}' },
      },
    ]);
    expect(converter.outcome).toEqual({ status: 'SUCCEEDED', output: { status: 'READY' } });
  });
});
