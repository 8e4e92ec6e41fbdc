import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sdkClients } from '../../lib/cli/aws';
import type { CliDeps } from '../../lib/cli/commands';
import { main } from '../../lib/cli/main';

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs the whole CLI in process with captured output, a fixed clock and no TTY. */
export async function runCli(
  argv: string[],
  overrides: Partial<CliDeps> & { cwd?: string; env?: NodeJS.ProcessEnv; isTTY?: boolean; now?: () => Date } = {},
): Promise<CliRun> {
  let out = '';
  let err = '';
  const { cwd, env, isTTY, now, ...deps } = overrides;
  const code = await main(argv, {
    io: {
      out: (s) => {
        out += s;
      },
      err: (s) => {
        err += s;
      },
      isTTY: isTTY ?? false,
      env: env ?? { AWS_REGION: 'us-east-2' },
      cwd: cwd ?? tempDir(),
      now: now ?? (() => new Date('2026-11-26T12:00:00Z')),
    },
    clients: sdkClients,
    git: () => undefined,
    pollMs: 1,
    sleep: async () => undefined,
    // This machine's tools are not what a CLI test is about; prerequisites.test.ts checks them with fakes.
    checkLocalPrerequisites: () => undefined,
    ...deps,
  });
  return { code, out, err };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'fabricctl-cli-'));
}
