import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { PROJECT_ROOT } from '../lib/fabric-function';
import { median } from './stats';

export interface BundleFigure {
  readonly bytes: number;
  readonly loadMsMedian?: number;
  readonly loadMsRuns: readonly number[];
  /** SDK external only: the AWS SDK packages the bundle requires, and the median part of each load spent requiring them. */
  readonly sdkPackages?: readonly string[];
  readonly sdkMsMedian?: number;
  /** Median of each load less its SDK part: the bundle's own code. */
  readonly ownMsMedian?: number;
  readonly error?: string;
}

export interface LambdaFigure {
  readonly entry: string;
  /** As lib/fabric-function.ts deploys it: AWS SDK external, provided by the runtime (loaded here from node_modules). */
  readonly sdkExternal: BundleFigure;
  /** The same with the AWS SDK bundled in, from its ES module builds so that esbuild can tree-shake it. */
  readonly sdkBundled: BundleFigure;
}

/** Folders under lambdas/ that have a handler.ts. */
export function lambdaEntries(): string[] {
  const dir = join(PROJECT_ROOT, 'lambdas');
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'handler.ts')))
    .sort();
}

/** Placeholder values for the variables a handler requires at load and the template does not set. */
export function requiredEnvPlaceholders(entry: string): Record<string, string> {
  const source = readFileSync(join(PROJECT_ROOT, 'lambdas', entry, 'handler.ts'), 'utf8');
  const names = [...source.matchAll(/requiredEnv\('([A-Z0-9_]+)'\)/g)].map((m) => m[1] ?? '');
  return Object.fromEntries(names.map((n) => [n, placeholder(n)]));
}

// Handlers check ARNs at load (ensure-state-bucket refuses a principal list that is not ARNs).
function placeholder(name: string): string {
  if (name.endsWith('_ARNS')) return 'arn:aws:iam::123456789012:role/bench';
  if (name.endsWith('_ARN')) return `arn:aws:secretsmanager:us-east-2:123456789012:secret:bench-${name.toLowerCase()}`;
  return 'bench';
}

// Measured inside the child so process start-up is not counted, only loading the bundle. The AWS
// SDK packages it requires (argv after the bundle) are required first, timed apart: that share is
// the runtime's, which no change to the bundle removes. Prints "<total ms> <SDK ms>".
const LOAD_SCRIPT =
  'const h=()=>process.hrtime.bigint();const t0=h();for(const p of process.argv.slice(2))require(p);const t1=h();' +
  'require(process.argv[1]);const t2=h();process.stdout.write(`${Number(t2-t0)/1e6} ${Number(t1-t0)/1e6}`)';

function timedLoad(outfile: string, sdkPackages: readonly string[], env: NodeJS.ProcessEnv): { totalMs: number; sdkMs: number } | string {
  const child = spawnSync(process.execPath, ['-e', LOAD_SCRIPT, outfile, ...sdkPackages], { env, encoding: 'utf8', timeout: 30_000 });
  const [totalMs, sdkMs] = child.stdout.split(' ').map(Number);
  if (child.status !== 0 || totalMs === undefined || sdkMs === undefined || !Number.isFinite(totalMs) || !Number.isFinite(sdkMs)) {
    return (child.stderr || child.stdout || `exit ${String(child.status)}`).split('\n').find((l) => l.trim()) ?? '';
  }
  return { totalMs, sdkMs };
}

/** esbuild options as lib/fabric-function.ts has CDK bundle a handler; `bundled` puts the AWS SDK in too. */
export function bundleOptions(entry: string, outfile: string, sdk: 'external' | 'bundled'): BuildOptions {
  return {
    entryPoints: [join(PROJECT_ROOT, 'lambdas', entry, 'handler.ts')],
    outfile,
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'cjs',
    target: 'node24',
    platform: 'node',
    logLevel: 'silent',
    // What NodejsFunction does with bundleAwsSDK: false. Bundled, the SDK's ES module builds come
    // first (NodejsFunction's mainFields), which esbuild tree-shakes: with its default CommonJS
    // entries discover-zones came to 1641 KiB loading in 191 ms, with these 978 KiB in 91 ms.
    ...(sdk === 'external' ? { external: ['@aws-sdk/*'] } : { mainFields: ['module', 'main'] }),
    metafile: true,
  };
}

