import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/fabric-function';
import { localOrchestrator, runLocal, type LocalRunResult } from '../lib/local/run';
import { median } from './stats';

export const DEMO_SPEC = join(PROJECT_ROOT, 'examples', 'demo', 'fabric.json');

export interface LocalRunFigure {
  readonly status: LocalRunResult['status'];
  readonly error?: string;
  readonly cause?: string;
  /** Wall time of the whole runLocal call: emulator and stand-ins started and stopped. */
  readonly wallMs: number;
  /** The execution's own time (LocalRunResult.totalMs). */
  readonly totalMs: number;
  /** Time inside build job states (CodeBuild startBuild.sync tasks). */
  readonly buildMs: number;
  /** totalMs - buildMs: the state machine, the Lambdas, the stand-ins, the service integrations. */
  readonly overheadMs: number;
  readonly transitions: number;
  readonly readinessPolls: number;
  readonly timings: LocalRunResult['timings'];
}

/** State names whose Task runs a CodeBuild job, read from the definition (top level only: jobs are not in branches). */
export function buildJobStates(): Set<string> {
  const { asl } = localOrchestrator();
  return new Set(
    Object.entries(asl.States)
      .filter(([, s]) => typeof s.Resource === 'string' && s.Resource.startsWith('arn:aws:states:::codebuild:startBuild'))
      .map(([name]) => name),
  );
}

/** One `fabricctl up --local examples/demo/fabric.json`, in an environment made for it. */
export async function runDemoOnce(options: { dnsControllerDelayMs?: number; readinessPollMs?: number } = {}): Promise<LocalRunFigure> {
  const jobs = buildJobStates();
  const started = Date.now();
  const result = await runLocal({
    action: 'provision',
    specPath: DEMO_SPEC,
    onEvent: () => undefined,
    ...(options.dnsControllerDelayMs === undefined ? {} : { dnsControllerDelayMs: options.dnsControllerDelayMs }),
    ...(options.readinessPollMs === undefined ? {} : { readinessPollMs: options.readinessPollMs }),
  });
  const wallMs = Date.now() - started;
  const buildMs = result.timings.filter((t) => jobs.has(t.state)).reduce((acc, t) => acc + t.ms, 0);
  return {
    status: result.status,
    ...(result.error === undefined ? {} : { error: result.error }),
    ...(result.cause === undefined ? {} : { cause: result.cause }),
    wallMs,
    totalMs: result.totalMs,
    buildMs,
    overheadMs: result.totalMs - buildMs,
    transitions: result.transitions,
    readinessPolls: result.timings.filter((t) => t.state === 'CheckReadiness').length,
    timings: result.timings,
  };
}

/**
 * One demo run in a fresh `tsx bench/local-once.ts` process. `wallMs` is then the whole process:
 * tsx start, synthesis, emulator start and stop.
 */
export function runDemoInChild(options: { dnsControllerDelayMs?: number; readinessPollMs?: number } = {}): Promise<LocalRunFigure> {
  const dir = mkdtempSync(join(tmpdir(), 'fabricctl-bench-run-'));
  const resultFile = join(dir, 'result.json');
  const args = [join(PROJECT_ROOT, 'bench', 'local-once.ts'), resultFile];
  if (options.dnsControllerDelayMs !== undefined || options.readinessPollMs !== undefined) {
    args.push(String(options.dnsControllerDelayMs ?? 500), String(options.readinessPollMs ?? 1000));
  }
  const started = Date.now();
  return new Promise<LocalRunFigure>((resolve, reject) => {
    const child = spawn(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), args, {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        if (code !== 0) throw new Error(`the local run process exited ${String(code)}:\n${stderr.split('\n').slice(-20).join('\n')}`);
        const figure = JSON.parse(readFileSync(resultFile, 'utf8')) as LocalRunFigure;
        resolve({ ...figure, wallMs: Date.now() - started });
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

export interface LocalSummary {
  readonly runs: number;
  readonly succeeded: number;
  readonly medianTotalMs: number;
  readonly medianWallMs: number;
  readonly medianBuildMs: number;
  readonly medianOverheadMs: number;
  /** Per state, in the order first seen: median ms over the runs that reached it, and how many did. */
  readonly perState: readonly { readonly state: string; readonly medianMs: number; readonly runs: number; readonly entries: number }[];
}

export function summarise(runs: readonly LocalRunFigure[]): LocalSummary {
  const order: string[] = [];
  const byState = new Map<string, number[]>();
  const entries = new Map<string, number>();
  for (const run of runs) {
    const perRun = new Map<string, number>();
    const visits = new Map<string, number>();
    for (const t of run.timings) {
      if (!byState.has(t.state)) {
        byState.set(t.state, []);
        order.push(t.state);
      }
      // A state entered several times in one run (polling) counts as the sum of its visits.
      perRun.set(t.state, (perRun.get(t.state) ?? 0) + t.ms);
      visits.set(t.state, (visits.get(t.state) ?? 0) + 1);
    }
    for (const [state, msTotal] of perRun) byState.get(state)?.push(msTotal);
    for (const [state, n] of visits) entries.set(state, Math.max(entries.get(state) ?? 0, n));
  }
  return {
    runs: runs.length,
    succeeded: runs.filter((r) => r.status === 'SUCCEEDED').length,
    medianTotalMs: median(runs.map((r) => r.totalMs)),
    medianWallMs: median(runs.map((r) => r.wallMs)),
    medianBuildMs: median(runs.map((r) => r.buildMs)),
    medianOverheadMs: median(runs.map((r) => r.overheadMs)),
    perState: order.map((state) => ({
      state,
      medianMs: median(byState.get(state) ?? []),
      runs: byState.get(state)?.length ?? 0,
      entries: entries.get(state) ?? 0,
    })),
  };
}

export interface PollingFigure {
  readonly base: { readonly status: string; readonly transitions: number; readonly polls: number };
  readonly delayed: {
    readonly status: string;
    readonly transitions: number;
    readonly polls: number;
    readonly dnsControllerDelayMs: number;
    readonly readinessPollMs: number;
    readonly error?: string;
  };
  /** (delayed.transitions - base.transitions) / (delayed.polls - base.polls), when both reached readiness. */
  readonly transitionsPerExtraPoll?: number;
  readonly note?: string;
}

/** Transitions per extra readiness poll: a run where the API's real address comes late, against a normal one. */
export function pollingFigure(
  base: LocalRunFigure,
  delayed: LocalRunFigure,
  delay: { dnsControllerDelayMs: number; readinessPollMs: number },
): PollingFigure {
  const extraPolls = delayed.readinessPolls - base.readinessPolls;
  const bothReady = base.status === 'SUCCEEDED' && delayed.status === 'SUCCEEDED';
  return {
    base: { status: base.status, transitions: base.transitions, polls: base.readinessPolls },
    delayed: {
      status: delayed.status,
      transitions: delayed.transitions,
      polls: delayed.readinessPolls,
      ...delay,
      ...(delayed.error ? { error: delayed.error } : {}),
    },
    ...(bothReady && extraPolls > 0 ? { transitionsPerExtraPoll: (delayed.transitions - base.transitions) / extraPolls } : {}),
    ...(!bothReady
      ? { note: "not measured: a run did not reach readiness (see the local section's failure)" }
      : extraPolls <= 0
        ? { note: 'not measured: the delayed run did not poll more often than the normal one' }
        : {}),
  };
}
