import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../../lib/local/account/home';
import { describeWithMoto, useMoto } from './moto';
import { attachSharedAwsProvider, mirroredProviderBinary, REATTACH_ENV } from './shared-provider';
import { TERRAFORM_SKIP_REASON } from './terraform';

const skipReason =
  TERRAFORM_SKIP_REASON ??
  (mirroredProviderBinary() === undefined ? 'the provider mirror holds no unpacked build of the locked hashicorp/aws' : undefined);
if (skipReason) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED: the shared AWS provider of the workflow suites is not checked: ${skipReason}.`);
}

(skipReason ? describe.skip : describeWithMoto)('the shared AWS provider (test support)', () => {
  useMoto();
  const CONFIG = [
    'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}',
    'provider "aws" {\n  region                      = "us-east-2"\n  skip_credentials_validation = true\n' +
      '  skip_requesting_account_id  = true\n  skip_metadata_api_check     = true\n}',
    'data "aws_region" "current" {}',
    'output "region" {\n  value = data.aws_region.current.name\n}',
  ].join('\n\n');

  test(
    'GIVEN no provider installed and no mirror configured WHEN Terraform runs with the attached one THEN it uses that process; ' +
      'stop ends it and unsets TF_REATTACH_PROVIDERS',
    async () => {
      const provider = await attachSharedAwsProvider();
      const dir = mkdtempSync(join(tmpdir(), 'shared-provider-'));
      try {
        expect(provider).toBeDefined();
        const reattach = JSON.parse(process.env[REATTACH_ENV] ?? '{}') as Record<string, { Pid?: number; Addr?: { Network?: string } }>;
        expect(reattach['registry.terraform.io/hashicorp/aws']).toMatchObject({ Pid: provider?.pid, Addr: { Network: 'unix' } });
        writeFileSync(join(dir, 'main.tf'), `${CONFIG}\n`);
        // No CLI config and no network: only the attached provider can serve hashicorp/aws.
        const env = { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1' };
        const terraform = (...args: string[]) => spawnSync('terraform', [`-chdir=${dir}`, ...args], { encoding: 'utf8', env });
        const init = terraform('init', '-input=false', '-no-color');
        expect({ status: init.status, stderr: init.stderr }).toEqual({ status: 0, stderr: '' });
        const apply = terraform('apply', '-auto-approve', '-input=false', '-no-color');
        expect({ status: apply.status, stderr: apply.stderr }).toEqual({ status: 0, stderr: '' });
        expect(terraform('output', '-raw', 'region').stdout).toBe('us-east-2');
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await provider?.stop();
      }
      expect(processAlive(provider?.pid ?? 0)).toBe(false);
      expect(process.env[REATTACH_ENV]).toBeUndefined();
    },
  );
});
