import type { ProgressEvent } from '../progress-events';
import { formatDuration } from './io';
import { stateKeys } from '../domain/naming';
import { buildHeadline, buildLogLocation, parseBuildCause } from '../domain/build-cause';

/**
 * The one progress display, for local runs and for executions watched in the cloud:
 * one line per state entered and per state left (with its duration), retries, waits, failures and
 * build log lines as they come; on a terminal a spinner line shows the states still running.
 * Then `summary()` prints the outcome and the time per step.
 */
export interface RendererOptions {
  readonly write: (text: string) => void;
  readonly isTTY: boolean;
  /** Show the spinner only for states running longer than this. @default 2000 */
  readonly spinnerAfterMs?: number;
  readonly now?: () => number;
  /**
   * Build log lines: `true` every line as it comes (`--verbose`), `false` none, `'onFailure'` only
   * when a build fails: its last `failedBuildTail` lines, then the rest as it comes.
   * @default 'onFailure'
   */
  readonly showLogs?: boolean | 'onFailure';
  /** Lines of a failed build's log shown when its state fails. @default 30 */
  readonly failedBuildTail?: number;
  /** What ran: the summary ends with the command to run next (see nextCommand). */
  readonly run?: RunContext;
  /** `false`: the summary offers no next command. @default true */
  readonly nextSteps?: boolean;
}

/** The run a summary is about, as the user started it. */
export interface RunContext {
  readonly action: 'provision' | 'plan' | 'destroy';
  /** The fabric's (normalised) name. */
  readonly name: string;
  /** The spec file as given on the command line (up, plan). */
  readonly spec?: string;
  /** The region the fabric's record is in. */
  readonly region?: string;
  /** A local run (`--local`): its emulator and stand-ins end with it. */
  readonly local?: boolean;
  /** The run already printed every build line. */
  readonly verbose?: boolean;
}

export interface RunOutcome {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'RUNNING' | 'ABORTED' | 'TIMED_OUT';
  readonly execution?: string;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

export interface Renderer {
  readonly onEvent: (event: ProgressEvent) => void;
  /** Per-state total time, in the order states first ran. */
  readonly timings: () => { state: string; ms: number }[];
  readonly summary: (outcome: RunOutcome, totalMs?: number) => void;
  /** Clears the spinner and its timer (also on Ctrl-C). */
  readonly stop: () => void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createRenderer(options: RendererOptions): Renderer {
  const now = options.now ?? (() => Date.now());
  const spinnerAfter = options.spinnerAfterMs ?? 2000;
  const active = new Map<string, number>();
  const failed = new Set<string>();
  const logMode = options.showLogs ?? 'onFailure';
  const tailSize = options.failedBuildTail ?? 30;
  // Hidden build lines, the last `tailSize` of each state, for when that state fails.
  const hidden = new Map<string, string[]>();
  // States whose build failed: their later lines are shown as they come.
  const revealed = new Set<string>();
  const totals = new Map<string, number>();
  let startedAt: number | undefined;
  let frame = 0;
  let spinnerShown = false;
  let timer: NodeJS.Timeout | undefined;

  const clearSpinner = () => {
    if (spinnerShown) options.write('\r\x1b[2K');
    spinnerShown = false;
  };
  const drawSpinner = () => {
    if (!options.isTTY) return;
    const t = now();
    const long = [...active.entries()].filter(([, since]) => t - since >= spinnerAfter);
    clearSpinner();
    if (long.length === 0) return;
    frame = (frame + 1) % FRAMES.length;
    const text = long.map(([state, since]) => `${state} ${formatDuration(t - since)}`).join(', ');
    options.write(`${FRAMES[frame]} ${text}`);
    spinnerShown = true;
  };
  const line = (text: string) => {
    clearSpinner();
    options.write(`${text}\n`);
    drawSpinner();
  };
  const ensureTimer = () => {
    if (!options.isTTY || timer) return;
    timer = setInterval(drawSpinner, 100);
    timer.unref();
  };
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    clearSpinner();
  };

