import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './stop-child';

/**
 * A moto_server (AWS API emulator) on a free loopback port, owned by this process:
 * started here, stopped by its PID. Used by local mode and by the tests.
 */
export interface Moto {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
  /**
   * Leaves moto_server running when this process ends (`--keep-emulator`): this process stops
   * waiting for it, so that it can exit once its own work is done.
   */
  release(): void;
}

export class MotoUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MotoUnavailable';
  }
}

/** moto_server run through serial-moto-server.py, which says why it handles one request at a time. */
export const SERIAL_SERVER = join(__dirname, 'serial-moto-server.py');

/**
 * The Python that has moto: the interpreter named by moto_server's own `#!` line (a pip, pipx or
 * venv install), else python3 (a pyenv shim is a shell script).
 */
export function motoPython(env: NodeJS.ProcessEnv = process.env): string {
  const where = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8', env }).stdout.trim();
  if (where !== '') {
    const firstLine = readFileSync(where, 'utf8').split('\n', 1)[0] ?? '';
    const interpreter = /^#!\s*(\S*python[\d.]*)\s*$/.exec(firstLine)?.[1];
    if (interpreter !== undefined) return interpreter;
  }
  return 'python3';
}

/**
 * Whether moto and its server's packages are installed. Finds them without importing them: importing
 * moto costs 0.35 CPU-seconds, and every test file that may need the emulator asks this once.
 */
export function motoInstalled(env: NodeJS.ProcessEnv = process.env): boolean {
  const check =
    'import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in ("moto", "flask", "flask_cors", "werkzeug")) else 1)';
  return spawnSync(motoPython(env), ['-c', check], { stdio: 'ignore', env }).status === 0;
}

/**
 * The address moto_server printed (to its log file) once it listens. moto is started on port 0 so
 * that the kernel picks the port at bind time: choosing a "free" port first and passing it on raced
 * with other emulators starting at the same moment; the loser exited on EADDRINUSE while its owner
 * went on to talk to the winner's emulator (shared state, and "connection refused" once the winner
 * stopped).
 */
async function listeningEndpoint(logFile: string, child: ChildProcess, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const log = readFileSync(logFile, 'utf8');
    const address = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(log)?.[1];
    if (address !== undefined) return address;
    if (child.exitCode !== null)
      throw new MotoUnavailable(`moto_server exited with status ${child.exitCode} before listening: ${log.trim().slice(-500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new MotoUnavailable(`moto_server printed no address within ${timeoutMs} ms`);
}

async function waitUntilUp(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new MotoUnavailable(`moto_server exited with status ${child.exitCode} before answering`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) return;
    } catch {
      // not answering yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new MotoUnavailable(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms`);
}

export async function startMoto(options: { readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number } = {}): Promise<Moto> {
  // Its log goes to a file, not a pipe: an emulator kept running must not depend on this process.
  const logDir = mkdtempSync(join(tmpdir(), 'moto-'));
  const logFile = join(logDir, 'moto_server.log');
  const logFd = openSync(logFile, 'w');
  const child = spawn(motoPython(), [SERIAL_SERVER, '127.0.0.1', '0'], {
    stdio: ['ignore', logFd, logFd],
    env: { ...process.env, ...options.env },
  });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new MotoUnavailable("moto_server could not be started: install it with pip install 'moto[server]'");
  const stop = async (): Promise<void> => {
    await stopChild(child);
    rmSync(logDir, { recursive: true, force: true });
  };
  // Generous: on a loaded 2-core machine Python alone takes seconds to start.
  const timeoutMs = options.timeoutMs ?? 60_000;
  try {
    const endpoint = await listeningEndpoint(logFile, child, timeoutMs);
    await waitUntilUp(endpoint, child, timeoutMs);
    // A running child keeps Node's event loop alive: unref lets this process exit without it.
    return { endpoint, port: Number(new URL(endpoint).port), pid, stop, release: () => child.unref() };
  } catch (error) {
    await stop();
    throw error;
  }
}
