import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FabricError, Problem } from '../domain/errors';

/**
 * What local mode needs on this machine, checked before anything starts (no emulator, no synth):
 * its build jobs run the real buildspec scripts here, so the tools they call must be here.
 *
 * Platforms, as decided from what breaks:
 * - Linux on amd64 and arm64: supported. Nothing in local mode is amd64-only: the kops stand-in is
 *   TypeScript, moto is Python, Terraform and the AWS provider publish linux_arm64 builds, and local
 *   builds use the terraform on PATH (TERRAFORM_ACCEPT_INSTALLED) instead of downloading the pinned
 *   amd64 one. A provider mirror (TF_PLUGIN_MIRROR, /opt/tf-plugins) must hold this platform's build.
 * - macOS: refused. The build scripts need GNU bash 4+ (cluster.sh uses `mapfile`; macOS's
 *   /bin/bash is 3.2) and GNU coreutils (`sha256sum` in lib.sh), and they have never run there.
 * - Windows: refused (the scripts are bash); WSL2 is Linux.
 * The cloud commands (no --local) need Node.js only and run anywhere.
 */

/** What the checks may ask of the machine, injected so tests decide the platform and the answers. */
export interface SystemProbe {
  readonly platform: NodeJS.Platform;
  readonly arch: string;
  /** Runs a program; undefined when it cannot be started (not on PATH). */
  run(command: string, args: readonly string[]): { readonly status: number | null; readonly stdout: string } | undefined;
  motoInstalled(): boolean;
  /** The Terraform provider mirror local builds would use (lib/local/environment.ts), if any. */
  providerMirror(): string | undefined;
  /** Entries of a folder; empty when it does not exist or is not a folder. */
  list(path: string): string[];
}

export interface PrerequisiteOptions {
  /** `--aws`: real AWS, no emulator to start. */
  readonly aws?: boolean;
  /** `--endpoint`: an emulator already running elsewhere. */
  readonly endpoint?: string;
}

/** Local mode cannot run on this operating system or architecture; nothing was started. */
export class LocalPlatformUnsupported extends FabricError {
  constructor(platform: string, arch: string, why: string) {
    super('LocalPlatformUnsupported', `local mode runs on Linux (amd64 or arm64); this machine is ${platform}/${arch}. ${why}`);
  }
}

/** Tools local mode needs are missing or too old; each comes with how to get it. Nothing was started. */
export class LocalPrerequisitesMissing extends FabricError {
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[]) {
    // Short: the CLI prints `problems` under it (field, what was found, the fix), as for a spec.
    super('LocalPrerequisitesMissing', `local mode needs ${problems.map((p) => p.field).join(', ')} on this machine; nothing was started`);
    this.problems = problems;
  }
}

const TOOLS_ENV = join(__dirname, '..', '..', 'buildspecs', 'tools.env');

/** A NAME=value of buildspecs/tools.env: the same pins the build scripts read. */
export function toolsEnvValue(name: string, text: string = readFileSync(TOOLS_ENV, 'utf8')): string {
  const value = new RegExp(`^${name}=(.*)$`, 'm').exec(text)?.[1]?.trim();
  if (!value) throw new Error(`${TOOLS_ENV} has no ${name}=`);
  return value;
}

/** True when dotted version `have` is `want` or later (a pre-release suffix is ignored). */
export function versionAtLeast(have: string, want: string): boolean {
  const parts = (v: string) =>
    v
      .replace(/^v/, '')
      .split('-')[0]
      ?.split('.')
      .map((n) => Number(n)) ?? [];
  const [h, w] = [parts(have), parts(want)];
  for (let i = 0; i < 3; i += 1) {
    const a = h[i] ?? 0;
    const b = w[i] ?? 0;
    if (!Number.isInteger(a) || !Number.isInteger(b)) return false;
    if (a !== b) return a > b;
  }
  return true;
}

/** Terraform's and Go's name of the architecture. */
function goArch(arch: string): string {
  return arch === 'x64' ? 'amd64' : arch;
}

function platformProblem(probe: SystemProbe): LocalPlatformUnsupported | undefined {
  const { platform, arch } = probe;
  if (platform === 'darwin') {
    return new LocalPlatformUnsupported(
      platform,
      arch,
      'Its build jobs run the buildspec scripts on this machine, and they need GNU bash 4 or later (cluster.sh uses mapfile; ' +
        "macOS's /bin/bash is 3.2) " +
        'and GNU coreutils (sha256sum); they have not been run on macOS. ' +
        'Run local mode in a Linux VM or container (Lima, colima, a Docker container of this repository), ' +
        'or leave out --local: the cloud commands need Node.js only and work from macOS.',
    );
  }
  if (platform === 'win32') {
    return new LocalPlatformUnsupported(
      platform,
      arch,
      'Its build jobs are bash scripts: run fabricctl inside WSL2 (Ubuntu), which is Linux, or leave out --local.',
    );
  }
  if (platform !== 'linux')
    return new LocalPlatformUnsupported(
      platform,
      arch,
      'It has been written for and run on Linux only; leave out --local to use the cloud.',
    );
  if (arch !== 'x64' && arch !== 'arm64') {
    return new LocalPlatformUnsupported(
      platform,
      arch,
      'Terraform and its AWS provider are published for linux amd64 and arm64 (and 32-bit builds local mode does not use); ' +
        'leave out --local to use the cloud.',
    );
  }
  return undefined;
}