  const onEvent = (event: ProgressEvent): void => {
    switch (event.type) {
      case 'executionStarted':
        startedAt = event.at.getTime();
        line(`execution ${event.execution}`);
        break;
      case 'stateEntered':
        active.set(event.state, now());
        line(`  ▸ ${event.state}`);
        ensureTimer();
        break;
      case 'stateExited':
        active.delete(event.state);
        totals.set(event.state, (totals.get(event.state) ?? 0) + event.durationMs);
        // A state whose error was caught still exits: mark it failed, not done.
        line(`  ${failed.delete(event.state) ? '✗' : '✓'} ${event.state} ${formatDuration(event.durationMs)}`);
        break;
      case 'stateFailed': {
        failed.add(event.state);
        line(`  ✗ ${event.state} ${event.error}: ${indented(readableCause(event.cause))}`);
        const tail = hidden.get(event.state) ?? [];
        hidden.delete(event.state);
        if (logMode === 'onFailure') {
          revealed.add(event.state);
          if (tail.length > 0) {
            line(`    last ${tail.length} line(s) of ${event.state}'s build log (--verbose shows every line):`);
            for (const l of tail) line(`    │ ${l}`);
          }
        }
        break;
      }
      case 'retry':
        line(`  ↻ ${event.state} retry ${event.attempt} after ${event.error}, waiting ${formatDuration(event.delayMs)}`);
        break;
      case 'wait':
        line(`  ⏸ ${event.state} waiting ${event.seconds}s`);
        break;
      case 'log':
        if (logMode === true || revealed.has(event.state)) {
          line(`    │ ${event.line}`);
        } else if (logMode === 'onFailure') {
          const kept = hidden.get(event.state) ?? [];
          kept.push(event.line);
          if (kept.length > tailSize) kept.shift();
          hidden.set(event.state, kept);
        }
        break;
      case 'awaitingApproval':
        line(`  ⏸ ${event.state}: fabric ${event.name} waits for approval until ${event.expiresAt}`);
        for (const planLine of event.plan) line(`    ${planLine}`);
        break;
      case 'executionSucceeded':
        stop();
        line('execution succeeded');
        break;
      case 'executionFailed':
        stop();
        // The summary prints the whole cause; one line is enough here.
        line(`execution failed: ${event.error}: ${readableCause(event.cause).split('\n')[0] ?? ''}`);
        break;
    }
  };

  const timings = () => [...totals.entries()].map(([state, ms]) => ({ state, ms }));

  const summary = (outcome: RunOutcome, totalMs?: number): void => {
    stop();
    const lines: string[] = ['', `status: ${outcome.status}`];
    if (outcome.execution) lines.push(`execution: ${outcome.execution}`);
    if (outcome.status !== 'SUCCEEDED' && outcome.error)
      lines.push(`error: ${outcome.error}`, `cause: ${readableCause(outcome.cause ?? '')}`);
    lines.push(...describeOutput(outcome.output));
    const total = totalMs ?? (startedAt === undefined ? undefined : now() - startedAt);
    if (total !== undefined) lines.push(`total: ${formatDuration(total)}`);
    const steps = timings();
    if (steps.length > 0) {
      const width = Math.max(...steps.map((s) => s.state.length));
      lines.push('time per step:', ...steps.map((s) => `  ${s.state.padEnd(width)}  ${formatDuration(s.ms)}`));
    }
    const next = options.nextSteps === false ? undefined : nextCommand(outcome, options.run);
    if (next) lines.push(`next: ${next}`);
    options.write(`${lines.join('\n')}\n`);
  };

