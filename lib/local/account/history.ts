import { allStates, AslMachine } from '../../definition';
import type { InterpreterEvent, TaskTrace } from '../run';

/**
 * An execution's history as Step Functions' GetExecutionHistory returns it, made from what the
 * local interpreter reports: its event log (states entered, exited, failed, retried) and each Task
 * handler's own call (the Parameters it got, the service's response or error).
 *
 * The two arrive in different orders: a handler is called before the interpreter's log of the
 * state's entry has been read (the log is an async generator). So each state keeps what its handler
 * reported until the log reaches the point where Step Functions would record it.
 */

/** One history event on the wire: `timestamp` in epoch seconds, details under `<type>EventDetails`. */
export interface WireHistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: number;
  readonly type: string;
  readonly [details: string]: unknown;
}

interface StateInfo {
  readonly type: string;
  readonly resource?: string;
  readonly timeoutSeconds?: number;
}

/** What the history needs of each state, Parallel branches included. */
function statesOf(definition: Pick<AslMachine, 'States'>): Map<string, StateInfo> {
  const infos = new Map<string, StateInfo>();
  for (const [name, state] of allStates(definition)) {
    infos.set(name, {
      type: state.Type,
      resource: state.Resource,
      timeoutSeconds: typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined,
    });
  }
  return infos;
}

/** How Step Functions names a Task's service in its events: a Lambda ARN, or `<service>:<action>[.sync|.waitForTaskToken]`. */
function taskResource(
  resource: string,
): { kind: 'lambda'; arn: string } | { kind: 'task'; resourceType: string; resource: string; pattern?: 'sync' | 'callback' } {
  const integration = /^arn:aws[a-z-]*:states:::([a-z0-9-]+):(.+)$/.exec(resource);
  if (!integration) return { kind: 'lambda', arn: resource };
  const action = integration[2] ?? '';
  const pattern = action.endsWith('.sync') ? 'sync' : action.endsWith('.waitForTaskToken') ? 'callback' : undefined;
  return { kind: 'task', resourceType: integration[1] ?? '', resource: action, pattern };
}

const json = (value: unknown): string => JSON.stringify(value ?? null);
const notTruncated = { truncated: false };

interface Slot {
  lastId?: number;
  /** Entered or retried, and its TaskScheduled not yet recorded (the handler's Parameters not yet seen). */
  awaitingSchedule: boolean;
  /** The current attempt failed (a Catch's exit then records no success). */
  failed: boolean;
  readonly inputs: unknown[];
  readonly outcomes: Array<{ readonly output: unknown } | { readonly error: Error }>;
  /** A callback task's TaskSubmitted, held until its TaskStarted is recorded. */
  submitted?: unknown;
}

export interface HistoryRecorderOptions {
  readonly definition: Pick<AslMachine, 'States'>;
  readonly region: string;
  readonly roleArn: string;
  readonly stateMachineArn: string;
  /** Called after every event added (the store persists the history). */
  readonly onChange?: () => void;
  readonly now?: () => number;
}

