import type { HistoryEvent } from '@aws-sdk/client-sfn';

/** Seconds after 2026-01-01T00:00:00Z: the timestamps of these made-up histories. */
export const historyTime = (seconds: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));

/**
 * An execution's history up to the submission of its first build task (`state`, a CodeBuild
 * startBuild.sync whose StartBuild reply is `{ Build: build }`), as Step Functions records it:
 * events 1 to 4, so a test's own events go on from id 5.
 */
export function historyToBuildSubmitted(state: string, build: unknown): HistoryEvent[] {
  return [
    { id: 1, type: 'ExecutionStarted', timestamp: historyTime(0), executionStartedEventDetails: { input: '{}' } },
    { id: 2, previousEventId: 1, type: 'TaskStateEntered', timestamp: historyTime(1), stateEnteredEventDetails: { name: state } },
    { id: 3, previousEventId: 2, type: 'TaskScheduled', timestamp: historyTime(1) },
    {
      id: 4,
      previousEventId: 3,
      type: 'TaskSubmitted',
      timestamp: historyTime(2),
      taskSubmittedEventDetails: { resourceType: 'codebuild', resource: 'startBuild.sync', output: JSON.stringify({ Build: build }) },
    },
  ];
}

/** That build task succeeding `seconds` after the start, and its state exited: events 5 and 6. */
export function buildTaskSucceeded(state: string, seconds: number): HistoryEvent[] {
  return [
    {
      id: 5,
      previousEventId: 4,
      type: 'TaskSucceeded',
      timestamp: historyTime(seconds),
      taskSucceededEventDetails: { resourceType: 'codebuild', resource: 'startBuild.sync', output: '{}' },
    },
    {
      id: 6,
      previousEventId: 5,
      type: 'TaskStateExited',
      timestamp: historyTime(seconds),
      stateExitedEventDetails: { name: state, output: '{}' },
    },
  ];
}
