import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { StateMachine } from 'aws-local-stepfunctions';
import { PROJECT_ROOT } from '../fabric-function';
import { inJobSource, JOB_SOURCE_FOLDERS } from '../job-source';
import type { ProgressEvent, ProgressListener } from '../progress-events';
import { LOCK_TABLE_ENV } from '../../lambdas/shared/config';
import { clusterNameOf, normaliseName } from '../domain/spec';
import { parseSpecJson } from '../domain/spec-document';
import type { AslDefinition, AslMachine, AslState } from '../definition';
import { createAwsEnvironment, createLocalEnvironment, LocalEnvironment } from './environment';
import { EnvironmentVariableType, runBuild } from './standins/codebuild';
import { promoteApiRecord } from './standins/dns-controller';
import { readSharedSynthesis, SHARED_SYNTHESIS_ENV, writeSharedSynthesis } from './shared-synthesis';
import { synthesizeOrchestrator, SynthesizedOrchestrator } from './synth';
import { buildTaskHandlers, mergedFunctionEnvironment } from './task-handlers';
import { forgetTaskToken, waitForTaskToken } from './task-tokens';
import type { ApprovalRequest, RunAction } from '../domain/contract';
import { EVENT_SOURCE, FABRIC_AWAITING_APPROVAL } from '../domain/events';

// aws-local-stepfunctions targets Node 22; on Node 20 it needs Promise.withResolvers.
const promiseStatics = Promise as unknown as { withResolvers?: () => unknown };
if (typeof promiseStatics.withResolvers !== 'function') {
  promiseStatics.withResolvers = function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export type LocalAction = RunAction;

/** One event of the interpreter's log (the library does not export its type). */
export type InterpreterEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export interface StateTiming {
  readonly state: string;
  readonly ms: number;
}

export interface LocalRunResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly execution: string;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  readonly timings: readonly StateTiming[];
  readonly totalMs: number;
  /** State transitions, counted from the execution's events as Step Functions bills them. */
  readonly transitions: number;
  /** EventBridge events the run put. */
  readonly events: readonly PutEventsRequestEntry[];
}

export interface ExecuteOptions {
  readonly onEvent?: ProgressListener;
  /** Pause between readiness polls, ms. @default 1000 */
  readonly readinessPollMs?: number;
  /** Override every Retry interval of these states, ms (tests: make waits short). */
  readonly retryIntervalOverrides?: Record<string, number>;
  /** Execution name. @default a random id */
  readonly executionName?: string;
  /** Delay before the dns-controller stand-in writes the API's real address, ms. @default 500 */
  readonly dnsControllerDelayMs?: number;
  /**
   * Fault injection for tests: extra environment for the builds of these states, e.g.
   * `{ NetworkJob: { TF_CLI_ARGS_apply: '-var=undeclared=1' } }` makes Terraform's apply fail.
   */
  readonly injectBuildEnvironment?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * The run waits for approval (its token is parked on the lock item, as in the cloud): answer with
   * `localTaskTokens.sendTaskSuccess/Failure` (lib/local/task-tokens.ts) or `fabricctl approve`'s
   * core. Unanswered, the run waits out its approval timeout.
   */
  readonly onApprovalRequested?: (request: ApprovalRequest) => void;
  /** Setup messages, such as "synthesizing..." while the stack is synthesized (the first run of a process). */
  readonly log?: (line: string) => void;
  /** Every event of the interpreter, in order (the local account builds Step Functions' history from them). */
  readonly onEventLog?: (log: InterpreterEvent) => void;
  /**
   * Each call of a Task's handler as Step Functions' history records it: the evaluated Parameters it
   * starts with, then the service's own response (a build's `{Build}`) or error, before Retry, Catch
   * and ResultSelector see it.
   */
  readonly onTask?: (state: string, trace: TaskTrace) => void;
  /** Aborting it stops the run, as StopExecution does. */
  readonly signal?: AbortSignal;
}

export type TaskTrace = { readonly input: unknown } | { readonly output: unknown } | { readonly error: Error };

/** A Parameters field local mode adds to carry a TimeoutSecondsPath value (see withStepFunctionsTaskTimeouts). */
const TIMEOUT_CARRIER = 'LocalTimeoutSeconds';

/** The longest timer Node.js keeps (2^31 - 1 ms); a longer one fires at once. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * The definition with Step Functions' own Task timeouts made explicit for the interpreter.
 * aws-local-stepfunctions gives a Task without TimeoutSeconds 60 s (the ASL specification's
 * default); Step Functions gives it none, so a `.sync` build runs until the build itself ends or the
 * execution times out. Such Tasks get the execution's timeout, which no Task can outlive.
 */
