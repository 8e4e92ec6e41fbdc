import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The kops command line as kops 1.36.2 documents it. The flag tables are read at run time from
 * the vendored reference (`../reference/kops_*.md`), the one source of truth: a flag that is not
 * listed there is rejected the way kops (cobra/pflag) rejects it.
 */

/** One flag as the reference's Options block lists it. */
export interface FlagSpec {
  readonly name: string;
  readonly shorthand?: string;
  /** pflag type word (`string`, `strings`, `int32`, `duration` ...); `bool` when none is given. */
  readonly type: string;
  /** Value used when the flag is given without `=value` (`--admin` means `--admin=18h0m0s`). */
  readonly noOptDefault?: string;
}

export interface CommandSpec {
  /** `create cluster`, `rolling-update cluster` ... */
  readonly path: string;
  readonly flags: ReadonlyMap<string, FlagSpec>;
  /** The reference file, printed for `--help`. */
  readonly text: string;
}

/** A usage error, printed as kops prints it (`Error: ...`), exit status 1. */
export class KopsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KopsError';
  }
}

const FLAG_LINE = /^\s*(?:-([A-Za-z]), )?--([A-Za-z0-9][A-Za-z0-9_-]*)(?: ([A-Za-z0-9]+)(?:\[=([^\]]*)\])?)?(?:\s{2,}|$)/;

/** Parses the flag lines of one fenced block (`### Options` or `### Options inherited ...`). */
function parseFlagBlock(markdown: string, heading: string): FlagSpec[] {
  const start = markdown.indexOf(`### ${heading}\n`);
  if (start < 0) return [];
  const open = markdown.indexOf('```', start);
  const close = markdown.indexOf('```', open + 3);
  if (open < 0 || close < 0) return [];
  const flags: FlagSpec[] = [];
  for (const line of markdown.slice(open + 3, close).split('\n')) {
    const match = FLAG_LINE.exec(line);
    if (!match) continue;
    const [, shorthand, name = '', type, noOptDefault] = match;
    flags.push({
      name,
      type: type ?? 'bool',
      ...(shorthand ? { shorthand } : {}),
      ...(noOptDefault !== undefined ? { noOptDefault } : type === undefined ? { noOptDefault: 'true' } : {}),
    });
  }
  return flags;
}

/** Reads every `kops_*.md` in the reference folder: command path -> its flags (own + inherited). */
export function loadReference(dir: string): Map<string, CommandSpec> {
  const commands = new Map<string, CommandSpec>();
  for (const file of readdirSync(dir)
    .filter((f) => /^kops_.+\.md$/.test(f))
    .sort()) {
    const text = readFileSync(join(dir, file), 'utf8');
    const title = /^## kops (.+)$/m.exec(text);
    if (!title?.[1]) continue;
    const flags = new Map<string, FlagSpec>();
    for (const flag of [...parseFlagBlock(text, 'Options'), ...parseFlagBlock(text, 'Options inherited from parent commands')]) {
      flags.set(flag.name, flag);
    }
    commands.set(title[1].trim(), { path: title[1].trim(), flags, text });
  }
  return commands;
}

export interface ParsedCommand {
  readonly command: CommandSpec;
  readonly positionals: readonly string[];
  /** Every value given, in order; a `strings` flag's comma lists are split. */
  readonly flags: ReadonlyMap<string, readonly string[]>;
}

const INT = /^[+-]?\d+$/;
const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$/;

function checkValue(flag: FlagSpec, value: string): string[] {
  const bad = (why: string): KopsError => new KopsError(`invalid argument "${value}" for "--${flag.name}" flag: ${why}`);
  switch (flag.type) {
    case 'bool':
      if (!/^(1|0|t|f|T|F|true|false|TRUE|FALSE|True|False)$/.test(value))
        throw bad(`strconv.ParseBool: parsing "${value}": invalid syntax`);
      return [/^(1|t|T|true|TRUE|True)$/.test(value) ? 'true' : 'false'];
    case 'int':
    case 'int32':
      if (!INT.test(value)) throw bad(`strconv.ParseInt: parsing "${value}": invalid syntax`);
      return [value];
    case 'duration':
      if (!DURATION.test(value)) throw bad(`time: invalid duration "${value}"`);
      return [value];
    case 'strings':
      // pflag reads a string slice as CSV; an empty value means an empty list.
      return value === '' ? [] : value.split(',');
    case 'target':
      if (value !== 'direct' && value !== 'terraform') throw bad(`invalid target: "${value}"; valid targets are "direct", "terraform"`);
      return [value];
    default:
      return [value];
  }
}

/**
 * Parses `argv` (without the program name) the way cobra and pflag do for the documented
 * commands: the longest command path first, then `--flag=value`, `--flag value`, `-x value`,
 * `-xvalue`, booleans without a value, and `--` ending the flags.
 */
