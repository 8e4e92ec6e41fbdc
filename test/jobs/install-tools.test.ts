import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { AWS_CLI, describeWithToolsCache } from '../support/tools-cache';
import { zipOf } from '../support/zip';

const SCRIPT = resolve(__dirname, '../../buildspecs/scripts/install-tools.sh');
const TOOLS_ENV = resolve(__dirname, '../../buildspecs/tools.env');

/** Name, size and modification time of every entry of a folder: what "untouched" is checked against. */
function snapshot(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const s = lstatSync(join(dir, name));
      return `${name} ${s.size} ${s.mtimeMs}`;
    });
}

/**
 * install-tools.sh with fake terraform/kops/curl on PATH: nothing is downloaded for real. `bin` plays
 * the user's own tools folder (/usr/local/bin); the script installs into `tools` (FABRICCTL_TOOLS_DIR).
 */
describe('install-tools.sh', () => {
  let bin: string;
  let tools: string;
  beforeEach(() => {
    bin = mkdtempSync(join(tmpdir(), 'install-tools-'));
    tools = join(bin, 'tools');
    // A curl that records its call and writes FAKE_DOWNLOAD's file, or else one whose checksum matches nothing pinned.
    writeFileSync(
      join(bin, 'curl'),
      `#!/bin/bash\necho "$@" >> "${bin}/curl.calls"\n` +
        `while [[ $# -gt 0 ]]; do if [[ $1 == --output ]]; then ` +
        `if [[ -n "\${FAKE_DOWNLOAD:-}" ]]; then cp "\${FAKE_DOWNLOAD}" "$2"; else echo tampered > "$2"; fi; fi; shift; done\n`,
    );
    chmodSync(join(bin, 'curl'), 0o755);
  });
  afterEach(() => rmSync(bin, { recursive: true, force: true }));

  const pinned = (name: string): string => new RegExp(`^${name}=(.*)$`, 'm').exec(readFileSync(TOOLS_ENV, 'utf8'))?.[1] ?? '';
  function fakeTerraform(version: string): void {
    writeFileSync(join(bin, 'terraform'), `#!/bin/bash\necho '{"terraform_version":"${version}"}'\n`);
    chmodSync(join(bin, 'terraform'), 0o755);
  }
  function run(wanted: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; output: string } {
    const result = spawnSync('bash', [SCRIPT, ...wanted], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:/usr/bin:/bin`, FABRICCTL_TOOLS_DIR: tools, TERRAFORM_ACCEPT_INSTALLED: undefined, ...env },
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
    expect(existsSync(join(tools, 'bin', 'terraform'))).toBe(false);
    // The scratch folder of the failed download is gone too.
    expect(readdirSync(tools)).toEqual(['bin']);
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
    writeFileSync(
      toolsEnv,
      readFileSync(TOOLS_ENV, 'utf8').replace(/^KOPS_SHA256_LINUX_AMD64=.*$/m, `KOPS_SHA256_LINUX_AMD64=${toolsEnvSha}`),
    );
    const download = join(bin, 'kops-linux-amd64');
    const body = `#!/bin/bash\n[[ "$1 $2" == "version --short" ]] && echo v${pinned('KOPS_VERSION')}\n`;
    writeFileSync(download, body);
    return { toolsEnv, download, sha: createHash('sha256').update(body).digest('hex') };
  }
  const curlCalls = (): string => (existsSync(join(bin, 'curl.calls')) ? readFileSync(join(bin, 'curl.calls'), 'utf8') : '');

  test('GIVEN KOPS_SHA256 from the stack, tools.env unpinned WHEN kops is installed THEN it is checked against KOPS_SHA256', () => {
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
    writeFileSync(
      release.toolsEnv,
      readFileSync(release.toolsEnv, 'utf8').replace(/^KOPS_SHA256_LINUX_AMD64=.*$/m, `KOPS_SHA256_LINUX_AMD64=${release.sha}`),
    );
    const result = run(['kops'], { TOOLS_ENV: release.toolsEnv, FAKE_DOWNLOAD: release.download, KOPS_SHA256: other });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(
      `SHA-256 of https://github.com/kubernetes/kops/releases/download/v${pinned('KOPS_VERSION')}/kops-linux-amd64 ` +
        `is not the pinned ${other}`,
    );
    expect(existsSync(join(tools, 'bin', 'kops'))).toBe(false);
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
      `[install-tools.sh] ERROR: KOPS_SHA256 must be the 64 lowercase hex characters of kops ${pinned('KOPS_VERSION')}'s SHA-256 ` +
        `(https://github.com/kubernetes/kops/releases/download/v${pinned('KOPS_VERSION')}/kops-linux-amd64.sha256); ` +
        `got '${value}'`,
    );
    expect(curlCalls()).toBe('');
  });

  test('fails when neither KOPS_SHA256 nor tools.env pins kops, naming the context key that fixes it', () => {
    const release = kopsRelease('unknown');
    const result = run(['kops'], { TOOLS_ENV: release.toolsEnv, FAKE_DOWNLOAD: release.download });
    expect(result.status).not.toBe(0);
    const version = pinned('KOPS_VERSION');
    expect(result.output).toContain(
      `no SHA-256 pinned for https://github.com/kubernetes/kops/releases/download/v${version}/kops-linux-amd64 (got 'unknown'); ` +
        `refusing to download. ` +
        `Give the cluster job kops's checksum: ` +
        `deploy with -c fabricctl:kopsSha256=<the value in ` +
        `https://github.com/kubernetes/kops/releases/download/v${version}/kops-linux-amd64.sha256> ` +
        `(it arrives as KOPS_SHA256)`,
    );
    expect(curlCalls()).toBe('');
  });

  test('fails when asked for a tool it does not pin', () => {
    const result = run(['helm']);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("unknown tool 'helm'");
  });
  /** tools.env as shipped but pinning terraform to a "release" zip whose terraform reports the pinned version. */
  function terraformRelease(): { toolsEnv: string; download: string } {
    const version = pinned('TERRAFORM_VERSION');
    const zip = zipOf('terraform', `#!/bin/bash\necho '{"terraform_version":"${version}"}'\n`);
    const download = join(bin, 'terraform.zip');
    writeFileSync(download, zip);
    const toolsEnv = join(bin, 'tools.env');
    writeFileSync(
      toolsEnv,
      readFileSync(TOOLS_ENV, 'utf8').replace(
        /^TERRAFORM_SHA256_LINUX_AMD64=.*$/m,
        `TERRAFORM_SHA256_LINUX_AMD64=${createHash('sha256').update(zip).digest('hex')}`,
      ),
    );
    return { toolsEnv, download };
  }

  test("GIVEN an old terraform on PATH WHEN the pinned one is installed THEN it goes to the tools folder; the user's is untouched", () => {
    fakeTerraform('1.5.7');
    const users = readFileSync(join(bin, 'terraform'), 'utf8');
    const release = terraformRelease();
    const result = run(['terraform'], { TOOLS_ENV: release.toolsEnv, FAKE_DOWNLOAD: release.download });
    expect(result.output).toContain(`terraform ${pinned('TERRAFORM_VERSION')} installed`);
    expect(result.status).toBe(0);
    expect(readFileSync(join(bin, 'terraform'), 'utf8')).toBe(users);
    expect(readFileSync(join(tools, 'bin', 'terraform'), 'utf8')).toContain(pinned('TERRAFORM_VERSION'));
    // Its scratch folder is inside the tools folder, and gone.
    expect(readdirSync(tools)).toEqual(['bin']);
  });

  test('GIVEN no FABRICCTL_TOOLS_DIR WHEN terraform is installed THEN it goes under $TMPDIR/fabricctl-tools, not /usr/local/bin', () => {
    // On a machine where the tests run as root, the script used to write /usr/local/bin/terraform here.
    const before = snapshot('/usr/local/bin');
    const scratch = join(bin, 'tmp');
    mkdirSync(scratch);
    const release = terraformRelease();
    const result = run(['terraform'], {
      TOOLS_ENV: release.toolsEnv,
      FAKE_DOWNLOAD: release.download,
      FABRICCTL_TOOLS_DIR: undefined,
      TMPDIR: scratch,
    });
    expect(result.output).toContain(`installing into ${scratch}/fabricctl-tools/bin`);
    expect(result.status).toBe(0);
    expect(statSync(join(scratch, 'fabricctl-tools', 'bin', 'terraform')).mode & 0o111).not.toBe(0);
    expect(snapshot('/usr/local/bin')).toEqual(before);
  });

  test("GIVEN a terraform in the tools folder WHEN a job script sources lib.sh THEN that one runs, not the user's", () => {
    fakeTerraform('1.5.7');
    mkdirSync(join(tools, 'bin'), { recursive: true });
    writeFileSync(join(tools, 'bin', 'terraform'), '#!/bin/bash\necho ours\n');
    chmodSync(join(tools, 'bin', 'terraform'), 0o755);
    const lib = resolve(__dirname, '../../buildspecs/scripts/lib.sh');
    const result = spawnSync('bash', ['-c', 'source "$1" && command -v terraform', 'job', lib], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:/usr/bin:/bin`, FABRICCTL_TOOLS_DIR: tools },
    });
    expect(result.stdout.trim()).toBe(join(tools, 'bin', 'terraform'));
  });

  test('fails when the tools folder is a link, writing nothing through it', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'install-tools-target-'));
    try {
      symlinkSync(elsewhere, tools);
      fakeTerraform('1.5.7');
      const release = terraformRelease();
      const result = run(['terraform'], { TOOLS_ENV: release.toolsEnv, FAKE_DOWNLOAD: release.download });
      expect(result.status).not.toBe(0);
      expect(result.output).toContain(`${tools} is a link or belongs to another user`);
      expect(readdirSync(elsewhere)).toEqual([]);
      expect(curlCalls()).toBe('');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  test.each([
    ['a newer terraform with TERRAFORM_ACCEPT_INSTALLED=true', '1.13.2', 'true', false],
    ['exactly the minimum with TERRAFORM_ACCEPT_INSTALLED=true', '1.11.0', 'true', false],
    ['an older terraform with TERRAFORM_ACCEPT_INSTALLED=true', '1.10.5', 'true', true],
    ['a newer terraform without TERRAFORM_ACCEPT_INSTALLED', '1.13.2', 'false', true],
  ])(
    'GIVEN %s (terraform %s, TERRAFORM_ACCEPT_INSTALLED=%s) WHEN terraform is installed THEN it downloads the pinned one: %s',
    (_case, version, accept, downloads) => {
      fakeTerraform(version);
      const release = terraformRelease();
      const result = run(['terraform'], {
        TOOLS_ENV: release.toolsEnv,
        FAKE_DOWNLOAD: release.download,
        TERRAFORM_ACCEPT_INSTALLED: accept,
      });
      expect(result.status).toBe(0);
      expect(curlCalls() !== '').toBe(downloads);
      if (!downloads) expect(result.output).toContain(`terraform ${version} on PATH`);
    },
  );
});

/**
 * The tools cache (TOOLS_CACHE_URI): downloads kept in the fabric region's state bucket, named by
 * their pinned SHA-256, with the real AWS CLI against moto. curl stays fake: it records whether the
 * release page was asked.
 */
describeWithToolsCache('install-tools.sh with the tools cache in S3 (moto)', 'the tools cache of install-tools.sh', (cache) => {
  let bin: string;
  const body = '#!/bin/bash\n[[ "$1 $2" == "version --short" ]] && echo v1.36.2\n';
  const sha = createHash('sha256').update(body).digest('hex');

  beforeEach(() => {
    bin = mkdtempSync(join(tmpdir(), 'install-tools-cache-'));
    writeFileSync(join(bin, 'kops-linux-amd64'), body);
    writeFileSync(
      join(bin, 'curl'),
      `#!/bin/bash\necho "$@" >> "${bin}/curl.calls"\n` +
        `while [[ $# -gt 0 ]]; do if [[ $1 == --output ]]; then cp "${bin}/kops-linux-amd64" "$2"; fi; shift; done\n`,
    );
    chmodSync(join(bin, 'curl'), 0o755);
  });
  afterEach(() => rmSync(bin, { recursive: true, force: true }));

  const install = (uri = cache.uri) => {
    const result = spawnSync('bash', [SCRIPT, 'kops'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${bin}:${dirname(AWS_CLI)}:/usr/bin:/bin`,
        FABRICCTL_TOOLS_DIR: join(bin, 'tools'),
        ...cache.env(),
        KOPS_SHA256: sha,
        TOOLS_CACHE_URI: uri,
      },
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}`, downloaded: existsSync(join(bin, 'curl.calls')) };
  };
  const cached = async (): Promise<string> => {
    const object = await cache.s3().send(new GetObjectCommand({ Bucket: cache.bucket, Key: `tools/sha256/${sha}` }));
    return (await object.Body?.transformToString()) ?? '';
  };

  test('GIVEN an empty cache WHEN kops is installed THEN it comes from its release page and is cached by SHA-256', async () => {
    const result = install();
    expect(result.status).toBe(0);
    expect(result.downloaded).toBe(true);
    expect(result.output).toContain(`copied to ${cache.uri}/${sha} for the next build`);
    expect(await cached()).toBe(body);
  });

  test('GIVEN the cached copy WHEN another build installs kops THEN it is taken from the cache and the release page is not asked', () => {
    const result = install();
    expect(result.status).toBe(0);
    expect(result.downloaded).toBe(false);
    expect(result.output).toContain(`the copy in ${cache.uri}/${sha} is the pinned file; not downloading`);
    expect(readFileSync(join(bin, 'tools', 'bin', 'kops'), 'utf8')).toBe(body);
  });

  test('GIVEN a cached object that is not the pinned file WHEN installed THEN the release download replaces it', async () => {
    await cache.s3().send(new PutObjectCommand({ Bucket: cache.bucket, Key: `tools/sha256/${sha}`, Body: '#!/bin/bash\necho planted\n' }));
    const result = install();
    expect(result.status).toBe(0);
    expect(result.output).toContain(`${cache.uri}/${sha} is not the pinned file`);
    expect(result.downloaded).toBe(true);
    expect(readFileSync(join(bin, 'tools', 'bin', 'kops'), 'utf8')).toBe(body);
    expect(await cached()).toBe(body);
  });

  test('GIVEN a cache it cannot write (no such bucket) WHEN installed THEN it goes on from the release page, saying so', () => {
    const result = install('s3://no-such-bucket-fabricctl/tools/sha256');
    expect(result.status).toBe(0);
    expect(result.downloaded).toBe(true);
    expect(result.output).toContain('the next build downloads it again');
  });
});
