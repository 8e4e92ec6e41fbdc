/** One bash session for the whole build, driven command by command, as CodeBuild runs its phases. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export function lines(stream: Readable, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      let index = pending.indexOf('\n');
      while (index >= 0) {
        onLine(pending.slice(0, index));
        pending = pending.slice(index + 1);
        index = pending.indexOf('\n');
      }
    });
    stream.on('end', () => {
      if (pending !== '') onLine(pending);
      resolve();
    });
  });
}

/**
 * The shell reads driver lines on stdin; every command is a file sourced in the session with
 * stdin from /dev/null (so no command can eat the driver's input) and its status reported on fd 3.
 */
export class ShellSession {
  private readonly child;
  private readonly statusWaiters: ((line: string | undefined) => void)[] = [];
  private readonly statusLines: string[] = [];
  private exited = false;
  private counter = 0;
  readonly closed: Promise<void>;

  constructor(
    cwd: string,
    env: NodeJS.ProcessEnv,
    private readonly scratch: string,
    log: (line: string) => void,
  ) {
    this.child = spawn('bash', ['--noprofile', '--norc'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe', 'pipe'], detached: true });
    const control = this.child.stdio[3] as Readable;
    const outputs = Promise.all([lines(this.child.stdout, log), lines(this.child.stderr, log)]);
    void lines(control, (line) => {
      const waiter = this.statusWaiters.shift();
      if (waiter) waiter(line);
      else this.statusLines.push(line);
    });
    this.closed = new Promise((resolve) => {
      this.child.on('close', () => {
        this.exited = true;
        for (const waiter of this.statusWaiters.splice(0)) waiter(undefined);
        void outputs.then(() => resolve());
      });
    });
    this.child.stdin.on('error', () => undefined);
  }

  get alive(): boolean {
    return !this.exited;
  }

  private nextControlLine(): Promise<string | undefined> {
    const ready = this.statusLines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.exited) return Promise.resolve(undefined);
    return new Promise((resolve) => this.statusWaiters.push(resolve));
  }

  /** Runs one command in the session; resolves to its exit status, or undefined if the shell is gone. */
  async run(command: string): Promise<number | undefined> {
    if (this.exited) return undefined;
    const file = join(this.scratch, `command-${++this.counter}.sh`);
    writeFileSync(file, `${command}\n`);
    this.child.stdin.write(`. '${file}' </dev/null 3>&-; printf '%s\\n' "$?" >&3\n`);
    const line = await this.nextControlLine();
    return line === undefined ? undefined : Number(line);
  }

  /** Reads variables from the session (base64, so values may hold newlines). */
  async read(names: readonly string[]): Promise<{ Name: string; Value: string }[]> {
    const found: { Name: string; Value: string }[] = [];
    for (const name of names) {
      if (this.exited) break;
      this.child.stdin.write(
        `if [[ -v ${name} ]]; then printf 'set %s\\n' "$(printf '%s' "\${${name}}" | base64 -w0)" >&3; else printf 'unset\\n' >&3; fi\n`,
      );
      const line = await this.nextControlLine();
      if (line?.startsWith('set ')) found.push({ Name: name, Value: Buffer.from(line.slice(4), 'base64').toString('utf8') });
    }
    return found;
  }

  async close(): Promise<void> {
    if (!this.exited) this.child.stdin.end('exit 0\n');
    await this.closed;
  }

  kill(): void {
    const pid = this.child.pid;
    if (pid !== undefined && !this.exited) {
      try {
        process.kill(-pid, 'SIGKILL'); // the session's own process group: bash and what it started
      } catch {
        // already gone
      }
    }
  }
}
