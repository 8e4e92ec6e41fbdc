import { stringify as toYaml } from 'yaml';

/**
 * What a command may touch of the outside world, injected so tests run commands in process:
 * output streams, whether stdout is a terminal, the environment, the working directory and the clock.
 */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly isTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly now: () => Date;
  /** How printJson writes a command's structured output (`-o yaml`). @default 'json' */
  readonly format?: StructuredFormat;
}

export type StructuredFormat = 'json' | 'yaml';

/** Exit codes, as kubectl/eksctl-style tools use them. */
export const EXIT = {
  OK: 0,
  /** The run (or a call it needed) failed. */
  FAILED: 1,
  /** Bad usage or an invalid spec: nothing was started. */
  USAGE: 2,
  /** The stack, fabric, execution or file named does not exist. */
  NOT_FOUND: 3,
  /** Ctrl-C while watching: the execution goes on. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the CLI reports as one message with its exit code (and, with --json, as `{error, message}`). */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    readonly errorName: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = errorName;
  }
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
  };
}

/**
 * A question on the terminal (prompt on stderr, so stdout stays the command's output), or undefined
 * when stdin is not a terminal: nobody could answer. Ctrl-C answers nothing.
 */
export function terminalQuestion(): ((question: string) => Promise<string>) | undefined {
  if (!process.stdin.isTTY) return undefined;
  return async (question) => {
    const { createInterface } = await import('node:readline/promises');
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    const cancelled = new AbortController();
    prompt.once('SIGINT', () => cancelled.abort());
    try {
      return await prompt.question(question, { signal: cancelled.signal });
    } catch (error) {
      if ((error as Error).name === 'AbortError') {
        process.stderr.write('\n');
        return '';
      }
      throw error;
    } finally {
      prompt.close();
    }
  };
}

/** Common output switches: `-o json`, `--json` or `-o yaml`: structured output instead of text. */
export function wantsJson(options: { output?: string; json?: boolean }): boolean {
  return options.json === true || options.output === 'json' || options.output === 'yaml';
}

/**
 * The structured format an argument list asks for: `--json` (it wins), `-o yaml`, `-oyaml`,
 * `--output yaml`, `--output=yaml`; the same for json. Read from argv because the error of a
 * command that failed to parse is printed in it too.
 */
export function structuredFormatOf(argv: readonly string[]): StructuredFormat | undefined {
  if (argv.includes('--json')) return 'json';
  let format: StructuredFormat | undefined;
  argv.forEach((arg, i) => {
    const value = arg === '-o' || arg === '--output' ? argv[i + 1] : /^(?:-o|--output=)(.+)$/.exec(arg)?.[1];
    // The last -o wins, as commander takes it; `-o text` means no structured output.
    if (value !== undefined) format = value === 'json' || value === 'yaml' ? value : undefined;
  });
  return format;
}

/** A command's structured output: JSON, or YAML of the same data under `-o yaml`. */
export function printJson(io: CliIo, value: unknown): void {
  if (io.format === 'yaml') {
    // Through JSON first, so YAML carries exactly what JSON would (dates as strings, no undefined).
    const plain: unknown = value === undefined ? null : JSON.parse(JSON.stringify(value));
    io.out(toYaml(plain));
    return;
  }
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds - minutes * 60)).padStart(2, '0')}s`;
}

export function formatAge(from: Date | string, now: Date): string {
  const ms = now.getTime() - new Date(from).getTime();
  if (!Number.isFinite(ms)) return '-';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** Left-aligned columns, two spaces apart, as `kubectl get` prints them. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}