async function bundleAndLoad(
  entry: string,
  outDir: string,
  sdk: 'external' | 'bundled',
  runs: number,
  env: NodeJS.ProcessEnv,
): Promise<BundleFigure> {
  const outfile = join(outDir, `${entry}-${sdk}`, 'index.js');
  let sdkPackages: string[] = [];
  try {
    const result = await build(bundleOptions(entry, outfile, sdk));
    const imports = Object.values(result.metafile?.outputs ?? {}).flatMap((o) => o.imports);
    sdkPackages = [...new Set(imports.filter((i) => i.external && i.path.startsWith('@aws-sdk/')).map((i) => i.path))].sort();
  } catch (error) {
    return { bytes: 0, loadMsRuns: [], error: `esbuild: ${(error as Error).message.split('\n')[0] ?? ''}` };
  }
  const bytes = statSync(outfile).size;
  const loadMsRuns: number[] = [];
  const sdkRuns: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const loaded = timedLoad(outfile, sdkPackages, env);
    if (typeof loaded === 'string') return { bytes, loadMsRuns, error: `load failed: ${loaded}` };
    loadMsRuns.push(loaded.totalMs);
    sdkRuns.push(loaded.sdkMs);
  }
  return {
    bytes,
    loadMsRuns,
    ...(loadMsRuns.length ? { loadMsMedian: median(loadMsRuns) } : {}),
    ...(sdk === 'external' && sdkRuns.length
      ? { sdkPackages, sdkMsMedian: median(sdkRuns), ownMsMedian: median(loadMsRuns.map((total, i) => total - (sdkRuns[i] ?? 0))) }
      : {}),
  };
}

/**
 * Bundles each handler as lib/fabric-function.ts has CDK bundle it (esbuild: bundle, minify, CJS,
 * target node24, platform node, source map, AWS SDK external as the runtime provides it), and once
 * more with the SDK bundled; then loads each bundle in fresh `node` processes with the function's
 * environment from the template. The external SDK resolves from this repository's node_modules
 * (NODE_PATH), as the runtime resolves its own copy.
 */
