import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PROVIDER_MIRROR, findProviderMirror } from '../../lib/local/environment';

/**
 * Whether the real Terraform and the AWS provider mirror are on this machine. Tests that need them
 * skip, and say why, when they are not (Terraform is not installable from any registry here).
 */
export const TF_PLUGIN_MIRROR = findProviderMirror() ?? process.env.TF_PLUGIN_MIRROR ?? DEFAULT_PROVIDER_MIRROR;

function terraformProblem(): string | undefined {
  if (spawnSync('terraform', ['version'], { stdio: 'ignore', env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null' } }).status !== 0) {
    return 'terraform is not on PATH';
  }
  if (!existsSync(join(TF_PLUGIN_MIRROR, 'registry.terraform.io', 'hashicorp', 'aws'))) {
    return `no hashicorp/aws provider mirror at ${TF_PLUGIN_MIRROR} (set TF_PLUGIN_MIRROR to the folder holding registry.terraform.io/)`;
  }
  return undefined;
}

export const TERRAFORM_SKIP_REASON = terraformProblem();

/** A CLI config that installs providers from the mirror only (offline). */
export function mirrorCliConfig(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tf-cli-')), 'terraform.rc');
  writeFileSync(
    file,
    `provider_installation {\n  filesystem_mirror {\n    path    = "${TF_PLUGIN_MIRROR}"\n` +
      `    include = ["registry.terraform.io/*/*"]\n  }\n}\n`,
  );
  return file;
}
