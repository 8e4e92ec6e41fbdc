/**
 * One structured logger: JSON lines with the fabric name and execution id on every line.
 * Secrets never go through it: callers pass identifiers, never key material.
 */
export interface LogContext {
  readonly fabric?: string;
  readonly execution?: string;
}

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: Level, message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  with(context: LogContext): Logger;
}

// stderr: Lambda captures it like stdout, and local runs keep stdout for the CLI (and --json).
export function createLogger(context: LogContext = {}, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Logger {
  const quiet = process.env.FABRIC_LOG_LEVEL === 'silent';
  const log = (level: Level, message: string, fields: Record<string, unknown> = {}): void => {
    if (quiet) return;
    write(JSON.stringify({ level, message, ...context, ...fields, time: new Date().toISOString() }));
  };
  return {
    log,
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    with: (more) => createLogger({ ...context, ...more }, write),
  };
}