export function withStepFunctionsTaskTimeouts(asl: AslDefinition): AslDefinition {
  const seconds = Math.min(asl.TimeoutSeconds ?? MAX_TIMER_SECONDS, MAX_TIMER_SECONDS);
  const states = (all: Readonly<Record<string, AslState>>): Record<string, AslState> =>
    Object.fromEntries(Object.entries(all).map(([name, state]) => [name, withTimeout(state)]));
  const nested = (machine: AslMachine): AslMachine => ({ ...machine, States: states(machine.States) });
  const withTimeout = (state: AslState): AslState => {
    let out: AslState = state;
    if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined)
      out = { ...out, TimeoutSeconds: seconds };
    // Step Functions reads TimeoutSecondsPath from the state's input; the interpreter reads it from
    // the Parameters' output. Carrying the value through Parameters gives the interpreter the same number.
    if (state.Type === 'Task' && typeof state.TimeoutSecondsPath === 'string' && state.Parameters !== undefined) {
      out = {
        ...out,
        Parameters: { ...(state.Parameters as object), [`${TIMEOUT_CARRIER}.$`]: state.TimeoutSecondsPath },
        TimeoutSecondsPath: `$.${TIMEOUT_CARRIER}`,
      };
    }
    if (state.Branches !== undefined) out = { ...out, Branches: state.Branches.map(nested) };
    if (state.Iterator !== undefined) out = { ...out, Iterator: nested(state.Iterator) };
    if (state.ItemProcessor !== undefined) out = { ...out, ItemProcessor: nested(state.ItemProcessor) };
    return out;
  };
  return { ...asl, States: states(asl.States) };
}

let synthesized: SynthesizedOrchestrator | undefined;
/**
 * The stack is synthesized once per process (once per test run: lib/local/shared-synthesis.ts): the
 * definition does not change between runs. It takes seconds, so `log` hears of it (the caller
 * decides where that goes: lib/local prints nothing).
 */
export function localOrchestrator(log?: (line: string) => void): SynthesizedOrchestrator {
  if (synthesized === undefined) {
    const shared = process.env[SHARED_SYNTHESIS_ENV] || undefined;
    synthesized = shared === undefined ? undefined : readSharedSynthesis(shared);
    if (synthesized === undefined) {
      synthesized = synthesizeWithLog(log);
      if (shared !== undefined) writeSharedSynthesis(shared, synthesized);
    }
  }
  return synthesized;
}