export function parseCommandLine(argv: readonly string[], commands: ReadonlyMap<string, CommandSpec>): ParsedCommand {
  const words: string[] = [];
  for (const arg of argv) {
    if (arg.startsWith('-')) break;
    words.push(arg);
  }
  let command: CommandSpec | undefined;
  let used = 0;
  for (let n = Math.min(words.length, 2); n > 0 && !command; n -= 1) {
    command = commands.get(words.slice(0, n).join(' '));
    used = n;
  }
  if (!command) {
    const known = [...commands.keys()].sort().join(', ');
    const first = words[0] ?? '';
    if (words.length === 0) throw new KopsError(`a command is required; the stand-in implements: ${known}`);
    if ([...commands.keys()].some((k) => k.startsWith(`${first} `))) {
      throw new KopsError(`unknown command "${words[1] ?? ''}" for "kops ${first}" (the stand-in implements: ${known})`);
    }
    throw new KopsError(`unknown command "${first}" for "kops" (the stand-in implements: ${known})`);
  }
  const byShorthand = new Map<string, FlagSpec>();
  for (const flag of command.flags.values()) if (flag.shorthand) byShorthand.set(flag.shorthand, flag);

  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  const add = (flag: FlagSpec, value: string): void => {
    const values = checkValue(flag, value);
    flags.set(flag.name, flag.type === 'strings' ? [...(flags.get(flag.name) ?? []), ...values] : values);
  };
  const rest = argv.slice(used);
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i] ?? '';
    if (arg === '--') {
      positionals.push(...rest.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const flag = command.flags.get(name);
      if (!flag) throw new KopsError(`unknown flag: --${name}`);
      if (eq >= 0) add(flag, arg.slice(eq + 1));
      else if (flag.noOptDefault !== undefined) add(flag, flag.noOptDefault);
      else {
        const next = rest[i + 1];
        if (next === undefined) throw new KopsError(`flag needs an argument: --${name}`);
        add(flag, next);
        i += 1;
      }
    } else if (arg.startsWith('-') && arg.length > 1) {
      const letter = arg[1] ?? '';
      const flag = byShorthand.get(letter);
      if (!flag) throw new KopsError(`unknown shorthand flag: '${letter}' in ${arg}`);
      const attached = arg.slice(2).replace(/^=/, '');
      if (attached !== '') add(flag, attached);
      else if (flag.noOptDefault !== undefined) add(flag, flag.noOptDefault);
      else {
        const next = rest[i + 1];
        if (next === undefined) throw new KopsError(`flag needs an argument: '${letter}' in -${letter}`);
        add(flag, next);
        i += 1;
      }
    } else {
      positionals.push(arg);
    }
  }
  return { command, positionals, flags };
}

/** The last value of a flag, or undefined. */
export function flagValue(parsed: ParsedCommand, name: string): string | undefined {
  const values = parsed.flags.get(name);
  return values === undefined ? undefined : values[values.length - 1];
}

export function flagList(parsed: ParsedCommand, name: string): readonly string[] {
  return parsed.flags.get(name) ?? [];
}

export function flagBool(parsed: ParsedCommand, name: string): boolean {
  return flagValue(parsed, name) === 'true';
}

/** Cluster name: positional `[CLUSTER]`, `--name`, or `KOPS_CLUSTER_NAME`, as kops resolves it. */
export function clusterName(parsed: ParsedCommand, env: NodeJS.ProcessEnv): string {
  const positional = parsed.positionals[0];
  const named = flagValue(parsed, 'name');
  if (parsed.positionals.length > 1) throw new KopsError(`expected at most one cluster name, got ${parsed.positionals.join(' ')}`);
  if (positional && named && positional !== named) {
    throw new KopsError(`cannot specify cluster via --name and positional argument (got "${named}" and "${positional}")`);
  }
  const name = positional ?? named ?? env.KOPS_CLUSTER_NAME;
  if (!name) throw new KopsError('--name is required (or give the cluster name as an argument, or export KOPS_CLUSTER_NAME)');
  return name;
}

/** State store: `--state` or `KOPS_STATE_STORE`. Only `s3://bucket[/path]` is supported, as fabricctl uses. */
export function stateStore(
  parsed: ParsedCommand,
  env: NodeJS.ProcessEnv,
): { readonly bucket: string; readonly prefix: string; readonly url: string } {
  const url = flagValue(parsed, 'state') ?? env.KOPS_STATE_STORE;
  if (!url) {
    throw new KopsError(
      'Please set the --state flag or export KOPS_STATE_STORE.\nFor example, a valid value follows the format s3://<bucket>.\n' +
        'You can find the supported stores in https://kops.sigs.k8s.io/state.',
    );
  }
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match?.[1]) throw new KopsError(`the stand-in supports only s3:// state stores, got ${JSON.stringify(url)}`);
  return { bucket: match[1], prefix: (match[2] ?? '').replace(/\/+$/, ''), url: url.replace(/\/+$/, '') };
}
