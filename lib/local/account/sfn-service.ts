import { randomUUID } from 'node:crypto';
import type { AslDefinition } from '../../definition';
import { ENDED_WITH_ACCOUNT, ExecutionRecord, ExecutionStatus, ExecutionStore, StoredExecution } from './executions';
import { HistoryRecorder, withoutExecutionData } from './history';
import {
  checkExecutionName,
  epochSeconds,
  optionalString,
  paginate,
  parseExecutionArn,
  parseExecutionInput,
  parseStateMachineArn,
  requiredString,
  SfnServiceError,
} from './sfn-protocol';

/**
 * The Step Functions actions of the local account, over one state machine (the synthesized
 * FabricOrchestrator): executions are run by `runner` (the daemon's: executeLocal, see daemon.ts),
 * kept in `store`, and answered in the service's own shapes. Errors are the service's own
 * (`SfnServiceError`): the SDK and the AWS CLI turn them into the exceptions they know.
 */

export interface LocalStateMachine {
  readonly arn: string;
  readonly name: string;
  readonly definition: AslDefinition;
  readonly roleArn: string;
  /** Epoch ms. */
  readonly creationDate: number;
}

/** How a run ended, as executeLocal reports it. */
export interface RunEnd {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

export interface RunHandle {
  readonly done: Promise<RunEnd>;
  /** StopExecution: ends the run where it is. */
  stop(): void;
}

export interface ExecutionRunner {
  /** Starts the run; the recorder gets its events as they happen. */
  start(execution: ExecutionRecord, input: unknown, history: HistoryRecorder): RunHandle;
}

/** The waiting callback tasks (lib/local/task-tokens.ts in the daemon). */
export interface CallbackTokens {
  sendTaskSuccess(token: string, output: unknown): Promise<void>;
  sendTaskFailure(token: string, error: string, cause: string): Promise<void>;
  isWaiting(token: string): boolean;
}

export interface LocalStepFunctionsOptions {
  readonly stateMachine: LocalStateMachine;
  readonly region: string;
  readonly store: ExecutionStore;
  readonly runner: ExecutionRunner;
  readonly tokens: CallbackTokens;
  readonly now?: () => number;
}

type Body = Record<string, unknown>;

export class LocalStepFunctions {
  private readonly runs = new Map<string, { handle: RunHandle; history: HistoryRecorder; stopped?: { error?: string; cause?: string } }>();
  private readonly now: () => number;

  constructor(private readonly options: LocalStepFunctionsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Loads the stored executions; those the account's stop cut off are recorded as ABORTED. */
  load(): StoredExecution[] {
    return this.options.store.load((stored) => {
      const at = this.now();
      this.recorder(stored).aborted(at, ENDED_WITH_ACCOUNT.error, ENDED_WITH_ACCOUNT.cause);
      Object.assign(stored.record, { status: 'ABORTED', stopDate: at, error: ENDED_WITH_ACCOUNT.error, cause: ENDED_WITH_ACCOUNT.cause });
    });
  }

  private recorder(stored: StoredExecution): HistoryRecorder {
    const { stateMachine } = this.options;
    return new HistoryRecorder(
      {
        definition: stateMachine.definition,
        region: this.options.region,
        roleArn: stateMachine.roleArn,
        stateMachineArn: stateMachine.arn,
        now: this.now,
        onChange: () => this.options.store.changed(stored.record.executionArn),
      },
      stored.events,
    );
  }

  async handle(action: string, body: Body): Promise<unknown> {
    switch (action) {
      case 'StartExecution':
        return this.startExecution(body);
      case 'DescribeExecution':
        return describeExecution(this.execution(requiredString(body, 'executionArn')).record);
      case 'GetExecutionHistory':
        return this.getExecutionHistory(body);
      case 'ListExecutions':
        return this.listExecutions(body);
      case 'StopExecution':
        return this.stopExecution(body);
      case 'ListStateMachines':
        return this.listStateMachines(body);
      case 'DescribeStateMachine':
        this.stateMachine(requiredString(body, 'stateMachineArn'));
        return this.describeStateMachine();
      case 'DescribeStateMachineForExecution':
        this.execution(requiredString(body, 'executionArn'));
        return this.describeStateMachine();
      case 'SendTaskSuccess':
        return this.sendTaskSuccess(body);
      case 'SendTaskFailure':
        return this.sendTaskFailure(body);
      case 'SendTaskHeartbeat':
        this.waitingToken(requiredString(body, 'taskToken'));
        return {};
      default:
        throw new SfnServiceError(
          'UnknownOperationException',
          `the local Step Functions endpoint does not implement ${action}; ` +
            `it answers StartExecution, DescribeExecution, GetExecutionHistory, ListExecutions, ` +
            `StopExecution, ListStateMachines, DescribeStateMachine, DescribeStateMachineForExecution, ` +
            `SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat`,
        );
    }
  }

  private stateMachine(arn: string): LocalStateMachine {
    parseStateMachineArn(arn);
    if (arn !== this.options.stateMachine.arn)
      throw new SfnServiceError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${arn}' (this local account has ${this.options.stateMachine.arn})`,
      );
    return this.options.stateMachine;
  }

