import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { accountPaths, LocalAccountState, processAlive, readAccountState, removeAccountState, writeAccountState } from './home';

/**
 * `fabricctl local start|status|stop`, as plain functions: the daemon (daemon.ts) is started
 * detached and found again through `<home>/account.json`; it is stopped by its PID, and whatever it
 * started that is still alive (moto) by that process's own PID.
 */

/** The daemon's entry point, run by Node with tsx's require hook (as bin/fabricctl.js runs the CLI). */
const DAEMON_MAIN = join(__dirname, 'daemon-main.ts');
/** What the daemon's and moto's command lines contain: a PID reused by another program is not ours. */
export const DAEMON_MARKER = 'daemon-main';
export const MOTO_MARKER = 'serial-moto-server';

export class LocalAccountRunning extends Error {
  constructor(readonly state: LocalAccountState) {
    super(
      state.status === 'running'
        ? `a local account already runs in ${state.home} (daemon pid ${state.daemon.pid}, ` +
            `Step Functions ${state.stepFunctions?.endpoint ?? '?'}, AWS emulator ${state.moto?.endpoint ?? '?'}): ` +
            `use it, or stop it first with fabricctl local stop`
        : `a local account is starting in ${state.home} (pid ${state.daemon.pid}): wait for it, or stop it with fabricctl local stop`,
    );
    this.name = 'LocalAccountRunning';
  }
}

/** The daemon runs the handlers and the stand-ins from their TypeScript sources, which the published package does not ship. */
export class LocalAccountNeedsSources extends Error {
  constructor() {
    super(
      'the local account runs from a clone of the fabricctl repository (README, "Local mode"); ' +
        'an installed fabricctl runs against AWS only',
    );
    this.name = 'LocalAccountNeedsSources';
  }
}

/** tsx's require hook, by path; undefined where it is not installed (a published package). */
function tsxHook(): string | undefined {
  try {
    return require.resolve('tsx/cjs');
  } catch {
    return undefined;
  }
}

export class LocalAccountStartFailed extends Error {
  constructor(why: string, logTail: string) {
    super(`the local account did not start: ${why}${logTail ? `\n--- daemon log (last lines) ---\n${logTail}` : ''}`);
    this.name = 'LocalAccountStartFailed';
  }
}

export class LocalAccountNotRunning extends Error {
  constructor(home: string | undefined) {
    super(
      home === undefined
        ? 'no local account: neither FABRICCTL_LOCAL_HOME nor HOME is set, so there is no folder to find one in'
        : `no local account runs in ${home}: start one with fabricctl local start ` +
            `(or set FABRICCTL_LOCAL_HOME to the folder of the one you started)`,
    );
    this.name = 'LocalAccountNotRunning';
  }
}

function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** The account in `home` when its daemon is alive and answers; undefined when none runs there. */
export function runningLocalAccount(home: string | undefined): LocalAccountState | undefined {
  if (home === undefined) return undefined;
  const state = readAccountState(home);
  if (!state || state.status !== 'running' || !processAlive(state.daemon.pid, DAEMON_MARKER)) return undefined;
  return state;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stops a process by PID: SIGTERM, then SIGKILL after `graceMs`. True when it is gone. */
async function stopProcess(pid: number, marker: string, graceMs: number): Promise<boolean> {
  if (!processAlive(pid, marker)) return true;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return !processAlive(pid, marker);
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!processAlive(pid, marker)) return true;
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
  for (let i = 0; i < 50 && processAlive(pid, marker); i += 1) await sleep(100);
  return !processAlive(pid, marker);
}

export interface StartOptions {
  readonly home: string;
  readonly region: string;
  readonly port?: number;
  /** CodeCommit repositories the runs may read from: name -> local git work tree. */
  readonly repositories?: Readonly<Record<string, string>>;
  /** Keep the functions' JSON log lines in the daemon's log. */
  readonly verbose?: boolean;
  /** How long to wait for everything to answer (synthesis, moto, a replay). @default 300000 */
  readonly timeoutMs?: number;
}

/**
 * Starts the daemon in the background and waits until account.json says it runs. A second start
 * is refused (`LocalAccountRunning`); a state file left by a daemon that died is cleared first.
 */
