import './quiet';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../lib/fabric-function';
import { localOrchestrator } from '../lib/local/run';
import { cloudCriticalPath, FIGURES } from './cloud-model';
import { costFigures, countsFromModel, countsFromRun } from './cost';
import {
  baselineOf,
  compareWithBaseline,
  LAMBDA_LIMITS,
  lambdaEntries,
  latestLambdaBaseline,
  machineDescription,
  measureLambdas,
  writeLambdaBaseline,
  type LambdaFigure,
} from './lambdas';
import { DEMO_SPEC, pollingFigure, runDemoInChild, summarise, type LocalRunFigure, type PollingFigure } from './local-run';
import { ms, table } from './stats';
import { measureTerraform, type TerraformFigure } from './terraform';

/**
 * `npm run bench`: local end to end, Lambdas, state transitions, the network Terraform, the cloud
 * critical path and the cost of one run. Prints tables; writes everything to bench/results/<time>.json.
 */
const SECTIONS = ['lambdas', 'terraform', 'local', 'transitions', 'critical-path', 'cost'] as const;
type Section = (typeof SECTIONS)[number];

interface Args {
  readonly runs: number;
  /** Whether --runs was given: the Lambdas section takes 5 loads otherwise. */
  readonly runsGiven: boolean;
  /** --write-baseline: store this run's Lambda figures as bench/baselines/lambdas-<date>.json. */
  readonly writeBaseline: boolean;
  readonly only: ReadonlySet<Section>;
  readonly budgetMs: number;
}

function parseArgs(argv: readonly string[]): Args {
  let runs = 3;
  let runsGiven = false;
  let writeBaseline = false;
  const only = new Set<Section>();
  let budgetMinutes = 9.5;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--runs' && value !== undefined) {
      runs = Number(value);
      if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number of at least 1; got ${value}`);
      runsGiven = true;
      i += 1;
    } else if (arg === '--write-baseline') {
      writeBaseline = true;
    } else if (arg === '--only' && value !== undefined) {
      for (const s of value.split(',')) {
        if (!(SECTIONS as readonly string[]).includes(s))
          throw new Error(`--only takes one or more of ${SECTIONS.join(', ')} (comma-separated); got ${s}`);
        only.add(s as Section);
      }
      i += 1;
    } else if (arg === '--budget-minutes' && value !== undefined) {
      budgetMinutes = Number(value);
      if (!(budgetMinutes > 0)) throw new Error(`--budget-minutes must be positive; got ${value}`);
      i += 1;
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(
        `usage: npm run bench -- [--runs N] [--only ${SECTIONS.join('|')}[,...]] [--budget-minutes M] [--write-baseline]\n`,
      );
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${String(arg)}; see --help`);
    }
  }
  return { runs, runsGiven, writeBaseline, only: only.size ? only : new Set(SECTIONS), budgetMs: budgetMinutes * 60_000 };
}