function synthesizeWithLog(log?: (line: string) => void): SynthesizedOrchestrator {
  log?.('synthesizing the FabricOrchestrator stack (the definition the cloud runs)...');
  const started = Date.now();
  const result = synthesizeOrchestrator();
  log?.(`synthesized in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return result;
}

/**
 * Executes the real state machine definition once, locally: aws-local-stepfunctions interprets it,
 * every Task is handled by the real code against the emulator (see task-handlers.ts).
 * Handlers build their SDK clients when first loaded, as in Lambda, so every run in one process
 * must use the same emulator (one environment per process; the CLI runs one run per process).
 */
export async function executeLocal(
  env: LocalEnvironment,
  input: Record<string, unknown>,
  options: ExecuteOptions = {},
): Promise<LocalRunResult> {
  const orchestrator = localOrchestrator(options.log);
  Object.assign(process.env, mergedFunctionEnvironment(orchestrator));
  const lockTable = env.lockTableName ?? orchestrator.lockTable;
  // RecordFabric checks the lock in the table the DynamoDB tasks use.
  process.env[LOCK_TABLE_ENV] = lockTable;
  await env.ensureLockTable(lockTable);
  const emit = (event: ProgressEvent) => options.onEvent?.(event);
  const name = options.executionName ?? randomUUID();
  const executionArn = `arn:aws:states:${env.region}:${env.accountId}:execution:FabricOrchestrator:${name}`;
  const events: PutEventsRequestEntry[] = [];

  const handlers = buildTaskHandlers({
    synthesized: orchestrator,
    lockTableName: lockTable,
    onEventPut: (entry) => events.push(entry),
    waitForCallback: async (token, result) => {
      const request = result as ApprovalRequest;
      // RequestApproval put the event itself (to the emulator); the run's list shows it too.
      events.push({ Source: EVENT_SOURCE, DetailType: FABRIC_AWAITING_APPROVAL, Detail: JSON.stringify(request) });
      const decision = waitForTaskToken(token);
      emit({
        type: 'awaitingApproval',
        state: 'WaitForApproval',
        at: new Date(),
        name: request.name,
        plan: request.summary.lines,
        expiresAt: request.expiresAt,
      });
      options.onApprovalRequested?.(request);
      try {
        return await decision;
      } finally {
        forgetTaskToken(token);
      }
    },
    runBuild: async (request) => {
      const vars = Object.fromEntries(request.overrides.map((o) => [o.Name, o.Value]));
      const clusterName = vars.CLUSTER_NAME ?? '';
      const { project } = request;
      const response = await runBuild({
        projectName: request.projectLogicalId,
        buildspecPath: project.buildspec,
        sourceDir: PROJECT_ROOT,
        ...(project.compute === 'lambda' ? { compute: 'lambda', sourceFolders: JOB_SOURCE_FOLDERS, sourceIncludes: inJobSource } : {}),
        environment: {
          ...project.environment,
          ...(await env.buildEnvironment(clusterName)),
          ...options.injectBuildEnvironment?.[request.stateName],
        },
        overrides: request.overrides.map((o) => ({
          Name: o.Name,
          Value: o.Value,
          Type: (o.Type ?? 'PLAINTEXT') as EnvironmentVariableType,
        })),
        onLine: (line: string) => emit({ type: 'log', state: request.stateName, at: new Date(), line }),
      });
      // After the cluster job's provision, kops's dns-controller (a stand-in here) publishes the API.
      if (project.buildspec === 'buildspecs/cluster.yml' && vars.ACTION === 'provision' && env.kind === 'emulator')
        scheduleDnsController(env, vars, options.dnsControllerDelayMs ?? 500);
      return response;
    },
  });

  // The interpreter reports a retry after its pause, without the error: keep both from the failure.
  const lastFailure = new Map<string, { error: string; at: number }>();
  for (const [state, handler] of Object.entries(handlers)) {
    handlers[state] = async (input) => {
      options.onTask?.(state, { input });
      try {
        const output = await handler(input);
        options.onTask?.(state, { output });
        return output;
      } catch (error) {
        lastFailure.set(state, { error: (error as Error).name, at: Date.now() });
        options.onTask?.(state, { error: error as Error });
        throw error;
      }
    };
  }
  // Against real AWS the cluster takes minutes: poll at the deployed interval, not the emulator's.
  const waitMs: Record<string, number> = { WaitBeforeNextCheck: options.readinessPollMs ?? (env.kind === 'aws' ? 30_000 : 1000) };

  const machine = new StateMachine(withStepFunctionsTaskTimeouts(orchestrator.asl) as never, {
    validationOptions: { checkArn: false, checkPaths: false },
  });
  const started = Date.now();
  emit({ type: 'executionStarted', execution: executionArn, at: new Date(started) });
  const run = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      waitTimeOverrides: waitMs,
      retryIntervalOverrides: options.retryIntervalOverrides ?? {},
    },
    // One token per run: its only callback task is WaitForApproval, entered at most once.
    context: { Execution: { Id: executionArn, Name: name }, Task: { Token: `local-${name}-${randomUUID()}` } },
    noThrowOnAbort: true,
  });
  const abort = () => run.abort();
  if (options.signal?.aborted) abort();
  options.signal?.addEventListener('abort', abort, { once: true });

  const timings: StateTiming[] = [];
  const entered = new Map<string, number>();
  let transitions = 0;
  let failure: { error: string; cause: string } | undefined;
  for await (const log of run.eventLogs) {
    options.onEventLog?.(log);
    const at = new Date(log.timestamp);
    switch (log.type) {
      case 'StateEntered':
        transitions += 1;
        entered.set(log.state.name, log.timestamp);
        emit({ type: 'stateEntered', state: log.state.name, at });
        if (log.state.type === 'Wait') emit({ type: 'wait', state: log.state.name, at, seconds: (waitMs[log.state.name] ?? 0) / 1000 });
        break;
      case 'StateExited': {
        const ms = log.timestamp - (entered.get(log.state.name) ?? log.timestamp);
        timings.push({ state: log.state.name, ms });
        emit({ type: 'stateExited', state: log.state.name, at, durationMs: ms });
        break;
      }
      case 'StateFailed':
        emit({ type: 'stateFailed', state: log.state.name, at, error: log.Error, cause: String(log.Cause) });
        break;
      case 'StateRetried': {
        transitions += 1;
        const retried = lastFailure.get(log.state.name);
        emit({
          type: 'retry',
          state: log.state.name,
          at,
          attempt: log.retry.attempt,
          error: retried?.error ?? 'unknown',
          delayMs: retried ? log.timestamp - retried.at : 0,
        });
        break;
      }
      case 'ExecutionFailed':
        failure = { error: log.Error, cause: String(log.Cause) };
        break;
      default:
        break;
    }
  }
  let output: unknown;
  try {
    output = await run.result;
  } catch (error) {
    const e = error as Error & { cause?: { name?: string; message?: string; cause?: unknown } };
    failure ??= { error: e.cause?.name ?? e.name, cause: String(e.cause?.cause ?? e.cause?.message ?? e.message) };
  }
  options.signal?.removeEventListener('abort', abort);
  const totalMs = Date.now() - started;
  // noThrowOnAbort: a stopped run ends without output or error; it did not succeed.
  if (options.signal?.aborted && !failure) failure = { error: 'ExecutionAborted', cause: 'the execution was stopped' };
  if (failure) {
    emit({ type: 'executionFailed', at: new Date(), error: failure.error, cause: failure.cause });
    return { status: 'FAILED', execution: executionArn, error: failure.error, cause: failure.cause, timings, totalMs, transitions, events };
  }
  emit({ type: 'executionSucceeded', at: new Date(), output });
  return { status: 'SUCCEEDED', execution: executionArn, output, timings, totalMs, transitions, events };
}

/**
 * In a real cluster kops's dns-controller replaces the placeholder API record once the control
 * plane runs. Locally its stand-in does that, a moment after the cluster job, pointing at the
 * stand-in API server on 127.0.0.1.
 */
function scheduleDnsController(env: LocalEnvironment, vars: Record<string, string>, delayMs: number): void {
  const clusterName = vars.CLUSTER_NAME;
  const domain = vars.DOMAIN;
  if (!clusterName || !domain || vars.ACTION !== 'provision') return;
  setTimeout(() => {
    void (async () => {
      const zone = await env.ensureHostedZone(domain);
      await promoteApiRecord({ hostedZoneId: zone.id, clusterName, address: '127.0.0.1' });
    })().catch((error: unknown) => process.stderr.write(`dns-controller stand-in failed: ${String(error)}\n`));
  }, delayMs).unref();
}

/**
 * What a user prepares by hand before a run, made in the emulator: the spec's public hosted zone;
 * and the API stand-in of its cluster, started before the run needs it.
 */
export async function prepareEmulatorFor(env: LocalEnvironment, spec: Record<string, unknown> | undefined): Promise<void> {
  if (env.kind !== 'emulator' || !spec || typeof spec.name !== 'string' || typeof spec.domain !== 'string') return;
  const domain = spec.domain.toLowerCase().replace(/\.$/, '');
  await env.ensureHostedZone(domain);
  await env.apiServerFor(clusterNameOf({ name: normaliseName(spec.name), domain }));
}

export interface RunLocalOptions extends ExecuteOptions {
  readonly action: LocalAction;
  readonly specPath?: string;
  readonly name?: string;
  readonly confirm?: string;
  readonly region?: string;
  /** Use an emulator that is already running instead of starting one. */
  readonly endpoint?: string;
  /** Leave the emulator running at the end (its endpoint is printed), for `down --local --endpoint`. */
  readonly keepEmulator?: boolean;
  /** Run against the caller's real AWS account with the real kops on PATH (no emulator, no stand-ins). */
  readonly aws?: boolean;
  /** With `aws`: the deployed stack whose lock table the run shares. @default FabricOrchestrator */
  readonly stack?: string;
  readonly onEvent: ProgressListener;
  /** Setup messages (emulator, stand-ins, hosted zone). */
  readonly log?: (line: string) => void;
  /** Show the functions' own JSON log lines (stderr). @default false */
  readonly verbose?: boolean;
}

/** `fabricctl up|plan|down --local`: one execution, in a local environment made for it. */
export async function runLocal(options: RunLocalOptions): Promise<LocalRunResult & { readonly endpoint: string }> {
  const spec = options.specPath ? (parseSpecJson(readFileSync(options.specPath, 'utf8')) as Record<string, unknown>) : undefined;
  const region = (typeof spec?.region === 'string' ? spec.region : undefined) ?? options.region ?? 'us-east-2';
  if (!options.verbose) process.env.FABRIC_LOG_LEVEL = 'silent';
  if (options.aws && options.endpoint)
    throw new Error('--aws and --endpoint exclude each other: one runs against your account, the other against an emulator');
  const env = options.aws
    ? await createAwsEnvironment({ region, stackName: options.stack, log: options.log })
    : await createLocalEnvironment({ endpoint: options.endpoint, region, log: options.log });
  const stopOnSignal = () => {
    void env.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    await prepareEmulatorFor(env, spec);
    const input: Record<string, unknown> = { action: options.action };
    if (spec) input.spec = spec;
    if (options.name) input.name = options.name;
    if (options.confirm !== undefined) input.confirm = options.confirm;
    if (options.region && !spec) input.region = options.region;
    const result = await executeLocal(env, input, options);
    return { ...result, endpoint: env.endpoint };
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    const keepEmulator = options.keepEmulator === true && env.moto !== undefined;
    await env.stop({ keepEmulator });
    if (keepEmulator && env.moto) {
      options.log?.(
        `emulator left running on ${env.endpoint} (pid ${env.moto.pid}); stop it with: kill ${env.moto.pid}. ` +
          'The stand-ins (Kubernetes API, public DNS) stopped with this run',
      );
    }
  }
}
