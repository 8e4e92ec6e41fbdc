import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { toolsEnvValue } from '../../lib/local/prerequisites';
import { stopChild } from '../../lib/local/stop-child';
import { TF_PLUGIN_MIRROR } from './terraform';

/**
 * One AWS provider process for all the Terraform commands of a test file, attached through
 * Terraform's TF_REATTACH_PROVIDERS (the provider's `-debug` mode).
 *
 * Why: without it every Terraform command starts the 675 MB provider three or four times, and on
 * these 2 cores Terraform is most of the workflow suites' CPU. Against moto, a plan of the network
 * module took 2.9 CPU-s with its own provider processes and 1.7 CPU-s attached to a running one.
 *
 * What it changes, and where that is still tested the cloud's way:
 * - Terraform neither installs this provider nor checks it against the jobs' lock file. The first
 *   runs of the network job's suite (its failed apply and the run that continues from it,
 *   test/jobs/network-job.test.ts), the cluster job's first provisioning (test/jobs/cluster-job.test.ts)
 *   and `npm run demo` run it as CodeBuild does, lock file and all (providerAfterOwnRuns);
 *   test/jobs/aws-provider.test.ts checks the package against the lock file.
 * - The provider reads its environment once, when it starts: so it is started after the file's
 *   emulator, with the same endpoint and credentials the builds get.
 */
export const REATTACH_ENV = 'TF_REATTACH_PROVIDERS';

export interface SharedAwsProvider {
  readonly pid: number;
  /** Stops the provider by its PID and takes TF_REATTACH_PROVIDERS out of process.env. */
  stop(): Promise<void>;
}

/** The locked provider's executable in the machine's (unpacked) mirror, if it holds one. */
export function mirroredProviderBinary(): string | undefined {
  const version = toolsEnvValue('TERRAFORM_AWS_PROVIDER_VERSION');
  const binary = join(
    TF_PLUGIN_MIRROR,
    'registry.terraform.io',
    'hashicorp',
    'aws',
    version,
    'linux_amd64',
    `terraform-provider-aws_v${version}_x5`,
  );
  return existsSync(binary) ? binary : undefined;
}

/** A job suite's provider: its first runs start their own, as CodeBuild does; the later ones share one. */
export interface ProviderAfterOwnRuns {
  /** Call before each run: from run `ownRuns + 1` on, the runs' Terraform uses one attached provider. */
  beforeRun(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * For a job suite whose runs build on each other: the first `ownRuns` runs install the provider from
 * the mirror and check it against the lock file, as CodeBuild does; the later runs, which test what
 * the job does rather than how Terraform gets its provider, share one (the network job's suite: 50
 * CPU-s with its own providers in every run, 34 sharing one after its first two runs, 2026-12-02).
 */
export function providerAfterOwnRuns(ownRuns: number): ProviderAfterOwnRuns {
  let runs = 0;
  let provider: SharedAwsProvider | undefined;
  return {
    beforeRun: async () => {
      // Attached once, before the first run past `ownRuns` (without an unpacked mirror, never).
      if (runs === ownRuns) provider = await attachSharedAwsProvider();
      runs += 1;
    },
    stop: async () => {
      await provider?.stop();
      provider = undefined;
    },
  };
}

/**
 * Starts the provider with this process's environment (call it once the emulator's endpoint and
 * credentials are in process.env) and points the builds' Terraform at it. Without an unpacked mirror
 * it returns undefined and Terraform starts its own providers, as in the jobs.
 */
export async function attachSharedAwsProvider(timeoutMs = 60_000): Promise<SharedAwsProvider | undefined> {
  const binary = mirroredProviderBinary();
  if (binary === undefined) return undefined;
  // AWS_CA_BUNDLE: the provider adds the bundle to its HTTP client when configured, and a second
  // configuration of the same process then fails ("unable to add custom RootCAs HTTPClient"). The
  // emulator speaks plain HTTP, so the bundle has nothing to do here.
  const { AWS_CA_BUNDLE: _unused, [REATTACH_ENV]: _earlier, ...env } = process.env;
  // Served this way, the provider's SDK logs every request at trace level on stderr (4 MB for three
  // plans): Terraform sets the level only for the providers it starts.
  const quietSdk = { TF_LOG_SDK: 'off', TF_LOG_SDK_PROTO: 'off', TF_LOG_SDK_FRAMEWORK: 'off', TF_LOG_SDK_MUX: 'off' };
  const child = spawn(binary, ['-debug'], { env: { ...env, ...quietSdk, GOGC: '400' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderrTail = '';
  child.stderr?.on('data', (d: Buffer) => (stderrTail = (stderrTail + d.toString()).slice(-2000)));
  const reattach = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the AWS provider printed no reattach line within ${timeoutMs} ms`)), timeoutMs);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      // Read to the end, not only to this line: a provider whose stdout pipe fills up would block.
      const value = /TF_REATTACH_PROVIDERS='(.*)'/.exec(line)?.[1];
      if (value === undefined) return;
      clearTimeout(timer);
      resolve(value);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the AWS provider exited (${String(code)}) before serving: ${stderrTail.slice(-500)}`));
    });
  }).catch(async (error: unknown) => {
    await stopChild(child);
    throw error;
  });
  process.env[REATTACH_ENV] = reattach;
  return {
    pid: child.pid!,
    stop: async () => {
      if (process.env[REATTACH_ENV] === reattach) delete process.env[REATTACH_ENV];
      await stopChild(child);
    },
  };
}
