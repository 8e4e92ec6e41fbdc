import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SCRIPT = resolve(__dirname, '../../buildspecs/scripts/install-tools.sh');
const TOOLS_ENV = resolve(__dirname, '../../buildspecs/tools.env');

/** install-tools.sh with fake terraform/kops/curl on PATH: nothing is downloaded for real. */
describe('install-tools.sh', () => {
  let bin: string;
  beforeEach(() => {
    bin = mkdtempSync(join(tmpdir(), 'install-tools-'));
    // A curl that records its call and writes a file whose checksum matches nothing pinned.
    writeFileSync(join(bin, 'curl'), `#!/bin/bash\necho "$@" >> "${bin}/curl.calls"\nwhile [[ $# -gt 0 ]]; do if [[ $1 == --output ]]; then echo tampered > "$2"; fi; shift; done\n`);
    chmodSync(join(bin, 'curl'), 0o755);
  });
  afterEach(() => rmSync(bin, { recursive: true, force: true }));

  const pinned = (name: string): string => new RegExp(`^${name}=(.*)$`, 'm').exec(readFileSync(TOOLS_ENV, 'utf8'))?.[1] ?? '';
  function fakeTerraform(version: string): void {
    writeFileSync(join(bin, 'terraform'), `#!/bin/bash\necho '{"terraform_version":"${version}"}'\n`);
    chmodSync(join(bin, 'terraform'), 0o755);
  }
  function run(tools: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; output: string } {
    const result = spawnSync('bash', [SCRIPT, ...tools], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:/usr/bin:/bin`, TOOLS_BIN_DIR: bin, ...env },
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  test('GIVEN tools.env WHEN it is read THEN terraform is pinned to a version and a 64-hex SHA-256', () => {
    expect(pinned('TERRAFORM_VERSION')).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pinned('TERRAFORM_SHA256_LINUX_AMD64')).toMatch(/^[0-9a-f]{64}$/);
  });

  test('GIVEN the pinned terraform already on PATH WHEN terraform is installed THEN nothing is downloaded', () => {
    fakeTerraform(pinned('TERRAFORM_VERSION'));
    const result = run(['terraform']);
    expect(result.output).toContain('already on PATH');
    expect(result.status).toBe(0);
    expect(existsSync(join(bin, 'curl.calls'))).toBe(false);
  });

  test('fails when the download does not match the pinned SHA-256, and installs nothing', () => {
    fakeTerraform('0.0.1');
    const result = run(['terraform']);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('is not the pinned');
    expect(readFileSync(join(bin, 'terraform'), 'utf8')).toContain('0.0.1');
  });

  test('fails when no checksum is pinned, before downloading anything', () => {
    const env = join(bin, 'tools.env');
    writeFileSync(env, readFileSync(TOOLS_ENV, 'utf8').replace(/^KOPS_SHA256_LINUX_AMD64=.*$/m, 'KOPS_SHA256_LINUX_AMD64=unknown'));
    const result = run(['kops'], { TOOLS_ENV: env });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('no SHA-256 pinned');
    expect(existsSync(join(bin, 'curl.calls'))).toBe(false);
  });

  test('fails when asked for a tool it does not pin', () => {
    const result = run(['helm']);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("unknown tool 'helm'");
  });
});
