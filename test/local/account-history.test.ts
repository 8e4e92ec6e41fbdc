import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { StateMachine } from 'aws-local-stepfunctions';
import { HistoryConverter } from '../../lib/cli/history';
import type { AslDefinition } from '../../lib/definition';
import { HistoryRecorder, WireHistoryEvent } from '../../lib/local/account/history';
// Loaded for its Promise.withResolvers polyfill: the interpreter needs it on Node 20.
import '../../lib/local/run';

/**
 * The local account's execution history, made from what the real interpreter (aws-local-stepfunctions)
 * reports while it runs a small definition, and read back by the CLI's own history reader
 * (lib/cli/history.ts), as `fabricctl logs` and watching read a cloud execution's. No emulator.
 */
const BUILD_ID = 'NetworkProject:3f1c2d4e-0000-4000-8000-000000000001';
const definition: AslDefinition = {
  StartAt: 'Validate',
  States: {
    Validate: {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-2:123456789012:function:Validate',
      Retry: [{ ErrorEquals: ['Lambda.TooManyRequestsException'], IntervalSeconds: 1, MaxAttempts: 1 }],
      Next: 'Prepare',
    },
    Prepare: {
      Type: 'Parallel',
      Branches: [
        {
          StartAt: 'Zones',
          States: { Zones: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-2:123456789012:function:Zones', End: true } },
        },
        { StartAt: 'Skip', States: { Skip: { Type: 'Pass', End: true } } },
      ],
      ResultPath: null,
      Next: 'Pause',
    },
    Pause: { Type: 'Wait', Seconds: 0, Next: 'NetworkJob' },
    NetworkJob: {
      Type: 'Task',
      Resource: 'arn:aws:states:::codebuild:startBuild.sync',
      Parameters: { ProjectName: 'NetworkProject' },
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
      Next: 'Done',
    },
    Failed: { Type: 'Fail', Error: 'FabricFailed', Cause: 'the network job failed' },
    Done: { Type: 'Succeed' },
  },
};

/** A build that failed, as the CodeBuild stand-in throws it: `States.TaskFailed` carrying the build. */
function failedBuild(): Error {
  const error = new Error(JSON.stringify({ BuildStatus: 'FAILED' })) as Error & { build: unknown };
  error.name = 'States.TaskFailed';
  error.build = {
    Id: BUILD_ID,
    BuildStatus: 'FAILED',
    Logs: { GroupName: '/aws/codebuild/NetworkProject', StreamName: '3f1c2d4e-0000-4000-8000-000000000001' },
  };
  return error;
}

/** Runs `definition` as executeLocal does: the interpreter's log and each handler's call go to the recorder. */
async function run(): Promise<WireHistoryEvent[]> {
  const history = new HistoryRecorder({
    definition,
    region: 'us-east-2',
    roleArn: 'arn:aws:iam::123456789012:role/r',
    stateMachineArn: 'arn:aws:states:us-east-2:123456789012:stateMachine:M',
  });
  history.started('{"action":"provision"}', Date.now());
  let validateCalls = 0;
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {
    Validate: async () => {
      validateCalls += 1;
      if (validateCalls === 1) throw Object.assign(new Error('slow down'), { name: 'Lambda.TooManyRequestsException' });
      return { name: 'demo' };
    },
    Zones: async () => ['us-east-2a'],
    NetworkJob: async () => {
      throw failedBuild();
    },
  };
  const traced = Object.fromEntries(
    Object.entries(handlers).map(([state, handler]) => [
      state,
      async (input: unknown) => {
        history.task(state, { input });
        try {
          const output = await handler(input);
          history.task(state, { output });
          return output;
        } catch (error) {
          history.task(state, { error: error as Error });
          throw error;
        }
      },
    ]),
  );
  const execution = new StateMachine(definition as never, { validationOptions: { checkArn: false } }).run(
    { action: 'provision' },
    { overrides: { taskResourceLocalHandlers: traced as never, retryIntervalOverrides: { Validate: 20 } }, noThrowOnAbort: true },
  );
  for await (const event of execution.eventLogs) history.log(event);
  await execution.result.catch(() => undefined);
  return history.events;
}

/** As the SDK hands events to the CLI: timestamps as Dates. */
const asSdk = (events: WireHistoryEvent[]): HistoryEvent[] =>
  events.map((e) => ({ ...e, timestamp: new Date(e.timestamp * 1000) }) as HistoryEvent);

describe("HistoryRecorder (the local account's GetExecutionHistory)", () => {
  let events: WireHistoryEvent[];
  beforeAll(async () => {
    events = await run();
  });

  test('GIVEN a run WHEN recorded THEN ids count up from 1, each event names the one before it, and the last says how it ended', () => {
    expect(events.map((e) => e.id)).toEqual(events.map((_e, i) => i + 1));
    expect(events.every((e) => e.previousEventId < e.id)).toBe(true);
    expect(events.at(-1)).toMatchObject({
      type: 'ExecutionFailed',
      executionFailedEventDetails: { error: 'FabricFailed', cause: 'the network job failed' },
    });
  });

  test("GIVEN a Lambda task failed once and retried WHEN recorded THEN Step Functions' events: failed, scheduled again, succeeded", () => {
    const lambda = events.filter((e) => e.type.startsWith('LambdaFunction'));
    expect(lambda.slice(0, 6).map((e) => e.type)).toEqual([
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
    ]);
    expect(events.find((e) => e.type === 'LambdaFunctionFailed')).toMatchObject({
      lambdaFunctionFailedEventDetails: { error: 'Lambda.TooManyRequestsException', cause: 'slow down' },
    });
    expect(events.find((e) => e.type === 'LambdaFunctionScheduled')).toMatchObject({
      lambdaFunctionScheduledEventDetails: {
        resource: 'arn:aws:lambda:us-east-2:123456789012:function:Validate',
        input: '{"action":"provision"}',
      },
    });
  });

  test('GIVEN a failed build WHEN recorded THEN TaskSubmitted has the build (its logs) before TaskFailed; the caught state exits', () => {
    const types = events.map((e) => e.type);
    const submitted = types.indexOf('TaskSubmitted');
    expect(types.slice(submitted, submitted + 3)).toEqual(['TaskSubmitted', 'TaskFailed', 'TaskStateExited']);
    expect(JSON.parse(String((events[submitted]?.taskSubmittedEventDetails as { output: string }).output))).toMatchObject({
      Build: { Id: BUILD_ID },
    });
    expect(events[submitted + 1]).toMatchObject({
      taskFailedEventDetails: { resourceType: 'codebuild', resource: 'startBuild.sync', error: 'States.TaskFailed' },
    });
  });

  test('GIVEN the recorded history WHEN the CLI reads it THEN the steps, retry, failed build with its log stream, the outcome', () => {
    const converter = new HistoryConverter({ execution: 'arn:aws:states:us-east-2:123456789012:execution:M:demo', definition });
    const progress = asSdk(events).flatMap((e) => converter.push(e));
    const steps = progress.filter((p) => p.type !== 'executionStarted').map((p) => `${p.type} ${'state' in p ? p.state : ''}`.trim());
    expect(steps).toEqual([
      'stateEntered Validate',
      'retry Validate',
      'stateExited Validate',
      'stateEntered Prepare',
      ...steps.slice(4, 8),
      'stateExited Prepare',
      'stateEntered Pause',
      'wait Pause',
      'stateExited Pause',
      'stateEntered NetworkJob',
      'stateFailed NetworkJob',
      'stateExited NetworkJob',
      'stateEntered Failed',
      'executionFailed',
    ]);
    expect(steps.slice(4, 8).sort()).toEqual(['stateEntered Skip', 'stateEntered Zones', 'stateExited Skip', 'stateExited Zones']);
    expect(converter.builds).toEqual([
      {
        state: 'NetworkJob',
        buildId: BUILD_ID,
        logGroup: '/aws/codebuild/NetworkProject',
        logStream: '3f1c2d4e-0000-4000-8000-000000000001',
      },
    ]);
    expect(converter.outcome).toEqual({ status: 'FAILED', error: 'FabricFailed', cause: 'the network job failed' });
  });

  test('GIVEN a closed history WHEN a stopped run still reports a state THEN nothing is added', () => {
    const history = new HistoryRecorder({ definition, region: 'us-east-2', roleArn: 'r', stateMachineArn: 'm' });
    history.started('{}', 1000);
    history.aborted(2000, 'Manual', 'stop');
    history.log({ type: 'StateEntered', timestamp: 3000, state: { name: 'Validate', type: 'Task', input: {} } } as never);
    expect(history.events.map((e) => e.type)).toEqual(['ExecutionStarted', 'ExecutionAborted']);
  });
});
