import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '../lib/fabric-function';
import { median } from './stats';

export interface BundleFigure {
  readonly bytes: number;
  readonly loadMsMedian?: number;
  readonly loadMsRuns: readonly number[];
  readonly error?: string;
}

export interface LambdaFigure {
  readonly entry: string;
  /** As lib/fabric-function.ts deploys it: AWS SDK external, provided by the runtime (loaded here from node_modules). */
  readonly sdkExternal: BundleFigure;
  /** The same with the AWS SDK bundled in. */
  readonly sdkBundled: BundleFigure;
}

/** Folders under lambdas/ that have a handler.ts. */
export function lambdaEntries(): string[] {
  const dir = join(PROJECT_ROOT, 'lambdas');
  return readdirSync(dir).filter((name) => existsSync(join(dir, name, 'handler.ts'))).sort();
}

/** Placeholder values for the variables a handler requires at load and the template does not set. */
function requiredEnvPlaceholders(entry: string): Record<string, string> {
  const source = readFileSync(join(PROJECT_ROOT, 'lambdas', entry, 'handler.ts'), 'utf8');
  const names = [...source.matchAll(/requiredEnv\('([A-Z0-9_]+)'\)/g)].map((m) => m[1] ?? '');
  return Object.fromEntries(names.map((n) => [n, n.endsWith('_ARN') ? `arn:aws:secretsmanager:us-east-2:123456789012:secret:bench-${n.toLowerCase()}` : 'bench']));
}

// Measured inside the child so process start-up is not counted, only loading the bundle.
const LOAD_SCRIPT = "const t=process.hrtime.bigint();require(process.argv[1]);process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))";

async function bundleAndLoad(entry: string, outDir: string, sdk: 'external' | 'bundled', runs: number, env: NodeJS.ProcessEnv): Promise<BundleFigure> {
  const outfile = join(outDir, `${entry}-${sdk}`, 'index.js');
  try {
    await build({
      entryPoints: [join(PROJECT_ROOT, 'lambdas', entry, 'handler.ts')],
      outfile,
      bundle: true,
      minify: true,
      sourcemap: true,
      format: 'cjs',
      target: 'node24',
      platform: 'node',
      logLevel: 'silent',
      // What NodejsFunction does with bundleAwsSDK: false.
      ...(sdk === 'external' ? { external: ['@aws-sdk/*'] } : {}),
    });
  } catch (error) {
    return { bytes: 0, loadMsRuns: [], error: `esbuild: ${(error as Error).message.split('\n')[0] ?? ''}` };
  }
  const bytes = statSync(outfile).size;
  const loadMsRuns: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const child = spawnSync(process.execPath, ['-e', LOAD_SCRIPT, outfile], { env, encoding: 'utf8', timeout: 30_000 });
    const msValue = Number(child.stdout);
    if (child.status !== 0 || !Number.isFinite(msValue)) {
      const reason = (child.stderr || child.stdout || `exit ${String(child.status)}`).split('\n').find((l) => l.trim()) ?? '';
      return { bytes, loadMsRuns, error: `load failed: ${reason}` };
    }
    loadMsRuns.push(msValue);
  }
  return { bytes, loadMsRuns, ...(loadMsRuns.length ? { loadMsMedian: median(loadMsRuns) } : {}) };
}

/**
 * Bundles each handler as lib/fabric-function.ts has CDK bundle it (esbuild: bundle, minify, CJS,
 * target node24, platform node, source map, AWS SDK external as the runtime provides it), and once
 * more with the SDK bundled; then loads each bundle in fresh `node` processes with the function's
 * environment from the template. The external SDK resolves from this repository's node_modules
 * (NODE_PATH), as the runtime resolves its own copy.
 */
export async function measureLambdas(options: { runs: number; environments: Readonly<Record<string, Readonly<Record<string, string>>>> }): Promise<LambdaFigure[]> {
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