  private execution(arn: string): StoredExecution {
    parseExecutionArn(arn);
    const stored = this.options.store.get(arn);
    if (!stored) throw new SfnServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return stored;
  }

  private startExecution(body: Body): unknown {
    const stateMachine = this.stateMachine(requiredString(body, 'stateMachineArn'));
    const name = optionalString(body, 'name') ?? randomUUID();
    checkExecutionName(name);
    const inputText = optionalString(body, 'input') ?? '{}';
    const input = parseExecutionInput(inputText);
    const executionArn = `${stateMachine.arn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.options.store.get(executionArn);
    if (existing) {
      // Standard workflows: the same name and input while it runs is the same start; anything else is refused.
      if (existing.record.status === 'RUNNING' && existing.record.input === inputText)
        return { executionArn, startDate: epochSeconds(existing.record.startDate) };
      throw new SfnServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: stateMachine.arn,
      name,
      status: 'RUNNING',
      startDate: this.now(),
      input: inputText,
    };
    const stored: StoredExecution = { record, events: [] };
    this.options.store.add(stored);
    const history = this.recorder(stored);
    history.started(inputText, record.startDate);
    const handle = this.options.runner.start(record, input, history);
    const run = { handle, history, stopped: undefined as { error?: string; cause?: string } | undefined };
    this.runs.set(executionArn, run);
    void handle.done
      .then(
        (end) => this.finish(stored, history, end, run.stopped),
        (error: unknown) =>
          this.finish(
            stored,
            history,
            { status: 'FAILED', error: 'States.Runtime', cause: String((error as Error)?.message ?? error) },
            run.stopped,
          ),
      )
      .finally(() => this.runs.delete(executionArn));
    return { executionArn, startDate: epochSeconds(record.startDate) };
  }

  private finish(
    stored: StoredExecution,
    history: HistoryRecorder,
    end: RunEnd,
    stopped: { error?: string; cause?: string } | undefined,
  ): void {
    const { record } = stored;
    if (record.status !== 'RUNNING') return;
    const at = this.now();
    let status: ExecutionStatus;
    if (stopped) {
      status = 'ABORTED';
      history.aborted(at, stopped.error, stopped.cause);
      Object.assign(record, { error: stopped.error, cause: stopped.cause });
    } else if (end.status === 'SUCCEEDED') {
      status = 'SUCCEEDED';
      record.output = JSON.stringify(end.output ?? null);
    } else {
      status = 'FAILED';
      Object.assign(record, { error: end.error, cause: end.cause });
      // The interpreter's log ends with ExecutionFailed; a run that failed outside it gets one here.
      history.failed(at, end.error ?? 'States.Runtime', end.cause ?? '');
    }
    record.status = status;
    record.stopDate = at;
    this.options.store.changed(record.executionArn);
  }

  runningExecutions(): string[] {
    return [...this.runs.keys()];
  }

  /** Ends every run (the account is stopping): each is recorded as ABORTED. */
  stopAll(): void {
    for (const [arn, run] of this.runs) {
      run.stopped = { ...ENDED_WITH_ACCOUNT };
      run.handle.stop();
      const stored = this.options.store.get(arn);
      if (stored) this.finish(stored, run.history, { status: 'FAILED' }, run.stopped);
    }
    this.options.store.flush();
  }

  private getExecutionHistory(body: Body): unknown {
    const stored = this.execution(requiredString(body, 'executionArn'));
    const ordered = body.reverseOrder === true ? [...stored.events].reverse() : stored.events;
    const events = body.includeExecutionData === false ? ordered.map(withoutExecutionData) : ordered;
    const { page, nextToken } = paginate(events, body);
    return { events: page, ...(nextToken ? { nextToken } : {}) };
  }

  private listExecutions(body: Body): unknown {
    const stateMachine = this.stateMachine(requiredString(body, 'stateMachineArn'));
    const filter = optionalString(body, 'statusFilter');
    const all = this.options.store.list(stateMachine.arn).filter((e) => filter === undefined || e.record.status === filter);
    const { page, nextToken } = paginate(all, body);
    return {
      executions: page.map(({ record }) => ({
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        startDate: epochSeconds(record.startDate),
        ...(record.stopDate === undefined ? {} : { stopDate: epochSeconds(record.stopDate) }),
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  private stopExecution(body: Body): unknown {
    const stored = this.execution(requiredString(body, 'executionArn'));
    const run = this.runs.get(stored.record.executionArn);
    if (run && stored.record.status === 'RUNNING') {
      run.stopped = { error: optionalString(body, 'error'), cause: optionalString(body, 'cause') };
      run.handle.stop();
      this.finish(stored, run.history, { status: 'FAILED' }, run.stopped);
    }
    return { stopDate: epochSeconds(stored.record.stopDate ?? this.now()) };
  }

  private listStateMachines(body: Body): unknown {
    const { stateMachine } = this.options;
    const { page, nextToken } = paginate([stateMachine], body);
    return {
      stateMachines: page.map((m) => ({
        stateMachineArn: m.arn,
        name: m.name,
        type: 'STANDARD',
        creationDate: epochSeconds(m.creationDate),
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  private describeStateMachine(): unknown {
    const { stateMachine } = this.options;
    return {
      stateMachineArn: stateMachine.arn,
      name: stateMachine.name,
      status: 'ACTIVE',
      definition: JSON.stringify(stateMachine.definition),
      roleArn: stateMachine.roleArn,
      type: 'STANDARD',
      creationDate: epochSeconds(stateMachine.creationDate),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  }

  private waitingToken(token: string): string {
    if (!this.options.tokens.isWaiting(token))
      throw new SfnServiceError(
        'TaskDoesNotExist',
        `Task Does Not Exist: no task of this local account waits on token ${token.slice(0, 24)}...; ` +
          `its run is over, was stopped, or timed out`,
      );
    return token;
  }

  private async sendTaskSuccess(body: Body): Promise<unknown> {
    const token = this.waitingToken(requiredString(body, 'taskToken'));
    let output: unknown;
    try {
      output = JSON.parse(requiredString(body, 'output'));
    } catch (error) {
      if (error instanceof SfnServiceError) throw error;
      throw new SfnServiceError('InvalidOutput', `Invalid Output: '${(error as Error).message}'`);
    }
    await this.options.tokens.sendTaskSuccess(token, output);
    return {};
  }

  private async sendTaskFailure(body: Body): Promise<unknown> {
    const token = this.waitingToken(requiredString(body, 'taskToken'));
    await this.options.tokens.sendTaskFailure(token, optionalString(body, 'error') ?? '', optionalString(body, 'cause') ?? '');
    return {};
  }
}

function describeExecution(record: ExecutionRecord): unknown {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: epochSeconds(record.startDate),
    ...(record.stopDate === undefined ? {} : { stopDate: epochSeconds(record.stopDate) }),
    input: record.input,
    inputDetails: { included: true },
    ...(record.output === undefined ? {} : { output: record.output, outputDetails: { included: true } }),
    ...(record.error === undefined ? {} : { error: record.error }),
    ...(record.cause === undefined ? {} : { cause: record.cause }),
    redriveCount: 0,
    redriveStatus: 'NOT_REDRIVABLE',
  };
}