const out = (line = '') => process.stdout.write(`${line}\n`);
const heading = (title: string) => out(`\n== ${title} ${'='.repeat(Math.max(0, 96 - title.length))}`);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const deadline = started + args.budgetMs;
  const wants = (s: Section) => args.only.has(s);
  const results: Record<string, unknown> = {};
  out(
    `fabricctl benchmark: ${new Date(started).toISOString()}, node ${process.version}, ${cpus().length} CPUs, ` +
      `--runs ${args.runs}, sections: ${[...args.only].join(', ')}`,
  );
  out(
    `time budget ${(args.budgetMs / 60_000).toFixed(1)} min: ` +
      'repeated runs stop early when the next one would not fit (the run count used is printed)',
  );

  // Synthesizing the stack takes seconds: once, for every section that reads the definition.
  const needsDefinition = wants('local') || wants('transitions') || wants('critical-path') || wants('cost') || wants('lambdas');
  const orchestrator = needsDefinition ? localOrchestrator() : undefined;

  // 2. Lambdas
  let lambdas: LambdaFigure[] | undefined;
  if (wants('lambdas')) {
    heading('Lambdas: esbuild bundle (as lib/fabric-function.ts: minify, cjs, node24, source map) and module load in a fresh node');
    const environments: Record<string, Record<string, string>> = {};
    for (const f of Object.values(orchestrator?.functions ?? {})) environments[f.entry] = { ...f.environment };
    const loads = args.runsGiven ? args.runs : 5;
    const machine = machineDescription();
    const previous = latestLambdaBaseline();
    lambdas = await measureLambdas({ runs: loads, environments });
    const compared = compareWithBaseline(lambdas, previous?.baseline);
    out(
      table(
        [
          'function',
          'KiB baseline',
          'KiB now',
          'load ms baseline',
          'load ms now',
          'of which SDK',
          'own ms baseline',
          'own ms now',
          'KiB, SDK bundled',
          'load ms',
          `limits: ${LAMBDA_LIMITS.kib} KiB, ${LAMBDA_LIMITS.loadMs} ms`,
        ],
        lambdas.map((l, i) => [
          l.entry,
          compared[i]?.baselineKib ?? Number.NaN,
          l.sdkExternal.bytes / 1024,
          compared[i]?.baselineLoadMs ?? Number.NaN,
          l.sdkExternal.loadMsMedian ?? Number.NaN,
          l.sdkExternal.sdkMsMedian ?? Number.NaN,
          previous?.baseline.functions[l.entry]?.ownMsMedian ?? Number.NaN,
          l.sdkExternal.ownMsMedian ?? Number.NaN,
          l.sdkBundled.bytes / 1024,
          l.sdkBundled.loadMsMedian ?? Number.NaN,
          [...(compared[i]?.flags ?? []), ...(l.sdkBundled.error ? [`SDK bundled: ${l.sdkBundled.error}`] : [])].join('; ') || 'ok',
        ]),
      ),
    );
    out(
      `${lambdaEntries().length} handlers; KiB and load ms as deployed (AWS SDK external) unless the column says SDK bundled; ` +
        `load ms = median of ${loads} require() of the bundle timed with process.hrtime inside a fresh node (process start not counted); ` +
        "the external SDK loads from node_modules; 'of which SDK' = median time of each load spent requiring the @aws-sdk packages " +
        "the bundle imports, required first (the runtime's share, which no bundle change removes); " +
        "own ms = median of load less SDK, the bundle's own code; bytes in the JSON",
    );
    out(`this machine: ${machine}`);
    out(
      previous
        ? `baseline: ${relative(PROJECT_ROOT, previous.file)}, measured ${previous.baseline.measuredAt} ` +
            `on ${previous.baseline.machine}, median of ${previous.baseline.runs}`
        : 'baseline: none in bench/baselines/ (--write-baseline stores one)',
    );
    const over = compared.filter((c) => c.flags.length > 0);
    out(
      over.length
        ? `OVER A LIMIT: ${over.map((c) => `${c.entry} (${c.flags.join(', ')})`).join('; ')}`
        : `every function within ${LAMBDA_LIMITS.kib} KiB and ${LAMBDA_LIMITS.loadMs} ms`,
    );
    if (args.writeBaseline) {
      const commit = gitCommit();
      const file = writeLambdaBaseline(baselineOf(lambdas, { measuredAt: new Date(started).toISOString(), machine, commit, runs: loads }));
      out(`baseline written: ${relative(PROJECT_ROOT, file)}`);
    }
    results.lambdas = lambdas;
  }

  // 1. Local end to end
  const localRuns: LocalRunFigure[] = [];
  if (wants('local')) {
    heading('Local end to end: fabricctl up --local examples/demo/fabric.json (fresh emulator and stand-ins each run)');
    // Leave room for the polling run and one Terraform run.
    const reserve = (wants('transitions') ? 120_000 : 0) + (wants('terraform') ? 65_000 : 0);
    for (let i = 0; i < args.runs; i += 1) {
      const last = localRuns[localRuns.length - 1];
      if (last && Date.now() + last.wallMs * 1.2 + reserve > deadline) {
        out(`stopping after ${localRuns.length} run(s): another would pass the time budget`);
        break;
      }
      const run = await runDemoInChild();
      localRuns.push(run);
      out(
        `run ${i + 1}: ${run.status} in ${ms(run.totalMs)} (wall ${ms(run.wallMs)}), ` +
          `${run.transitions} transitions${run.error ? `; ${run.error}` : ''}`,
      );
    }
    const summary = summarise(localRuns);
    const failed = localRuns.find((r) => r.status !== 'SUCCEEDED');
    if (failed) {
      out('');
      out(`RUN FAILED (shown, not hidden): ${failed.error ?? '?'}`);
      out(`  cause: ${(failed.cause ?? '').split('\n').slice(0, 6).join('\n  ')}`);
    }
    out('');
    out(
      table(
        ['state', 'median ms', 'runs', 'entries/run'],
        summary.perState.map((s) => [s.state, s.medianMs, s.runs, s.entries]),
      ),
    );
    out('');
    out(
      table(
        ['figure', `median of N = ${summary.runs} (${summary.succeeded} succeeded)`],
        [
          ['execution total', ms(summary.medianTotalMs)],
          ["wall of the run's process (tsx, synthesis, emulator start/stop)", ms(summary.medianWallMs)],
          ['inside build jobs (NetworkJob, ClusterJob)', ms(summary.medianBuildMs)],
          ['orchestration overhead = total - build jobs', ms(summary.medianOverheadMs)],
        ],
      ),
    );
    results.local = { summary, runs: localRuns };
  }

  // 3. Transitions
  let polling: PollingFigure | undefined;
  if (wants('transitions')) {
    heading('State transitions (counted from the execution events): one run, and one that waits more polls for readiness');
    const base = localRuns[0] ?? (await runDemoInChild());
    if (!localRuns.length) localRuns.push(base);
    const delay = { dnsControllerDelayMs: 3000, readinessPollMs: 250 };
    if (base.status !== 'SUCCEEDED') {
      polling = pollingFigure(base, base, delay);
      out(
        `one provisioning run: ${base.transitions} transitions (${base.status}: ${base.error ?? ''}); ` +
          'readiness was not reached, so the polling run was not made',
      );
    } else {
      const delayed = await runDemoInChild(delay);
      polling = pollingFigure(base, delayed, delay);
      out(
        table(
          ['run', 'status', 'transitions', 'readiness polls'],
          [
            [
              'provisioning run (dns-controller stand-in after 500 ms, polls 1 s apart)',
              base.status,
              base.transitions,
              base.readinessPolls,
            ],
            [
              `delayed: dns-controller after ${delay.dnsControllerDelayMs} ms, polls ${delay.readinessPollMs} ms apart`,
              delayed.status,
              delayed.transitions,
              delayed.readinessPolls,
            ],
          ],
        ),
      );
    }
    out(
      polling.transitionsPerExtraPoll === undefined
        ? (polling.note ?? '')
        : `transitions per extra poll: ${polling.transitionsPerExtraPoll.toFixed(2)} (measured)`,
    );
    results.transitions = polling;
  }

  // 4. Terraform
  let terraform: TerraformFigure | undefined;
  if (wants('terraform')) {
    heading('Network Terraform against the emulator (moto): the fabric network vs a plain reference of the same shape');
    // Runs after the local sections, in the time left (each run applies both configurations, about a minute).
    const runs = Math.max(1, Math.min(args.runs, Math.floor((deadline - Date.now()) / 65_000)));
    try {
      terraform = await measureTerraform({ runs });
      if (terraform.skipped) out(`SKIPPED: ${terraform.skipped}`);
      else {
        out(
          table(
            ['configuration', 'resources', 'init s', 'apply s (median)', 'apply ms/resource', 'runs'],
            terraform.configs.map((c) => [
              c.name,
              c.resources,
              c.medianInitMs / 1000,
              c.medianApplyMs / 1000,
              c.msPerResource,
              c.runs.length,
            ]),
          ),
        );
        out(
          `terraform ${terraform.terraformVersion ?? '?'}, provider from the local mirror, ` +
            `emulator overrides from buildspecs/scripts/lib.sh; runs interleaved; N = ${runs}`,
        );
      }
      results.terraform = terraform;
    } catch (error) {
      out(`FAILED: ${(error as Error).message}`);
      results.terraform = { error: (error as Error).message };
    }
  }

  // 5. Critical path
  let model: ReturnType<typeof cloudCriticalPath> | undefined;
  if (wants('critical-path') && orchestrator) {
    heading('Cloud critical path, push to ready: the provision path of the real definition, published figures per external step');
    const networkResources = terraform?.configs[0]?.resources;
    model = cloudCriticalPath({ orchestrator, ...(networkResources ? { networkResources } : {}) });
    out(
      table(
        ['state', 'type', 'seconds', 'what'],
        model.steps.map((s) => [`${s.state}${s.inLoop ? ' (loop, once)' : ''}`, s.type, s.seconds, s.what]),
      ),
    );
    out(`TOTAL push to ready: ${model.totalSeconds.toFixed(0)} s = ${(model.totalSeconds / 60).toFixed(1)} min`);
    const cold = cloudCriticalPath({ orchestrator, toolsCache: 'cold', ...(networkResources ? { networkResources } : {}) });
    out(
      `  (the first fabric in an account and Region, whose jobs download the tools from their release pages and fill ` +
        `the tools cache: at most ${cold.totalSeconds.toFixed(0)} s = ${(cold.totalSeconds / 60).toFixed(1)} min)`,
    );
    out('');
    out('per step, each figure with its source (ESTIMATE where no published figure was found):');
    for (const s of model.steps) {
      if (s.seconds === 0) continue;
      // Figures with tenths (1.6 s) add up to binary fractions: one decimal is what they carry.
      out(`${s.state}: ${Number(s.seconds.toFixed(1))} s`);
      for (const p of s.parts ?? [
        { seconds: s.seconds, what: s.what, source: s.source, ...(s.estimate ? { estimate: s.estimate } : {}) },
      ]) {
        out(`  ${String(p.seconds).padStart(4)} s  ${p.what}`);
        out(`          source: ${p.source}${p.estimate ? `\n          ESTIMATE: ${p.estimate}` : ''}`);
      }
    }
    results.criticalPath = model;
  }

  // 6. Cost
  if (wants('cost') && orchestrator) {
    heading('Cost: the fabric a month (lib/cost, costReport) and one provisioning run of the orchestrator');
    const measuredRun = localRuns.find((r) => r.status === 'SUCCEEDED') ?? localRuns[0];
    const measuredCounts = measuredRun ? countsFromRun(orchestrator, measuredRun) : undefined;
    const report = costFigures(DEMO_SPEC, measuredCounts);
    out(report.text);
    if (measuredRun) out(`(run counts measured from local run 1, ${measuredRun.status}: ${JSON.stringify(measuredCounts)})`);
    else out('(no local run in this invocation: the per-run cost needs the local section)');
    let cloud: { counts: ReturnType<typeof countsFromModel>; text: string } | undefined;
    if (model) {
      const readiness = model.steps.find((s) => s.state === 'CheckReadiness');
      const waitSeconds = Number((orchestrator.asl.States.WaitBeforeNextCheck as { Seconds?: number } | undefined)?.Seconds ?? 30);
      const counts = countsFromModel(
        orchestrator,
        model,
        polling?.transitionsPerExtraPoll === undefined ? {} : { transitionsPerPoll: polling.transitionsPerExtraPoll },
        { seconds: readiness?.seconds ?? 0, pollSeconds: waitSeconds, lambdaWorkSeconds: FIGURES.lambdaWork.seconds },
      );
      const { cloudPolls, transitionsOnePoll, transitionsPerPoll, ...runCounts } = counts;
      const text = costFigures(DEMO_SPEC, runCounts).text.split('\n\n').pop() ?? '';
      out('');
      const perPollOrigin =
        polling?.transitionsPerExtraPoll === undefined ? 'from the definition: not measured in this invocation' : 'measured';
      out(
        `The same run in the cloud, from the critical-path model: ${cloudPolls} readiness polls ${waitSeconds} s apart; ` +
          `transitions = ${transitionsOnePoll} (the walked path, branches included) + ${cloudPolls - 1} x ${transitionsPerPoll} ` +
          `per extra poll (${perPollOrigin}); build minutes from the modelled job times:`,
      );
      out(text);
      cloud = { counts, text };
    }
    results.cost = { fabric: report.report, measuredRunCounts: measuredCounts, cloudModelRun: cloud };
  }

  const file = writeResults(results, args, started);
  heading('Done');
  out(`${((Date.now() - started) / 1000).toFixed(0)} s in all; JSON: ${relative(PROJECT_ROOT, file)}`);
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function writeResults(results: Record<string, unknown>, args: Args, started: number): string {
  const commit = gitCommit();
  const dir = join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date(started).toISOString().replace(/[:.]/g, '-')}.json`);
  const doc = {
    startedAt: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    node: process.version,
    cpus: cpus().length,
    commit,
    args: { runs: args.runs, only: [...args.only], budgetMinutes: args.budgetMs / 60_000 },
    ...results,
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  return file;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
