import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
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
    // A curl that records its call and writes FAKE_DOWNLOAD's file, or else one whose checksum matches nothing pinned.
    writeFileSync(join(bin, 'curl'), `#!/bin/bash\necho "$@" >> "${bin}/curl.calls"\nwhile [[ $# -gt 0 ]]; do if [[ $1 == --output ]]; then if [[ -n "\${FAKE_DOWNLOAD:-}" ]]; then cp "\${FAKE_DOWNLOAD}" "$2"; else echo tampered > "$2"; fi; fi; shift; done\n`);
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

  /** tools.env as shipped but with kops's line set to `sha`, and a "release" of kops that reports the pinned version. */
  function kopsRelease(toolsEnvSha: string): { toolsEnv: string; download: string; sha: string } {
    const toolsEnv = join(bin, 'tools.env');
    writeFileSync(toolsEnv, readFileSync(TOOLS_ENV, 'utf8').replace(/^KOPS_SHA256_LINUX_AMD64=.*$/m, `KOPS_SHA256_LINUX_AMD64=${toolsEnvSha}`));
    const download = join(bin, 'kops-linux-amd64');
    const body = `#!/bin/bash\n[[ "$1 $2" == "version --short" ]] && echo v${pinned('KOPS_VERSION')}\n`;
    writeFileSync(download, body);
    return { toolsEnv, download, sha: createHash('sha256').update(body).digest('hex') };
  }
  const curlCalls = (): string => (existsSync(join(bin, 'curl.calls')) ? readFileSync(join(bin, 'curl.calls'), 'utf8') : '');

  test('GIVEN KOPS_SHA256 from the stack and tools.env unpinned WHEN kops is installed THEN the download is verified against KOPS_SHA256 and installed', () => {
    const release = kopsRelease('unknown');
    const result = run(['kops'], { TOOLS_ENV: release.toolsEnv, FAKE_DOWNLOAD: release.download, KOPS_SHA256: release.sha });
    expect(result.output).toContain('kops checksum from KOPS_SHA256');
    expect(result.output).toContain(`kops ${pinned('KOPS_VERSION')} installed`);
    expect(result.status).toBe(0);
    expect(curlCalls()).toContain(`https://github.com/kubernetes/kops/releases/download/v${pinned('KOPS_VERSION')}/kops-linux-amd64`);
  });

  test('fails when KOPS_SHA256 differs from the download, even though tools.env pins the right one: KOPS_SHA256 wins', () => {
    const release = kopsRelease('unknown');
    const other = createHash('sha256').update('another file').digest('hex');
    writeFileSync(release.toolsEnv, readFileSync(release.toolsEnv, 'utf8').replace(/^KOPS_SHA256_LINUX_AMD64=.*$/m, `KOPS_SHA256_LINUX_AMD64=${release.sha}`));
    const result = run(['kops'], { TOOLS_ENV: release.toolsEnv, FAKE_DOWNLOAD: release.download, KOPS_SHA256: other });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(`SHA-256 of https://github.com/kubernetes/kops/releases/download/v${pinned('KOPS_VERSION')}/kops-linux-amd64 is not the pinned ${other}`);
    expect(existsSync(join(bin, 'kops'))).toBe(false);
  });

  test.each([
    ['not hex', 'z'.repeat(64)],
    ['63 characters', 'a'.repeat(63)],
    ['upper case', 'A'.repeat(64)],
    ['empty', ''],
  ])('fails when KOPS_SHA256 is malformed (%s), before downloading anything', (_case, value) => {
    const release = kopsRelease('unknown');
    const result = run(['kops'], { TOOLS_ENV: release.toolsEnv, FAKE_DOWNLOAD: release.download, KOPS_SHA256: value });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(
      `[install-tools.sh] ERROR: KOPS_SHA256 must be the 64 lowercase hex characters of kops ${pinned('KOPS_VERSION')}'s SHA-256 (https://github.com/kubernetes/kops/releases/download/v${pinned('KOPS_VERSION')}/kops-linux-amd64.sha256); got '${value}'`,
    );
    expect(curlCalls()).toBe('');
  });

  test('fails when neither KOPS_SHA256 nor tools.env pins kops, naming the context key that fixes it', () => {
    const release = kopsRelease('unknown');
    const result = run(['kops'], { TOOLS_ENV: release.toolsEnv, FAKE_DOWNLOAD: release.download });
    expect(result.status).not.toBe(0);
    const version = pinned('KOPS_VERSION');
    expect(result.output).toContain(
      `no SHA-256 pinned for https://github.com/kubernetes/kops/releases/download/v${version}/kops-linux-amd64 (got 'unknown'); refusing to download. ` +
        `Give the cluster job kops's checksum: deploy with -c fabricctl:kopsSha256=<the value in https://github.com/kubernetes/kops/releases/download/v${version}/kops-linux-amd64.sha256> (it arrives as KOPS_SHA256)`,
    );
    expect(curlCalls()).toBe('');
  });

  test('fails when asked for a tool it does not pin', () => {
    const result = run(['helm']);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("unknown tool 'helm'");
  });
});
