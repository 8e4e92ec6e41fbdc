import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { FabricSpecInvalid, Problem, problem } from '../../domain/errors';
import { clusterNameOf, FabricSpec, nameProblem, normaliseName, parseFabricSpec } from '../../domain/spec';
import { CliError, CliIo, EXIT, ExitCode, printJson, wantsJson } from '../io';
import { CliDeps, GlobalOptions, lazy, readSpecFile, renderProblems, validated } from './context';

/** `fabricctl validate` and `fabricctl cost`: specs checked with the state machine's own schema, and priced. */

/** The spec files a `validate` argument names: the file itself, or every fabric.json under a directory. */
export function specFilesOf(io: CliIo, arg: string): string[] {
  const full = resolve(io.cwd, arg);
  if (!existsSync(full))
    throw new CliError(EXIT.NOT_FOUND, 'SpecNotFound', `spec file ${arg} not found (fabricctl init <name> --domain <domain> writes one)`);
  if (!statSync(full).isDirectory()) return [arg];
  const found: string[] = [];
  const walk = (dir: string): void => {
    // Symbolic links are not followed (a Dirent of a link is not a directory): no loops.
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name === 'fabric.json') found.push(join(arg, relative(full, path)));
    }
  };
  walk(full);
  if (found.length === 0)
    throw new CliError(
      EXIT.NOT_FOUND,
      'SpecNotFound',
      `no fabric.json under ${arg}: pass spec files, or a directory that holds fabric.json files`,
    );
  return found;
}

export interface FileVerdict {
  readonly path: string;
  /** The normalised name the file claims, when its raw name is one the schema accepts. */
  readonly fabric?: string;
  readonly rawName?: string;
  readonly spec?: FabricSpec;
  readonly problems: Problem[];
}

export function verdictOf(io: CliIo, path: string): FileVerdict {
  let input: unknown;
  try {
    ({ input } = readSpecFile(io, path));
  } catch (error) {
    // A file that is not JSON is one file's problem: the other files are still checked.
    if (error instanceof CliError && Array.isArray(error.details)) return { path, problems: error.details as Problem[] };
    throw error;
  }
  const rawName =
    input !== null && typeof input === 'object' && typeof (input as { name?: unknown }).name === 'string'
      ? (input as { name: string }).name
      : undefined;
  const fabric = rawName !== undefined && nameProblem(rawName) === undefined ? normaliseName(rawName) : undefined;
  try {
    return { path, rawName, fabric, spec: parseFabricSpec(input), problems: [] };
  } catch (error) {
    if (!(error instanceof FabricSpecInvalid)) throw error;
    return { path, rawName, fabric, problems: [...error.problems] };
  }
}

/** Two files naming one fabric (demo, Demo, de-mo): a fabric has one branch, one lock and one record. */
export function reportCollisions(verdicts: readonly FileVerdict[]): void {
  const byFabric = new Map<string, FileVerdict[]>();
  for (const v of verdicts) if (v.fabric !== undefined) byFabric.set(v.fabric, [...(byFabric.get(v.fabric) ?? []), v]);
  for (const [fabric, group] of byFabric) {
    if (group.length < 2) continue;
    for (const v of group) {
      const others = group
        .filter((o) => o !== v)
        .map((o) => `${JSON.stringify(o.rawName)} in ${o.path}`)
        .join(', ');
      v.problems.push(
        problem(
          'name',
          v.rawName,
          `rename this fabric or the other: ${others} also normalises to ${fabric}, ` +
            `and one fabric has one branch (fabric/${fabric}), one lock and one record`,
        ),
      );
    }
  }
}

/**
 * `validate <spec...>`: each file (or each fabric.json under a directory) is checked with the
 * schema the state machine uses; with several, two that name the same fabric are reported too.
 */
export async function validateCommand(deps: CliDeps, specPaths: readonly string[], options: GlobalOptions): Promise<ExitCode> {
  const { io } = deps;
  const files = [...new Map(specPaths.flatMap((p) => specFilesOf(io, p)).map((p) => [resolve(io.cwd, p), p])).values()];
  const verdicts = files.map((path) => verdictOf(io, path));
  reportCollisions(verdicts);
  const valid = verdicts.every((v) => v.problems.length === 0);
  const single = specPaths.length === 1 && files.length === 1 && files[0] === specPaths[0];
  if (wantsJson(options)) {
    const shape = (v: FileVerdict) => (v.problems.length === 0 ? { valid: true, spec: v.spec } : { valid: false, problems: v.problems });
    const [only] = verdicts;
    printJson(io, single && only ? shape(only) : { valid, files: verdicts.map((v) => ({ path: v.path, ...shape(v) })) });
    return valid ? EXIT.OK : EXIT.USAGE;
  }
  for (const v of verdicts) {
    if (v.problems.length === 0 && v.spec)
      io.out(`${v.path}: valid (fabric ${v.spec.name}, cluster ${clusterNameOf(v.spec)}, region ${v.spec.region})\n`);
    else io.err(`${v.path}: ${v.problems.length} problem(s)\n${renderProblems(v.problems)}`);
  }
  return valid ? EXIT.OK : EXIT.USAGE;
}

/** A plan also says what the planned fabric will cost (issue: cost "in plan output"). */
export function planCost(specInput: unknown): { text: string; json: unknown } {
  const { costReport } = lazy<typeof import('../../cost')>('../../cost');
  return costReport(specInput, {});
}

export async function costCommand(deps: CliDeps, specPath: string, options: GlobalOptions): Promise<ExitCode> {
  const { input } = readSpecFile(deps.io, specPath);
  validated(input);
  const { costReport } = lazy<typeof import('../../cost')>('../../cost');
  const report = costReport(input, {});
  if (wantsJson(options)) printJson(deps.io, report.json);
  else deps.io.out(`${report.text}\n`);
  return EXIT.OK;
}