  return { onEvent, timings, summary, stop };
}

/**
 * The one place a run's summary gets its last line from: the command to run next.
 * - a provision that made the fabric READY: reach its cluster (not after a local run, whose API
 *   stand-in ends with it and whose kops stand-in keeps no CA for `kubeconfig` to read);
 * - a plan: apply it with `up`;
 * - a destroy: `list` (nothing after a local one: its emulator is gone);
 * - a failure: `logs` of the fabric; locally, the same command again with `--verbose`.
 */
export function nextCommand(outcome: RunOutcome, run?: RunContext): string | undefined {
  const record = isObject(outcome.output) ? outcome.output : undefined;
  const local = run?.local === true;
  const localFlag = local ? ' --local' : '';
  if (outcome.status === 'SUCCEEDED') {
    if (record?.status === 'READY' && typeof record.name === 'string') {
      if (local) return undefined;
      const regionName = isObject(record.spec) && typeof record.spec.region === 'string' ? record.spec.region : run?.region;
      return `fabricctl kubeconfig ${record.name}${regionName ? ` --region ${regionName}` : ''} && kubectl get nodes`;
    }
    if (run?.action === 'plan' && run.spec !== undefined) return `fabricctl up ${run.spec}${localFlag}`;
    if (run?.action === 'destroy' && !local) return `fabricctl list${run.region ? ` --region ${run.region}` : ''}`;
    return undefined;
  }
  if (outcome.status === 'RUNNING' || run === undefined) return undefined;
  if (!local) return `fabricctl logs ${run.name}${run.region ? ` --region ${run.region}` : ''}`;
  if (run.verbose) return undefined;
  const again =
    run.action === 'destroy' ? `down ${run.name} --confirm ${run.name}` : `${run.action === 'plan' ? 'plan' : 'up'} ${run.spec ?? ''}`;
  return `fabricctl ${again} --local --verbose    # every build line`;
}

/**
 * A cause as a person reads it: a Lambda error's `{"errorType","errorMessage","trace"}` JSON gives
 * its message; a failed build's JSON (Step Functions' cause of a `startBuild.sync` task) gives
 * which job failed, where and in which build, as ExplainFailure's first lines say it, never the JSON.
 */
export function readableCause(cause: string): string {
  const build = parseBuildCause(cause);
  if (build !== undefined) return `${buildHeadline(build, undefined)}\n${buildLogLocation(build)}`;
  try {
    const parsed = JSON.parse(cause) as unknown;
    if (isObject(parsed) && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: shown as it is
  }
  return cause;
}

/** Continuation lines of a multi-line text, indented under the line it starts on. */
function indented(text: string): string {
  return text.split('\n').join('\n    ');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The facts a user looks for after a run, from a fabric record (provision, destroy) or a plan's state. */
export function describeOutput(output: unknown): string[] {
  if (!isObject(output)) return [];
  const lines: string[] = [];
  const add = (label: string, value: unknown) => {
    if (value === undefined || value === null || value === '') return;
    lines.push(`${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  };
  const outputs = isObject(output.outputs) ? output.outputs : undefined;
  if (typeof output.status === 'string' && outputs) {
    add('fabric', output.name);
    add('record status', output.status);
    add('cluster', output.clusterName);
    add('zones', Array.isArray(output.zones) ? output.zones.join(', ') : undefined);
    add('vpc', outputs.vpcId);
    if (isObject(outputs.subnetIds))
      add(
        'subnets',
        Object.entries(outputs.subnetIds)
          .map(([zone, id]) => `${zone}=${String(id)}`)
          .join(', '),
      );
    add('api', outputs.apiName);
    add('state bucket', outputs.stateBucket);
    if (typeof output.name === 'string') {
      add('record', `s3://${String(outputs.stateBucket)}/${stateKeys.record(output.name)}`);
      add('state keys', [stateKeys.network(output.name), stateKeys.cluster(output.name), `${stateKeys.kops(output.name)}/`].join(', '));
    }
    add('kubeconfig secret', outputs.kubeconfigSecretArn);
    return lines;
  }
  const fabric = isObject(output.fabric) ? output.fabric : undefined;
  if (fabric) {
    add('fabric', fabric.name);
    add('cluster', fabric.clusterName);
    add('state bucket', fabric.stateBucket);
  }
  for (const job of ['network', 'cluster'] as const) {
    const result = isObject(output[job]) ? (output[job] as Record<string, unknown>) : undefined;
    const changes =
      result && isObject(result.changes)
        ? result.changes
        : isObject(result?.result) && isObject((result.result as Record<string, unknown>).changes)
          ? ((result.result as Record<string, unknown>).changes as Record<string, unknown>)
          : undefined;
    if (changes)
      add(`${job} plan`, `${String(changes.add)} to add, ${String(changes.change)} to change, ${String(changes.destroy)} to destroy`);
  }
  return lines;
}
