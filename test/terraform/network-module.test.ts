import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mirrorCliConfig, TERRAFORM_SKIP_REASON } from '../support/terraform';

const ROOT_CONFIG = resolve(__dirname, '../../terraform');

if (TERRAFORM_SKIP_REASON) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED: Terraform module tests: ${TERRAFORM_SKIP_REASON}.`);
}
const describeWithTerraform = TERRAFORM_SKIP_REASON ? describe.skip : describe;

describeWithTerraform('terraform/network module (offline, real Terraform)', () => {
  let work: string;
  let env: NodeJS.ProcessEnv;

  function terraform(dir: string, ...args: string[]): { status: number | null; output: string } {
    const result = spawnSync('terraform', [`-chdir=${dir}`, ...args], { env, encoding: 'utf8', timeout: 120000 });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  beforeAll(() => {
    // A copy, so .terraform/ and lock files never land in the source tree.
    work = mkdtempSync(join(tmpdir(), 'network-module-'));
    cpSync(ROOT_CONFIG, work, { recursive: true, filter: (src) => !src.includes('.terraform') });
    env = { ...process.env, TF_CLI_CONFIG_FILE: mirrorCliConfig(), TF_IN_AUTOMATION: '1', NO_COLOR: '1' };
    delete env.AWS_ENDPOINT_URL;
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('GIVEN the module and the root configuration WHEN terraform fmt -check runs THEN nothing needs formatting', () => {
    for (const dir of ['network', 'fabric-network']) {
      const result = terraform(join(ROOT_CONFIG, dir), 'fmt', '-check', '-recursive', '-no-color');
      expect(result.output).toBe('');
      expect(result.status).toBe(0);
    }
  });

  test('GIVEN the provider mirror WHEN the module is initialised without a backend and validated THEN it is valid', () => {
    const dir = join(work, 'network');
    const init = terraform(dir, 'init', '-backend=false', '-input=false', '-no-color');
    expect(init.status).toBe(0);
    const validate = terraform(dir, 'validate', '-no-color');
    expect(validate.output).toContain('Success! The configuration is valid.');
    expect(validate.status).toBe(0);
  });

  test('GIVEN the module tests with a mock AWS provider WHEN terraform test runs THEN every run passes', () => {
    const dir = join(work, 'network');
    expect(terraform(dir, 'init', '-backend=false', '-input=false', '-no-color').status).toBe(0);
    const result = terraform(dir, 'test', '-no-color');
    expect(result.output).toMatch(/Success! \d+ passed, 0 failed\./);
    expect(result.status).toBe(0);
  });

  test('GIVEN the job root configuration WHEN it is initialised without a backend and validated THEN it is valid', () => {
    const dir = join(work, 'fabric-network');
    expect(terraform(dir, 'init', '-backend=false', '-input=false', '-no-color').status).toBe(0);
    const validate = terraform(dir, 'validate', '-no-color');
    expect(validate.output).toContain('Success! The configuration is valid.');
    expect(validate.status).toBe(0);
  });
});