export class HistoryRecorder {
  readonly events: WireHistoryEvent[];
  private readonly states: Map<string, StateInfo>;
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly options: HistoryRecorderOptions,
    events: WireHistoryEvent[] = [],
  ) {
    this.states = statesOf(options.definition);
    this.events = events;
  }

  get closed(): boolean {
    return /^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(this.events.at(-1)?.type ?? '');
  }

  private add(type: string, at: number, details: Record<string, unknown> = {}, previous?: number): number {
    // A stopped run's interpreter may still report a state finishing: the history ended already.
    if (this.closed) return this.events.length;
    const id = this.events.length + 1;
    this.events.push({ id, previousEventId: previous ?? id - 1, timestamp: at / 1000, type, ...details });
    this.options.onChange?.();
    return id;
  }

  private slot(state: string): Slot {
    let slot = this.slots.get(state);
    if (!slot) {
      slot = { awaitingSchedule: false, failed: false, inputs: [], outcomes: [] };
      this.slots.set(state, slot);
    }
    return slot;
  }

  /** An event of `state`, following the state's own previous event (parallel branches interleave). */
  private addFor(state: string, type: string, at: number, details: Record<string, unknown> = {}): void {
    const slot = this.slot(state);
    slot.lastId = this.add(type, at, details, slot.lastId);
  }

  started(input: string, at: number): void {
    this.add(
      'ExecutionStarted',
      at,
      {
        executionStartedEventDetails: {
          input,
          inputDetails: notTruncated,
          roleArn: this.options.roleArn,
          stateMachineArn: this.options.stateMachineArn,
        },
      },
      0,
    );
  }

  /** A Task handler's call (lib/local/run.ts `onTask`). */
  task(state: string, trace: TaskTrace): void {
    const slot = this.slot(state);
    if ('input' in trace) {
      slot.inputs.push(trace.input);
      this.flushSchedule(state);
    } else {
      slot.outcomes.push(trace);
    }
  }

  /** A callback task's function ran and its token waits (WaitForApproval): Step Functions records TaskSubmitted. */
  submitted(state: string, output: unknown): void {
    const slot = this.slot(state);
    slot.submitted = output;
    if (!slot.awaitingSchedule && slot.lastId !== undefined) this.flushSubmitted(state);
  }

  private flushSubmitted(state: string): void {
    const slot = this.slot(state);
    const info = this.states.get(state);
    if (slot.submitted === undefined || !info?.resource) return;
    const resource = taskResource(info.resource);
    if (resource.kind === 'task')
      this.addFor(state, 'TaskSubmitted', this.now(), {
        taskSubmittedEventDetails: {
          resourceType: resource.resourceType,
          resource: resource.resource,
          output: json(slot.submitted),
          outputDetails: notTruncated,
        },
      });
    slot.submitted = undefined;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private flushSchedule(state: string): void {
    const slot = this.slot(state);
    const info = this.states.get(state);
    if (!slot.awaitingSchedule || slot.inputs.length === 0 || !info?.resource) return;
    slot.awaitingSchedule = false;
    const parameters = slot.inputs.shift();
    const at = this.now();
    const resource = taskResource(info.resource);
    if (resource.kind === 'lambda') {
      this.addFor(state, 'LambdaFunctionScheduled', at, {
        lambdaFunctionScheduledEventDetails: {
          resource: resource.arn,
          input: json(parameters),
          inputDetails: notTruncated,
          ...(info.timeoutSeconds ? { timeoutInSeconds: info.timeoutSeconds } : {}),
        },
      });
      this.addFor(state, 'LambdaFunctionStarted', at);
    } else {
      this.addFor(state, 'TaskScheduled', at, {
        taskScheduledEventDetails: {
          resourceType: resource.resourceType,
          resource: resource.resource,
          region: this.options.region,
          parameters: json(parameters),
          ...(info.timeoutSeconds ? { timeoutInSeconds: info.timeoutSeconds } : {}),
        },
      });
      this.addFor(state, 'TaskStarted', at, {
        taskStartedEventDetails: { resourceType: resource.resourceType, resource: resource.resource },
      });
      this.flushSubmitted(state);
    }
  }

  /** The interpreter's log, in its order (lib/local/run.ts `onEventLog`). */
  log(event: InterpreterEvent): void {
    const at = event.timestamp;
    switch (event.type) {
      case 'StateEntered': {
        const { name, type, input } = event.state;
        const slot = this.slot(name);
        slot.failed = false;
        // A state entered again (a loop) starts from its entry, not from its last attempt.
        slot.lastId = undefined;
        // Event types start with the state's type: TaskStateEntered, ChoiceStateEntered...
        const entered = this.add(`${type}StateEntered`, at, {
          stateEnteredEventDetails: { name, input: json(input), inputDetails: notTruncated },
        });
        slot.lastId = entered;
        if (type === 'Task') {
          slot.awaitingSchedule = true;
          this.flushSchedule(name);
        } else if (type === 'Parallel') {
          this.addFor(name, 'ParallelStateStarted', at);
        }
        break;
      }
      case 'StateRetried': {
        const slot = this.slot(event.state.name);
        slot.failed = false;
        slot.awaitingSchedule = true;
        this.flushSchedule(event.state.name);
        break;
      }
      case 'StateFailed':
        this.stateFailed(event.state.name, event.state.type, at, event.Error, stringCause(event.Cause));
        break;
      case 'StateExited':
        this.stateExited(event.state.name, event.state.type, at, event.state.output);
        break;
      case 'ExecutionSucceeded':
        this.add('ExecutionSucceeded', at, { executionSucceededEventDetails: { output: json(event.output), outputDetails: notTruncated } });
        break;
      case 'ExecutionFailed':
        this.add('ExecutionFailed', at, { executionFailedEventDetails: { error: event.Error, cause: stringCause(event.Cause) } });
        break;
      default:
        // ExecutionStarted is recorded at StartExecution; branch starts and catches have no event of their own.
        break;
    }
  }

  private stateFailed(state: string, type: string, at: number, error: string, cause: string): void {
    const slot = this.slot(state);
    slot.failed = true;
    if (type === 'Parallel') {
      this.addFor(state, 'ParallelStateFailed', at, { parallelStateFailedEventDetails: { error, cause } });
      return;
    }
    if (type !== 'Task') return;
    const info = this.states.get(state);
    const outcome = slot.outcomes.shift();
    // The handler never ran (its Parameters failed to evaluate): nothing was scheduled.
    if (slot.awaitingSchedule) slot.inputs.length = 0;
    slot.awaitingSchedule = false;
    const resource = taskResource(info?.resource ?? '');
    const build = outcome && 'error' in outcome ? (outcome.error as Error & { build?: unknown }).build : undefined;
    if (resource.kind === 'task' && resource.pattern === 'sync' && build !== undefined) {
      // A build that ran and failed: its id and logs are in the history, as the service records them.
      this.addFor(state, 'TaskSubmitted', at, {
        taskSubmittedEventDetails: {
          resourceType: resource.resourceType,
          resource: resource.resource,
          output: json({ Build: build }),
          outputDetails: notTruncated,
        },
      });
    }
    const timedOut = error === 'States.Timeout';
    if (resource.kind === 'lambda') {
      this.addFor(state, timedOut ? 'LambdaFunctionTimedOut' : 'LambdaFunctionFailed', at, {
        [timedOut ? 'lambdaFunctionTimedOutEventDetails' : 'lambdaFunctionFailedEventDetails']: { error, cause },
      });
    } else {
      this.addFor(state, timedOut ? 'TaskTimedOut' : 'TaskFailed', at, {
        [timedOut ? 'taskTimedOutEventDetails' : 'taskFailedEventDetails']: {
          resourceType: resource.resourceType,
          resource: resource.resource,
          error,
          cause,
        },
      });
    }
  }

  private stateExited(state: string, type: string, at: number, output: unknown): void {
    const slot = this.slot(state);
    if (type === 'Task' && !slot.failed) {
      const info = this.states.get(state);
      const outcome = slot.outcomes.shift();
      const result = outcome && 'output' in outcome ? outcome.output : undefined;
      const resource = taskResource(info?.resource ?? '');
      if (resource.kind === 'lambda') {
        this.addFor(state, 'LambdaFunctionSucceeded', at, {
          lambdaFunctionSucceededEventDetails: { output: json(result), outputDetails: notTruncated },
        });
      } else {
        if (resource.pattern === 'sync')
          this.addFor(state, 'TaskSubmitted', at, {
            taskSubmittedEventDetails: {
              resourceType: resource.resourceType,
              resource: resource.resource,
              output: json(result),
              outputDetails: notTruncated,
            },
          });
        this.addFor(state, 'TaskSucceeded', at, {
          taskSucceededEventDetails: {
            resourceType: resource.resourceType,
            resource: resource.resource,
            output: json(result),
            outputDetails: notTruncated,
          },
        });
      }
    } else if (type === 'Parallel' && !slot.failed) {
      this.addFor(state, 'ParallelStateSucceeded', at);
    }
    // A Fail state ends the execution without an exit of its own.
    if (type === 'Fail') return;
    this.addFor(state, `${type}StateExited`, at, {
      stateExitedEventDetails: { name: state, output: json(output), outputDetails: notTruncated },
    });
  }

  /** The run failed outside the interpreter's log (its setup threw); no-op once the history is closed. */
  failed(at: number, error: string, cause: string): void {
    this.add('ExecutionFailed', at, { executionFailedEventDetails: { error, cause } });
  }

  /** StopExecution, or the account stopping while the run was under way. */
  aborted(at: number, error?: string, cause?: string): void {
    this.add('ExecutionAborted', at, {
      executionAbortedEventDetails: { ...(error === undefined ? {} : { error }), ...(cause === undefined ? {} : { cause }) },
    });
  }
}

function stringCause(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return cause === undefined || cause === null ? '' : JSON.stringify(cause);
}

/** GetExecutionHistory's `includeExecutionData: false`: events without inputs, outputs and parameters. */
export function withoutExecutionData(event: WireHistoryEvent): WireHistoryEvent {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (key.endsWith('EventDetails') && value !== null && typeof value === 'object') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).filter(([k]) => !['input', 'output', 'parameters'].includes(k)),
      );
    } else {
      out[key] = value;
    }
  }
  return out as WireHistoryEvent;
}
