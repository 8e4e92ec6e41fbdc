import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { ProgressEvent } from '../progress-events';
import { allStates, type AslMachine } from '../definition';

/**
 * Turns a Step Functions execution history (GetExecutionHistory) into the progress events local
 * runs emit, so one display serves both. Feed events in order; each call returns what they mean.
 *
 * Task events do not name their state: each event's `previousEventId` chain leads back to the
 * `...StateEntered` event that started it, which does. A task failure followed by a new schedule of
 * the same state is a retry; followed by the state's exit or the execution's end it is a failure.
 */
export interface BuildLog {
  readonly state: string;
  readonly buildId: string;
  readonly logGroup: string;
  readonly logStream: string;
}

interface PendingFailure {
  readonly at: Date;
  readonly error: string;
  readonly cause: string;
}

const FAILURE_TYPES = new Set([
  'TaskFailed',
  'LambdaFunctionFailed',
  'TaskTimedOut',
  'LambdaFunctionTimedOut',
  'TaskStartFailed',
  'TaskSubmitFailed',
  'LambdaFunctionStartFailed',
]);
const SCHEDULE_TYPES = new Set(['TaskScheduled', 'LambdaFunctionScheduled']);

/** JSON text as a value; text that is not JSON stays text (outputs and causes may be plain). */
export function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function field(value: unknown, ...names: string[]): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  for (const name of names) if (name in record) return record[name];
  return undefined;
}

/**
 * `{Build: {Id, Logs: {GroupName, StreamName}}}` (Step Functions' casing) or the API's camelCase.
 * A build just started may have no stream yet: its group is then the project's configured one
 * (`Logs.CloudWatchLogs.GroupName`), else CodeBuild's default, and its stream the id after the colon.
 */
function buildLogFrom(state: string, output: unknown): BuildLog | undefined {
  const build = field(output, 'Build', 'build');
  const id = field(build, 'Id', 'id');
  if (typeof id !== 'string' || !id.includes(':')) return undefined;
  const [project = '', stream = ''] = id.split(':');
  const logs = field(build, 'Logs', 'logs');
  const group = field(logs, 'GroupName', 'groupName') ?? field(field(logs, 'CloudWatchLogs', 'cloudWatchLogs'), 'GroupName', 'groupName');
  const streamName = field(logs, 'StreamName', 'streamName');
  return {
    state,
    buildId: id,
    logGroup: typeof group === 'string' ? group : `/aws/codebuild/${project}`,
    logStream: typeof streamName === 'string' ? streamName : stream,
  };
}

export interface HistoryConverterOptions {
  readonly execution: string;
  /** The state machine definition (DescribeStateMachine), to show how long Wait states wait. */
  readonly definition?: unknown;
}