function terraformProblem(probe: SystemProbe, minimum: string, pinned: string): Problem | undefined {
  const zip = `https://releases.hashicorp.com/terraform/${pinned}/terraform_${pinned}_linux_${goArch(probe.arch)}.zip`;
  const fix =
    `install terraform ${minimum} or newer: from HashiCorp's apt repository ` +
    `(https://developer.hashicorp.com/terraform/install: ` +
    `add https://apt.releases.hashicorp.com, then apt-get install terraform), ` +
    `or unzip the release ${zip} (checksums in terraform_${pinned}_SHA256SUMS next to it) into a folder on PATH`;
  const result = probe.run('terraform', ['version', '-json']);
  if (result === undefined) return { field: 'terraform', received: 'not on PATH', fix };
  let version: string | undefined;
  try {
    version = (JSON.parse(result.stdout) as { terraform_version?: unknown }).terraform_version as string | undefined;
  } catch {
    version = undefined;
  }
  if (typeof version !== 'string')
    return { field: 'terraform', received: `\`terraform version -json\` printed no version (a Terraform older than 0.13?)`, fix };
  if (!versionAtLeast(version, minimum)) {
    return { field: 'terraform', received: `${version}, older than ${minimum} (the S3 backend's use_lockfile state locking)`, fix };
  }
  return undefined;
}

/**
 * A provider mirror without this platform's build of the locked version makes every `terraform init`
 * fail offline: the jobs' lock file (terraform/fabric-network/.terraform.lock.hcl) pins one version.
 */
function mirrorProblem(probe: SystemProbe): Problem | undefined {
  const mirror = probe.providerMirror();
  if (mirror === undefined) return undefined;
  const platform = `linux_${goArch(probe.arch)}`;
  const version = toolsEnvValue('TERRAFORM_AWS_PROVIDER_VERSION');
  const aws = join(mirror, 'registry.terraform.io', 'hashicorp', 'aws');
  // Unpacked layout: <version>/<os>_<arch>/; packed layout: terraform-provider-aws_<version>_<os>_<arch>.zip.
  const has =
    probe.list(aws).includes(`terraform-provider-aws_${version}_${platform}.zip`) || probe.list(join(aws, version)).includes(platform);
  if (has) return undefined;
  return {
    field: 'terraform provider mirror',
    received: `${mirror} holds no ${platform} build of hashicorp/aws ${version}`,
    fix:
      `point TF_PLUGIN_MIRROR at a mirror that has one ` +
      `(terraform providers mirror -platform=${platform} DIR, run in terraform/fabric-network with internet access: ` +
      `its lock file pins ${version}), ` +
      `or move ${mirror} away so that Terraform downloads the provider from its registry`,
  };
}

/** Every missing prerequisite, with how to get it (empty when local mode can run). Throws for an unsupported platform. */
export function missingLocalPrerequisites(probe: SystemProbe, options: PrerequisiteOptions = {}): Problem[] {
  const platform = platformProblem(probe);
  if (platform) throw platform;
  const problems: Problem[] = [];
  if (!options.aws && options.endpoint === undefined && !probe.motoInstalled()) {
    problems.push({
      field: 'moto_server',
      received: 'no Python with moto[server] (the AWS emulator local mode starts)',
      fix: "pipx install 'moto[server]' (or pip install --user 'moto[server]'), so that moto_server is on PATH",
    });
  }
  const terraform = terraformProblem(probe, toolsEnvValue('TERRAFORM_MIN_VERSION'), toolsEnvValue('TERRAFORM_VERSION'));
  if (terraform) problems.push(terraform);
  if (probe.run('jq', ['--version'])?.status !== 0) {
    problems.push({ field: 'jq', received: 'not on PATH (the build scripts build and read JSON with it)', fix: 'apt-get install jq' });
  }
  if (probe.run('aws', ['--version'])?.status !== 0) {
    problems.push({
      field: 'aws',
      received: 'the AWS CLI is not on PATH (the cluster job reads and writes the state bucket and secrets with it)',
      fix:
        'apt-get install awscli, pipx install awscli, ' +
        'or AWS CLI v2 from https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html',
    });
  }
  if (options.aws) {
    // The cluster job runs the kops on PATH only at the pinned version; any other it would download,
    // and local runs have no checksum to verify that with: it would fail after the network exists.
    const pinned = toolsEnvValue('KOPS_VERSION');
    const found = probe.run('kops', ['version', '--short']);
    const version = found?.status === 0 ? found.stdout.trim().replace(/^v/, '') : undefined;
    if (version !== pinned) {
      problems.push({
        field: 'kops',
        received:
          version === undefined ? 'not on PATH (--aws runs the real kops here)' : `${version}, not the ${pinned} the cluster job runs`,
        fix:
          `install kops ${pinned}: ` +
          `https://github.com/kubernetes/kops/releases/download/v${pinned}/kops-linux-${goArch(probe.arch)} ` +
          `(check it against the .sha256 beside it), as kops on PATH`,
      });
    }
  }
  const mirror = mirrorProblem(probe);
  if (mirror) problems.push(mirror);
  return problems;
}

/** Throws LocalPlatformUnsupported or LocalPrerequisitesMissing; returns when local mode can run. */
export function assertLocalPrerequisites(options: PrerequisiteOptions = {}, probe: SystemProbe = systemProbe()): void {
  const problems = missingLocalPrerequisites(probe, options);
  if (problems.length > 0) throw new LocalPrerequisitesMissing(problems);
}

/** This machine. */
export function systemProbe(): SystemProbe {
  return {
    platform: process.platform,
    arch: process.arch,
    run(command, args) {
      const result = spawnSync(command, [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      return result.error ? undefined : { status: result.status, stdout: result.stdout };
    },
    motoInstalled() {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return (require('./moto') as typeof import('./moto')).motoInstalled();
    },
    providerMirror() {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return (require('./environment') as typeof import('./environment')).findProviderMirror();
    },
    list(path) {
      try {
        return readdirSync(path);
      } catch {
        // missing, or a file (a packed provider zip)
        return [];
      }
    },
  };
}
