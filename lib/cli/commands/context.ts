import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FabricSpecInvalid, Problem, problem } from '../../domain/errors';
import { DEFAULT_REGION, FabricSpec, parseFabricSpec } from '../../domain/spec';
import { parseSpecJson } from '../../domain/spec-document';
import { resolveRegion, type AwsClientFactory } from '../aws';
import { CliError, CliIo, EXIT } from '../io';
import { GitProbe } from '../remote';

/** What every command gets: its dependencies, the global options, the region, spec files read once. */

/** Everything a command needs from outside, injected (tests pass fakes, mocks or moto-backed clients). */
export interface CliDeps {
  readonly io: CliIo;
  readonly clients: AwsClientFactory;
  readonly git: GitProbe;
  /** Region from the SDK's shared config (the profile's `region`), when neither flag nor env sets one. */
  readonly configRegion?: () => Promise<string | undefined>;
  /** Aborted on Ctrl-C: watching stops, executions go on. */
  readonly signal?: AbortSignal;
  /** Local mode, loaded on demand (it synthesizes the stack and starts an emulator). */
  readonly runLocal?: (options: LocalRunOptions) => Promise<LocalRunResult>;
  /** Throws, naming each missing tool and how to get it, when local mode cannot run here (lib/local/prerequisites.ts). */
  readonly checkLocalPrerequisites?: (options: { readonly aws?: boolean; readonly endpoint?: string }) => void;
  /** Asks a question on the terminal and returns the answer; undefined when stdin is not a terminal. */
  readonly ask?: (question: string) => Promise<string>;
  /** Poll interval while watching, ms. */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What the CLI needs of local mode (lib/local/run.ts); the type only, the module loads on demand. */
export type LocalRunOptions = import('../../local/run').RunLocalOptions;
export type LocalRunResult = Pick<
  import('../../local/run').LocalRunResult,
  'status' | 'output' | 'error' | 'cause' | 'timings' | 'totalMs'
> & { readonly execution?: string };

export interface GlobalOptions {
  readonly region?: string;
  readonly profile?: string;
  readonly output?: string;
  readonly json?: boolean;
  readonly stack?: string;
}

export async function regionOf(deps: CliDeps, options: GlobalOptions): Promise<string> {
  return resolveRegion(options.region, deps.io.env) ?? (await deps.configRegion?.()) ?? DEFAULT_REGION;
}

/**
 * Loads a module when a command needs it (local mode synthesizes the stack; cost reads price tables).
 * `require`, not `import()`: under the bin's tsx/cjs hook a dynamic import goes to the ESM loader,
 * which does not resolve extensionless TypeScript paths.
 */
export function lazy<T>(path: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path) as T;
}

// ---------- spec files ----------

/** Reads and parses a spec file: missing is exit 3, not JSON is exit 2. */
export function readSpecFile(io: CliIo, path: string): { path: string; input: unknown } {
  const full = resolve(io.cwd, path);
  if (!existsSync(full))
    throw new CliError(EXIT.NOT_FOUND, 'SpecNotFound', `spec file ${path} not found (fabricctl init <name> --domain <domain> writes one)`);
  const text = readFileSync(full, 'utf8');
  try {
    return { path: full, input: parseSpecJson(text) };
  } catch (error) {
    throw new CliError(EXIT.USAGE, 'FabricSpecInvalid', `${path} is not JSON: ${(error as Error).message}`, [
      problem('(file)', text.slice(0, 60), `fix the JSON syntax: ${(error as Error).message}`),
    ]);
  }
}

export function validated(input: unknown): FabricSpec {
  try {
    return parseFabricSpec(input);
  } catch (error) {
    if (error instanceof FabricSpecInvalid)
      throw new CliError(EXIT.USAGE, 'FabricSpecInvalid', `the spec has ${error.problems.length} problem(s)`, error.problems);
    throw error;
  }
}

export function renderProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `  ${p.field}\n    received: ${p.received}\n    fix: ${p.fix}\n`).join('');
}