export class HistoryConverter {
  private readonly stateOfEvent = new Map<number, string>();
  private readonly enteredAt = new Map<string, Date>();
  private readonly attempts = new Map<string, number>();
  private readonly pending = new Map<string, PendingFailure>();
  private readonly waits = new Map<string, { seconds?: number; secondsPath?: string }>();
  /** Builds started so far, in order; the CLI tails the newest one still running. */
  readonly builds: BuildLog[] = [];
  finished = false;
  /** How the execution ended, from its last history event. */
  outcome?: { status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT'; output?: unknown; error?: string; cause?: string };
  firstAt?: Date;
  lastAt?: Date;

  constructor(private readonly options: HistoryConverterOptions) {
    collectWaits(options.definition, this.waits);
  }

  private stateFor(event: HistoryEvent): string | undefined {
    const own = event.stateEnteredEventDetails?.name ?? event.stateExitedEventDetails?.name;
    if (own !== undefined) return own;
    return event.previousEventId === undefined ? undefined : this.stateOfEvent.get(event.previousEventId);
  }

  push(event: HistoryEvent): ProgressEvent[] {
    const at = event.timestamp ?? new Date(0);
    const type = event.type ?? '';
    const state = this.stateFor(event);
    if (event.id !== undefined && state !== undefined) this.stateOfEvent.set(event.id, state);
    const out: ProgressEvent[] = [];
    this.firstAt ??= at;
    this.lastAt = at;

    if (type === 'ExecutionStarted') {
      out.push({ type: 'executionStarted', execution: this.options.execution, at });
    } else if (type.endsWith('StateEntered') && state !== undefined) {
      this.enteredAt.set(state, at);
      out.push({ type: 'stateEntered', state, at });
      if (type === 'WaitStateEntered') {
        const seconds = this.waitSeconds(state, parseJson(event.stateEnteredEventDetails?.input));
        if (seconds !== undefined) out.push({ type: 'wait', state, at, seconds });
      }
    } else if (type.endsWith('StateExited') && state !== undefined) {
      out.push(...this.flushFailure(state));
      const entered = this.enteredAt.get(state);
      out.push({ type: 'stateExited', state, at, durationMs: entered ? at.getTime() - entered.getTime() : 0 });
    } else if (FAILURE_TYPES.has(type) && state !== undefined) {
      const details =
        event.taskFailedEventDetails ??
        event.lambdaFunctionFailedEventDetails ??
        event.taskTimedOutEventDetails ??
        event.lambdaFunctionTimedOutEventDetails ??
        event.taskStartFailedEventDetails ??
        event.taskSubmitFailedEventDetails ??
        event.lambdaFunctionStartFailedEventDetails;
      this.pending.set(state, { at, error: details?.error ?? type, cause: details?.cause ?? '' });
    } else if (SCHEDULE_TYPES.has(type) && state !== undefined) {
      const failure = this.pending.get(state);
      const attempt = (this.attempts.get(state) ?? 0) + 1;
      this.attempts.set(state, attempt);
      if (failure) {
        this.pending.delete(state);
        out.push({ type: 'retry', state, at, attempt: attempt - 1, error: failure.error, delayMs: at.getTime() - failure.at.getTime() });
      }
    } else if (type === 'TaskSubmitted' && state !== undefined) {
      const build = buildLogFrom(state, parseJson(event.taskSubmittedEventDetails?.output));
      if (build) this.builds.push(build);
    } else if (type === 'ExecutionSucceeded') {
      this.finished = true;
      const output = parseJson(event.executionSucceededEventDetails?.output);
      this.outcome = { status: 'SUCCEEDED', output };
      out.push({ type: 'executionSucceeded', at, output });
    } else if (type === 'ExecutionFailed' || type === 'ExecutionAborted' || type === 'ExecutionTimedOut') {
      for (const name of [...this.pending.keys()]) out.push(...this.flushFailure(name));
      this.finished = true;
      const details = event.executionFailedEventDetails ?? event.executionAbortedEventDetails ?? event.executionTimedOutEventDetails;
      const error = details?.error ?? type;
      const cause =
        details?.cause ??
        (type === 'ExecutionAborted' ? 'the execution was stopped' : type === 'ExecutionTimedOut' ? 'the execution timed out' : '');
      this.outcome = {
        status: type === 'ExecutionFailed' ? 'FAILED' : type === 'ExecutionAborted' ? 'ABORTED' : 'TIMED_OUT',
        error,
        cause,
      };
      out.push({ type: 'executionFailed', at, error, cause });
    }
    return out;
  }

  private flushFailure(state: string): ProgressEvent[] {
    const failure = this.pending.get(state);
    if (!failure) return [];
    this.pending.delete(state);
    return [{ type: 'stateFailed', state, at: failure.at, error: failure.error, cause: failure.cause }];
  }

  private waitSeconds(state: string, input: unknown): number | undefined {
    const wait = this.waits.get(state);
    if (!wait) return undefined;
    if (wait.seconds !== undefined) return wait.seconds;
    if (wait.secondsPath?.startsWith('$.')) {
      const value = wait.secondsPath
        .slice(2)
        .split('.')
        .reduce<unknown>((node, key) => field(node, key), input);
      return typeof value === 'number' ? value : undefined;
    }
    return undefined;
  }
}

/** Wait states anywhere in the definition (Parallel branches and Map iterators included). */
function collectWaits(definition: unknown, into: Map<string, { seconds?: number; secondsPath?: string }>): void {
  const states = field(definition, 'States');
  if (!states || typeof states !== 'object') return;
  for (const [name, state] of allStates(definition as AslMachine)) {
    if (state.Type !== 'Wait') continue;
    into.set(name, {
      seconds: typeof state.Seconds === 'number' ? state.Seconds : undefined,
      secondsPath: typeof state.SecondsPath === 'string' ? state.SecondsPath : undefined,
    });
  }
}
