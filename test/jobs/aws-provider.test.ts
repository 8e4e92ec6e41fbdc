import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { toolsEnvValue } from '../../lib/local/prerequisites';
import { TERRAFORM_SKIP_REASON, TF_PLUGIN_MIRROR } from '../support/terraform';
import { AWS_CLI, describeWithToolsCache } from '../support/tools-cache';
import { zipOf } from '../support/zip';

/**
 * The jobs' AWS provider: pinned by one lock file (terraform/fabric-network/.terraform.lock.hcl),
 * installed by `install-tools.sh aws-provider` into the tools folder's provider mirror (from the
 * tools cache in S3 or the release page), and checked by Terraform itself against the lock.
 * The install tests use a provider package of a few bytes, with a lock Terraform computes for it:
 * the real one is 675 MB. That the real lock pins the real package is checked against the mirror.
 */
const ROOT = resolve(__dirname, '../..');
const SCRIPT = join(ROOT, 'buildspecs/scripts/install-tools.sh');
const TOOLS_ENV = join(ROOT, 'buildspecs/tools.env');
const LOCK = join(ROOT, 'terraform/fabric-network/.terraform.lock.hcl');
const TERRAFORM = spawnSync('bash', ['-c', 'command -v terraform'], { encoding: 'utf8' }).stdout.trim();

/** The hashes a lock file holds for hashicorp/aws, and its version. */
function lockedAws(file: string): { version: string; hashes: string[] } {
  const block = /provider "registry\.terraform\.io\/hashicorp\/aws" \{([\s\S]*?)\n\}/.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
  return {
    version: /version\s*=\s*"([^"]+)"/.exec(block)?.[1] ?? '',
    hashes: [...block.matchAll(/"((?:h1|zh):[^"]+)"/g)].map((m) => m[1]!),
  };
}

test("GIVEN the jobs' lock file THEN it pins tools.env's provider version and linux_amd64 h1, with HashiCorp's zip checksums", () => {
  const { version, hashes } = lockedAws(LOCK);
  expect(version).toBe(toolsEnvValue('TERRAFORM_AWS_PROVIDER_VERSION'));
  expect(hashes).toContain(toolsEnvValue('TERRAFORM_AWS_PROVIDER_H1_LINUX_AMD64'));
  // One zh: per platform HashiCorp builds (its SHA256SUMS): Terraform checks a package from anywhere against them.
  expect(hashes.filter((h) => /^zh:[0-9a-f]{64}$/.test(h)).length).toBeGreaterThanOrEqual(14);
  // The network's root configuration allows that version.
  expect(readFileSync(join(ROOT, 'terraform/fabric-network/versions.tf'), 'utf8')).toMatch(/version\s*=\s*"~> 5\.100"/);
});