export async function measureLambdas(options: {
  runs: number;
  environments: Readonly<Record<string, Readonly<Record<string, string>>>>;
}): Promise<LambdaFigure[]> {
  const out = mkdtempSync(join(tmpdir(), 'fabricctl-bench-lambdas-'));
  const figures: LambdaFigure[] = [];
  try {
    for (const entry of lambdaEntries()) {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH ?? '',
        NODE_PATH: join(PROJECT_ROOT, 'node_modules'),
        AWS_REGION: 'us-east-2',
        AWS_DEFAULT_REGION: 'us-east-2',
        ...requiredEnvPlaceholders(entry),
        ...(options.environments[entry] ?? {}),
      };
      figures.push({
        entry,
        sdkExternal: await bundleAndLoad(entry, out, 'external', options.runs, env),
        sdkBundled: await bundleAndLoad(entry, out, 'bundled', options.runs, env),
      });
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  return figures;
}

/** What the issue "Faster to ready, lighter functions" asks of every deployed bundle. */
export const LAMBDA_LIMITS = { kib: 150, loadMs: 100 } as const;

/** Deployed (SDK external) figures measured once, kept in bench/baselines/ to compare later runs with. */
export interface LambdaBaseline {
  readonly measuredAt: string;
  /** Where: CPU count and model, node version, load average (the load times depend on it). */
  readonly machine: string;
  readonly commit: string;
  readonly runs: number;
  readonly note?: string;
  readonly functions: Readonly<
    Record<
      string,
      {
        readonly kib: number;
        readonly loadMsMedian?: number;
        readonly loadMsRuns: readonly number[];
        readonly sdkMsMedian?: number;
        readonly ownMsMedian?: number;
      }
    >
  >;
}

export const BASELINE_DIR = join(PROJECT_ROOT, 'bench', 'baselines');

/** The newest bench/baselines/lambdas-<date>.json (names sort by date), or undefined when there is none. */
export function latestLambdaBaseline(dir: string = BASELINE_DIR): { file: string; baseline: LambdaBaseline } | undefined {
  if (!existsSync(dir)) return undefined;
  const name = readdirSync(dir)
    .filter((f) => /^lambdas-.*\.json$/.test(f))
    .sort()
    .pop();
  if (name === undefined) return undefined;
  const file = join(dir, name);
  return { file, baseline: JSON.parse(readFileSync(file, 'utf8')) as LambdaBaseline };
}

export function machineDescription(): string {
  const [one, five] = loadavg();
  return (
    `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, node ${process.version}, ` +
    `load average ${one?.toFixed(2) ?? '?'} (1 min) ${five?.toFixed(2) ?? '?'} (5 min) at the start`
  );
}

export function baselineOf(
  figures: readonly LambdaFigure[],
  meta: { measuredAt: string; machine: string; commit: string; runs: number; note?: string },
): LambdaBaseline {
  return {
    ...meta,
    functions: Object.fromEntries(
      figures.map((f) => [
        f.entry,
        {
          kib: Math.round((f.sdkExternal.bytes / 1024) * 10) / 10,
          ...(f.sdkExternal.loadMsMedian === undefined ? {} : { loadMsMedian: Math.round(f.sdkExternal.loadMsMedian * 10) / 10 }),
          loadMsRuns: f.sdkExternal.loadMsRuns.map((v) => Math.round(v * 10) / 10),
          ...(f.sdkExternal.sdkMsMedian === undefined ? {} : { sdkMsMedian: Math.round(f.sdkExternal.sdkMsMedian * 10) / 10 }),
          ...(f.sdkExternal.ownMsMedian === undefined ? {} : { ownMsMedian: Math.round(f.sdkExternal.ownMsMedian * 10) / 10 }),
        },
      ]),
    ),
  };
}

/** Writes bench/baselines/lambdas-<YYYY-MM-DD>.json; returns the file. */
export function writeLambdaBaseline(baseline: LambdaBaseline, dir: string = BASELINE_DIR): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `lambdas-${baseline.measuredAt.slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify(baseline, null, 2)}\n`);
  return file;
}

export interface LambdaComparison {
  readonly entry: string;
  readonly kib: number;
  readonly loadMs?: number;
  readonly baselineKib?: number;
  readonly baselineLoadMs?: number;
  /** Each limit the deployed bundle passes, and a failed load: empty when the function is within them. */
  readonly flags: readonly string[];
}

/** The deployed bundle of each function next to its baseline, flagged where it passes a limit. */
export function compareWithBaseline(figures: readonly LambdaFigure[], baseline: LambdaBaseline | undefined): LambdaComparison[] {
  return figures.map((f) => {
    const kib = f.sdkExternal.bytes / 1024;
    const loadMs = f.sdkExternal.loadMsMedian;
    const before = baseline?.functions[f.entry];
    const flags = [
      ...(kib > LAMBDA_LIMITS.kib ? [`OVER ${LAMBDA_LIMITS.kib} KiB`] : []),
      ...(loadMs !== undefined && loadMs > LAMBDA_LIMITS.loadMs ? [`OVER ${LAMBDA_LIMITS.loadMs} ms`] : []),
      ...(f.sdkExternal.error ? [f.sdkExternal.error] : []),
    ];
    return {
      entry: f.entry,
      kib,
      ...(loadMs === undefined ? {} : { loadMs }),
      ...(before ? { baselineKib: before.kib } : {}),
      ...(before?.loadMsMedian === undefined ? {} : { baselineLoadMs: before.loadMsMedian }),
      flags,
    };
  });
}