export async function startLocalAccount(options: StartOptions): Promise<LocalAccountState> {
  const { home } = options;
  const tsx = tsxHook();
  if (!tsx || !existsSync(DAEMON_MAIN)) throw new LocalAccountNeedsSources();
  mkdirSync(home, { recursive: true });
  const paths = accountPaths(home);
  const placeholder: LocalAccountState = {
    version: 1,
    status: 'starting',
    home,
    startedAt: new Date().toISOString(),
    region: options.region,
    accountId: '',
    daemon: { pid: process.pid, log: paths.log },
  };
  try {
    writeAccountState(home, placeholder, { exclusive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const existing = readAccountState(home);
    // While starting, the PID may still be the starting command's own, which has no marker.
    if (existing && processAlive(existing.daemon.pid, existing.status === 'running' ? DAEMON_MARKER : undefined))
      throw new LocalAccountRunning(existing);
    // Left by a daemon that died: what it started may still run.
    await stopLeftovers(existing);
    removeAccountState(home);
    writeAccountState(home, placeholder, { exclusive: true });
  }

  const logFd = openSync(paths.log, 'a');
  const child = spawn(
    process.execPath,
    [
      '--require',
      tsx,
      DAEMON_MAIN,
      JSON.stringify({ home, region: options.region, port: options.port, repositories: options.repositories }),
    ],
    {
      cwd: home,
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: {
        ...process.env,
        // Inherited by everything the daemon starts (moto, builds): what belongs to this account can be found.
        FABRICCTL_LOCAL_HOME: home,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...(options.verbose ? { FABRICCTL_LOCAL_VERBOSE: '1' } : {}),
      },
    },
  );
  closeSync(logFd);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) {
    removeAccountState(home);
    throw new LocalAccountStartFailed('the daemon process could not be spawned', logTail(paths.log));
  }
  writeAccountState(home, { ...placeholder, daemon: { pid, log: paths.log } });
  let exited: number | null = null;
  child.once('exit', (code, signal) => {
    exited = code ?? (signal ? 128 : 1);
  });

  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  for (;;) {
    const state = readAccountState(home);
    if (state?.status === 'running' && state.daemon.pid === pid) return state;
    if (exited !== null || !processAlive(pid)) {
      removeAccountState(home);
      throw new LocalAccountStartFailed(`the daemon (pid ${pid}) exited with status ${String(exited)}`, logTail(paths.log));
    }
    if (Date.now() > deadline) {
      await stopLocalAccount(home);
      throw new LocalAccountStartFailed(
        `nothing answered within ${Math.round((options.timeoutMs ?? 300_000) / 1000)} s`,
        logTail(paths.log),
      );
    }
    await sleep(200);
  }
}

async function stopLeftovers(state: LocalAccountState | undefined): Promise<void> {
  if (state?.moto) await stopProcess(state.moto.pid, MOTO_MARKER, 3000);
}

export interface ComponentStatus {
  readonly name: string;
  readonly pid?: number;
  readonly endpoint?: string;
  readonly alive: boolean;
}

export interface LocalAccountStatus {
  readonly home: string;
  readonly state?: LocalAccountState;
  /** `running`: all of it answers; `degraded`: some part is gone; `stopped`: no account. */
  readonly status: 'running' | 'starting' | 'degraded' | 'stopped';
  readonly components: readonly ComponentStatus[];
}

/** Whether something accepts connections on `endpoint`'s port (no request: moto would record it). */
function listening(endpoint: string, timeoutMs = 1000): Promise<boolean> {
  let url: URL;
  try {
    url = new URL(endpoint.includes('://') ? endpoint : `tcp://${endpoint}`);
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function localAccountStatus(home: string): Promise<LocalAccountStatus> {
  const state = readAccountState(home);
  if (!state) return { home, status: 'stopped', components: [] };
  const daemonAlive = processAlive(state.daemon.pid, state.status === 'running' ? DAEMON_MARKER : undefined);
  const components: ComponentStatus[] = [{ name: 'daemon', pid: state.daemon.pid, alive: daemonAlive }];
  if (state.moto)
    components.push({
      name: 'AWS emulator (moto)',
      pid: state.moto.pid,
      endpoint: state.moto.endpoint,
      alive: processAlive(state.moto.pid, MOTO_MARKER) && (await listening(state.moto.endpoint)),
    });
  if (state.stepFunctions)
    components.push({
      name: 'Step Functions',
      pid: state.daemon.pid,
      endpoint: state.stepFunctions.endpoint,
      alive: daemonAlive && (await listening(state.stepFunctions.endpoint)),
    });
  // The stand-ins live in the daemon: alive with it (the DNS stand-in is UDP, nothing to connect to).
  if (state.publicDns)
    components.push({ name: 'public DNS stand-in', pid: state.daemon.pid, endpoint: state.publicDns.address, alive: daemonAlive });
  if (state.codeCommit)
    components.push({
      name: 'CodeCommit stand-in',
      pid: state.daemon.pid,
      endpoint: state.codeCommit.endpoint,
      alive: daemonAlive && (await listening(state.codeCommit.endpoint)),
    });
  for (const [cluster, api] of Object.entries(state.apiServers ?? {})) {
    components.push({
      name: `Kubernetes API stand-in ${cluster}`,
      pid: state.daemon.pid,
      endpoint: api.url,
      alive: daemonAlive && (await listening(api.url)),
    });
  }
  if (state.status === 'starting') return { home, state, status: daemonAlive ? 'starting' : 'degraded', components };
  return { home, state, status: components.every((c) => c.alive) ? 'running' : 'degraded', components };
}

export interface StopReport {
  readonly home: string;
  /** What was running and is now stopped, by PID. */
  readonly stopped: readonly { readonly name: string; readonly pid: number }[];
  /** PIDs that would not stop. */
  readonly remaining: readonly { readonly name: string; readonly pid: number }[];
  readonly wasRunning: boolean;
}

/**
 * Stops the daemon (SIGTERM: it ends its runs, stops moto and the stand-ins, removes account.json),
 * then moto by its own PID if it outlived the daemon, and removes account.json if it is still there.
 */
export async function stopLocalAccount(home: string, options: { readonly graceMs?: number } = {}): Promise<StopReport> {
  const state = readAccountState(home);
  if (!state) return { home, stopped: [], remaining: [], wasRunning: false };
  const stopped: { name: string; pid: number }[] = [];
  const remaining: { name: string; pid: number }[] = [];
  const parts: Array<{ name: string; pid: number; marker?: string }> = [
    { name: 'daemon', pid: state.daemon.pid, marker: state.status === 'running' ? DAEMON_MARKER : undefined },
  ];
  if (state.moto) parts.push({ name: 'AWS emulator (moto)', pid: state.moto.pid, marker: MOTO_MARKER });
  for (const part of parts) {
    if (!processAlive(part.pid, part.marker)) continue;
    if (await stopProcess(part.pid, part.marker ?? '', options.graceMs ?? 20_000)) stopped.push({ name: part.name, pid: part.pid });
    else remaining.push({ name: part.name, pid: part.pid });
  }
  if (remaining.length === 0) removeAccountState(home);
  return { home, stopped, remaining, wasRunning: true };
}
