import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileWhole } from '../../write-file-whole';

/**
 * Where a local account lives: one folder (`$FABRICCTL_LOCAL_HOME`, else `~/.fabricctl/local`)
 * holding the emulator's recording, the executions, the daemon's log, and `account.json`: what
 * runs (PIDs) and where it answers (endpoints). Every command that works against the account reads
 * that file; nothing else tells them where it is.
 */

export const LOCAL_HOME_ENV = 'FABRICCTL_LOCAL_HOME';

/** The account's folder, or undefined when neither FABRICCTL_LOCAL_HOME nor HOME is set. */
export function localHome(env: NodeJS.ProcessEnv): string | undefined {
  const explicit = env[LOCAL_HOME_ENV];
  if (explicit) return explicit;
  return env.HOME ? join(env.HOME, '.fabricctl', 'local') : undefined;
}

export const accountPaths = (home: string) => ({
  state: join(home, 'account.json'),
  log: join(home, 'daemon.log'),
  recording: join(home, 'moto', 'recording.jsonl'),
  executions: join(home, 'executions'),
});

export interface LocalAccountState {
  readonly version: 1;
  /** `starting`: `local start` made the file and waits for the daemon; `running`: everything answers. */
  readonly status: 'starting' | 'running';
  readonly home: string;
  readonly startedAt: string;
  readonly region: string;
  readonly accountId: string;
  /** The process that runs the account: the Step Functions endpoint, the runs, the stand-ins. */
  readonly daemon: { readonly pid: number; readonly log: string };
  readonly moto?: { readonly pid: number; readonly endpoint: string; readonly recording: string; readonly replayedRequests: number };
  readonly stepFunctions?: { readonly endpoint: string; readonly stateMachineArn: string };
  readonly publicDns?: { readonly address: string };
  /** The CodeCommit stand-in and the repositories it answers for (name -> local git work tree). */
  readonly codeCommit?: { readonly endpoint: string; readonly repositories: Readonly<Record<string, string>> };
  /** The Kubernetes API stand-in of each cluster a run has needed, by cluster name. */
  readonly apiServers?: Readonly<Record<string, { readonly url: string; readonly port: number }>>;
  /** What the deployed stack would output (StateMachineArn, LockTableName, StateBucketPrefix). */
  readonly stackOutputs?: Readonly<Record<string, string>>;
}

export class LocalAccountStateInvalid extends Error {
  constructor(file: string, why: string) {
    super(`${file} is not a local account's state (${why}): stop what it names by hand if it runs, then delete it`);
    this.name = 'LocalAccountStateInvalid';
  }
}

export function readAccountState(home: string): LocalAccountState | undefined {
  const file = accountPaths(home).state;
  if (!existsSync(file)) return undefined;
  let state: LocalAccountState;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as LocalAccountState;
  } catch (error) {
    throw new LocalAccountStateInvalid(file, (error as Error).message);
  }
  if (state.version !== 1 || typeof state.daemon?.pid !== 'number')
    throw new LocalAccountStateInvalid(file, 'no version 1 or no daemon pid');
  return state;
}

/** `exclusive`: fails with EEXIST when the file exists (a second `local start`). */
export function writeAccountState(home: string, state: LocalAccountState, options: { readonly exclusive?: boolean } = {}): void {
  const file = accountPaths(home).state;
  const text = `${JSON.stringify(state, null, 2)}\n`;
  if (options.exclusive) {
    writeFileSync(file, text, { flag: 'wx' });
    return;
  }
  // A command reading it never sees half of it.
  writeFileWhole(file, text);
}

export function removeAccountState(home: string): void {
  rmSync(accountPaths(home).state, { force: true });
}

/**
 * Whether `pid` is a live process (a zombie is not: it has exited, its parent has not reaped it),
 * and, where /proc tells, whether its command line holds `marker` (a PID the system gave to another
 * program since is not ours).
 */
export function processAlive(pid: number, marker?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const proc = `/proc/${pid}`;
  if (!existsSync(proc)) return true;
  try {
    const stat = readFileSync(`${proc}/stat`, 'utf8');
    // Field 3, after the parenthesised command name: the state letter.
    if (/\)\s+Z\s/.test(stat)) return false;
    if (marker !== undefined && !readFileSync(`${proc}/cmdline`, 'utf8').includes(marker)) return false;
  } catch {
    // Gone between the checks.
    return false;
  }
  return true;
}
