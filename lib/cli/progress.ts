import type { ProgressEvent } from '../progress-events';
import { formatDuration } from './io';
import { stateKeys } from '../../lambdas/shared/naming';

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
  /** Print build log lines. @default true */
  readonly showLogs?: boolean;
  /** After a provision, print how to reach the cluster. @default true */
  readonly nextSteps?: boolean;
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
      case 'stateFailed':
        failed.add(event.state);
        line(`  ✗ ${event.state} ${event.error}: ${readableCause(event.cause)}`);
        break;
      case 'retry':
        line(`  ↻ ${event.state} retry ${event.attempt} after ${event.error}, waiting ${formatDuration(event.delayMs)}`);
        break;
      case 'wait':
        line(`  ⏸ ${event.state} waiting ${event.seconds}s`);
        break;
      case 'log':
        if (options.showLogs !== false) line(`    │ ${event.line}`);
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
        line(`execution failed: ${event.error}: ${readableCause(event.cause)}`);
        break;
    }
  };

  const timings = () => [...totals.entries()].map(([state, ms]) => ({ state, ms }));

  const summary = (outcome: RunOutcome, totalMs?: number): void => {
    stop();
    const lines: string[] = ['', `status: ${outcome.status}`];
    if (outcome.execution) lines.push(`execution: ${outcome.execution}`);
    if (outcome.status !== 'SUCCEEDED' && outcome.error) lines.push(`error: ${outcome.error}`, `cause: ${readableCause(outcome.cause ?? '')}`);
    lines.push(...describeOutput(outcome.output));
    const total = totalMs ?? (startedAt === undefined ? undefined : now() - startedAt);
    if (total !== undefined) lines.push(`total: ${formatDuration(total)}`);
    const steps = timings();
    if (steps.length > 0) {
      const width = Math.max(...steps.map((s) => s.state.length));
      lines.push('time per step:', ...steps.map((s) => `  ${s.state.padEnd(width)}  ${formatDuration(s.ms)}`));
    }
    const next = options.nextSteps === false ? undefined : nextStep(outcome);
    if (next) lines.push(next);
    options.write(`${lines.join('\n')}\n`);
  };

  return { onEvent, timings, summary, stop };
}

/** The command that reaches a fabric a run has just made ready. */
function nextStep(outcome: RunOutcome): string | undefined {
  const record = outcome.output;
  if (outcome.status !== 'SUCCEEDED' || !isObject(record) || record.status !== 'READY' || typeof record.name !== 'string') return undefined;
  const region = isObject(record.spec) && typeof record.spec.region === 'string' ? ` --region ${record.spec.region}` : '';
  return `next: fabricctl kubeconfig ${record.name}${region} && kubectl get nodes`;
}

/** A Lambda error's cause is `{"errorType","errorMessage","trace"}` as JSON: show its message. */
function readableCause(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as unknown;
    if (isObject(parsed) && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: shown as it is
  }
  return cause;
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
    if (isObject(outputs.subnetIds)) add('subnets', Object.entries(outputs.subnetIds).map(([zone, id]) => `${zone}=${String(id)}`).join(', '));
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
    const changes = result && isObject(result.changes) ? result.changes : isObject(result?.result) && isObject((result.result as Record<string, unknown>).changes) ? ((result.result as Record<string, unknown>).changes as Record<string, unknown>) : undefined;
    if (changes) add(`${job} plan`, `${String(changes.add)} to add, ${String(changes.change)} to change, ${String(changes.destroy)} to destroy`);
  }
  return lines;
}