if (TERRAFORM_SKIP_REASON) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED the AWS provider's install tests: ${TERRAFORM_SKIP_REASON}.`);
}
(TERRAFORM_SKIP_REASON ? describe.skip : describe)('install-tools.sh aws-provider (real Terraform checks the package)', () => {
  let work: string;
  let bin: string;
  let tools: string;
  /** A provider package of one small file, its lock (computed by Terraform) and a tools.env pinning it. */
  let fake: { lock: string; toolsEnv: string; h1: string; zip: string; tampered: string };
  const VERSION = toolsEnvValue('TERRAFORM_AWS_PROVIDER_VERSION');
  const BINARY = `terraform-provider-aws_v${VERSION}_x5`;
  const PACKAGE = `registry.terraform.io/hashicorp/aws/${VERSION}/linux_amd64`;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'aws-provider-'));
    const mirror = join(work, 'mirror');
    mkdirSync(join(mirror, PACKAGE), { recursive: true });
    writeFileSync(join(mirror, PACKAGE, BINARY), '#!/bin/sh\necho a provider stand-in of the install tests\n', { mode: 0o755 });
    const root = join(work, 'lock');
    mkdirSync(root);
    writeFileSync(
      join(root, 'main.tf'),
      `terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = "${VERSION}" }\n  }\n}\n`,
    );
    const locked = spawnSync(TERRAFORM, ['providers', 'lock', `-fs-mirror=${mirror}`, '-platform=linux_amd64'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null' },
    });
    if (locked.status !== 0) throw new Error(`terraform providers lock failed: ${locked.stdout}${locked.stderr}`);
    const h1 = lockedAws(join(root, '.terraform.lock.hcl')).hashes.find((h) => h.startsWith('h1:')) ?? '';
    const toolsEnv = join(work, 'tools.env');
    writeFileSync(
      toolsEnv,
      readFileSync(TOOLS_ENV, 'utf8').replace(/^TERRAFORM_AWS_PROVIDER_H1_LINUX_AMD64=.*$/m, `TERRAFORM_AWS_PROVIDER_H1_LINUX_AMD64=${h1}`),
    );
    const zip = join(work, 'release.zip');
    writeFileSync(zip, zipOf(BINARY, readFileSync(join(mirror, PACKAGE, BINARY), 'utf8')));
    const tampered = join(work, 'tampered.zip');
    writeFileSync(tampered, zipOf(BINARY, '#!/bin/sh\necho planted\n'));
    fake = { lock: join(root, '.terraform.lock.hcl'), toolsEnv, h1, zip, tampered };
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  beforeEach(() => {
    bin = mkdtempSync(join(work, 'bin-'));
    tools = join(bin, 'tools');
    // A curl that records its call and writes FAKE_DOWNLOAD's file.
    writeFileSync(
      join(bin, 'curl'),
      `#!/bin/bash\necho "$@" >> "${bin}/curl.calls"\n` +
        // A FAKE_DOWNLOAD that is not there fails as curl --fail does on a 404 (exit 22).
        'while [[ $# -gt 0 ]]; do if [[ $1 == --output ]]; then cp "${FAKE_DOWNLOAD}" "$2" 2>/dev/null || exit 22; fi; shift; done\n',
      { mode: 0o755 },
    );
  });

  const downloaded = (): boolean => existsSync(join(bin, 'curl.calls'));
  function install(env: NodeJS.ProcessEnv): { status: number | null; output: string } {
    const result = spawnSync('bash', [SCRIPT, 'aws-provider'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${bin}:${dirname(TERRAFORM)}:${AWS_CLI ? `${dirname(AWS_CLI)}:` : ''}/usr/bin:/bin`,
        FABRICCTL_TOOLS_DIR: tools,
        TOOLS_ENV: fake.toolsEnv,
        TERRAFORM_LOCK_FILE: fake.lock,
        TF_PLUGIN_MIRROR: undefined,
        TF_CLI_CONFIG_FILE: undefined,
        TERRAFORM_ACCEPT_INSTALLED: undefined,
        ...env,
      },
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  test("GIVEN the provider mirror WHEN Terraform installs from it with the jobs' lock file THEN the package is the pinned one", () => {
    const root = join(work, 'mirror-check');
    mkdirSync(root);
    writeFileSync(join(root, 'main.tf'), 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n');
    writeFileSync(join(root, '.terraform.lock.hcl'), readFileSync(LOCK));
    const rc = join(root, 'terraform.rc');
    writeFileSync(rc, `provider_installation {\n  filesystem_mirror {\n    path = "${TF_PLUGIN_MIRROR}"\n  }\n}\n`);
    const init = spawnSync(TERRAFORM, ['init', '-backend=false', '-input=false', '-no-color'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, TF_CLI_CONFIG_FILE: rc },
    });
    expect({ status: init.status, stderr: init.stderr }).toEqual({ status: 0, stderr: '' });
    expect(init.stdout).toContain(`Installed hashicorp/aws v${toolsEnvValue('TERRAFORM_AWS_PROVIDER_VERSION')}`);
  });

  test('GIVEN no copy yet WHEN installed THEN the release zip, checked by Terraform, is unpacked into the tools mirror', () => {
    const first = install({ FAKE_DOWNLOAD: fake.zip });
    expect({ status: first.status, output: first.output }).toEqual({ status: 0, output: expect.stringContaining('installed in') });
    expect(downloaded()).toBe(true);
    expect(readdirSync(join(tools, 'providers', PACKAGE))).toEqual([BINARY]);
    // Nothing of the download or the check is left beside it.
    expect(readdirSync(tools).sort()).toEqual(['bin', 'providers']);

    rmSync(join(bin, 'curl.calls'));
    const again = install({ FAKE_DOWNLOAD: fake.zip });
    expect(again.status).toBe(0);
    expect(again.output).toContain(`hashicorp/aws ${VERSION} is already in ${tools}/providers; not downloading`);
    expect(downloaded()).toBe(false);
  });

  test('fails when the release zip is not the package the lock file pins, naming both, and installs nothing', () => {
    const result = install({ FAKE_DOWNLOAD: fake.tampered });
    expect(result.status).not.toBe(0);
    // Terraform's own verdict (it folds its lines).
    expect(result.output.replace(/\s+/g, ' ')).toContain(
      "doesn't match any of the checksums previously recorded in the dependency lock file",
    );
    expect(result.output).toContain(`is not the package ${fake.lock} pins`);
    expect(existsSync(join(tools, 'providers'))).toBe(false);
  });

  test('fails when the download fails, saying so rather than blaming the package, and installs nothing', () => {
    const result = install({ FAKE_DOWNLOAD: join(work, 'no-such-release.zip') });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(`could not download https://releases.hashicorp.com/terraform-provider-aws/${VERSION}/`);
    expect(result.output).not.toContain('is not the package');
    expect(existsSync(join(tools, 'providers'))).toBe(false);
  });

  test('fails before downloading when tools.env pins a package the lock file does not', () => {
    const result = install({ FAKE_DOWNLOAD: fake.zip, TERRAFORM_LOCK_FILE: LOCK });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(`${LOCK} does not pin ${fake.h1}`);
    expect(downloaded()).toBe(false);
  });

  test('GIVEN TF_PLUGIN_MIRROR WHEN aws-provider is asked for THEN Terraform takes it from there: nothing is installed', () => {
    const result = install({ FAKE_DOWNLOAD: fake.zip, TF_PLUGIN_MIRROR });
    expect(result.status).toBe(0);
    expect(result.output).toContain(`Terraform takes it from TF_PLUGIN_MIRROR=${TF_PLUGIN_MIRROR}; nothing to install`);
    expect(downloaded()).toBe(false);
    expect(existsSync(join(tools, 'providers'))).toBe(false);
  });

  test('GIVEN a local build (TERRAFORM_ACCEPT_INSTALLED=true) WHEN aws-provider is asked for THEN Terraform fetches it itself', () => {
    const result = install({ FAKE_DOWNLOAD: fake.zip, TERRAFORM_ACCEPT_INSTALLED: 'true' });
    expect(result.status).toBe(0);
    expect(result.output).toContain('a local build (TERRAFORM_ACCEPT_INSTALLED=true); Terraform installs it from its registry');
    expect(downloaded()).toBe(false);
    expect(existsSync(join(tools, 'providers'))).toBe(false);
  });

  test('GIVEN the provider in the tools mirror WHEN a job sets Terraform up THEN hashicorp/aws comes from there, the rest as usual', () => {
    mkdirSync(join(tools, 'providers', PACKAGE), { recursive: true });
    const lib = join(ROOT, 'buildspecs/scripts/lib.sh');
    const result = spawnSync('bash', ['-c', 'source "$1" && tf_cli_config && cat "${TF_CLI_CONFIG_FILE}"', 'job', lib], {
      encoding: 'utf8',
      env: { ...process.env, FABRICCTL_TOOLS_DIR: tools, TF_PLUGIN_MIRROR: undefined, TF_CLI_CONFIG_FILE: undefined },
    });
    expect(result.stdout.replace(/\s+/g, ' ').trim()).toBe(
      `provider_installation { filesystem_mirror { path = "${tools}/providers" include = ["registry.terraform.io/hashicorp/aws"] } ` +
        'direct { exclude = ["registry.terraform.io/hashicorp/aws"] } }',
    );
  });

  describeWithToolsCache('with the tools cache in S3 (moto)', 'the AWS provider in the tools cache', (cache) => {
    /** The cache names the zip by the pinned package hash, in hex. */
    const key = () => `tools/sha256/${Buffer.from(fake.h1.slice('h1:'.length), 'base64').toString('hex')}`;

    test('GIVEN an empty cache WHEN installed THEN the checked zip is copied there; the next build takes it, not the release', async () => {
      const first = install({ ...cache.env(), FAKE_DOWNLOAD: fake.zip });
      expect(first.status).toBe(0);
      expect(first.output).toContain(`copied to s3://${cache.bucket}/${key()} for the next build`);
      const cached = await cache.s3().send(new GetObjectCommand({ Bucket: cache.bucket, Key: key() }));
      expect(Buffer.from(await cached.Body!.transformToByteArray()).equals(readFileSync(fake.zip))).toBe(true);

      rmSync(join(bin, 'curl.calls'));
      rmSync(tools, { recursive: true });
      const next = install({ ...cache.env(), FAKE_DOWNLOAD: fake.tampered });
      expect(next.status).toBe(0);
      expect(next.output).toContain(`the copy in s3://${cache.bucket}/${key()} is the pinned file; not downloading`);
      expect(downloaded()).toBe(false);
      expect(readdirSync(join(tools, 'providers', PACKAGE))).toEqual([BINARY]);
    });

    test('GIVEN a planted zip in the cache WHEN installed THEN Terraform refuses it and the release zip replaces it', async () => {
      await cache.s3().send(new PutObjectCommand({ Bucket: cache.bucket, Key: key(), Body: readFileSync(fake.tampered) }));
      const result = install({ ...cache.env(), FAKE_DOWNLOAD: fake.zip });
      expect(result.status).toBe(0);
      expect(result.output).toContain(`s3://${cache.bucket}/${key()} is not the pinned file`);
      expect(downloaded()).toBe(true);
      const cached = await cache.s3().send(new GetObjectCommand({ Bucket: cache.bucket, Key: key() }));
      expect(Buffer.from(await cached.Body!.transformToByteArray()).equals(readFileSync(fake.zip))).toBe(true);
    });
  });
});
