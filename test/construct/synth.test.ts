import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { TEST_KOPS_SHA256 } from '../support/stack';

/**
 * `npx cdk synth` as a user runs it: offline, the cdk-nag AWS Solutions rules and aws-cdk-lib's
 * CloudFormation validation on, every function bundled by the local esbuild. DOCKER points at a
 * command that always fails, so a Docker fallback would fail this test.
 */
describe('cdk synth', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'fabricctl-synth-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  // With aws-cdk-lib's CloudFormation validation on, as a user's synth has it (setup-env.ts turns it off).
  const { CDK_VALIDATION: _off, ...userEnv } = process.env;
  const cdkSynth = (...args: string[]) =>
    spawnSync('npx', ['cdk', 'synth', '--quiet', '--output', out, ...args], {
      cwd: path.resolve(__dirname, '..', '..'),
      env: { ...userEnv, CDK_DOCKER: 'false', DOCKER: 'false' },
      encoding: 'utf8',
      timeout: 240_000,
    });

  test('fails when `cdk synth` runs without fabricctl:kopsSha256, before bundling anything, saying how to pass it', () => {
    const result = cdkSynth();
    expect(result.status).not.toBe(0);
    const version =
      /^KOPS_VERSION=(.+)$/m.exec(readFileSync(path.resolve(__dirname, '../../buildspecs/tools.env'), 'utf8'))?.[1] ?? 'missing';
    // The message alone, no stack trace around it.
    expect(result.stderr.split('\n')[0]).toBe(
      `KopsChecksumMissing: FabricOrchestrator needs kopsSha256, the SHA-256 of kops ${version} (kops-linux-amd64) ` +
        'that the cluster job verifies its download of kops against. ' +
        `Read it from https://github.com/kubernetes/kops/releases/download/v${version}/kops-linux-amd64.sha256 and pass it: ` +
        '`npx cdk deploy -c fabricctl:kopsSha256=<64 hex characters>`, ' +
        'or "fabricctl:kopsSha256": "<64 hex characters>" under "context" in cdk.json (README, Deploy).',
    );
    expect(readdirSync(out).filter((f) => f.startsWith('asset.'))).toEqual([]);
  }, 300_000);

  test(
    'GIVEN a fresh checkout and the kops checksum WHEN `cdk synth` runs without Docker ' +
      'THEN it yields FabricOrchestrator with every function bundled by esbuild',
    () => {
      const result = cdkSynth('-c', `fabricctl:kopsSha256=${TEST_KOPS_SHA256}`);
      expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
      const template = JSON.parse(readFileSync(path.join(out, 'FabricOrchestrator.template.json'), 'utf8')) as {
        Resources: Record<
          string,
          { Type: string; Metadata?: Record<string, string>; Properties?: { Environment?: { EnvironmentVariables?: unknown } } }
        >;
      };
      // The context key reached the cluster job through bin/fabric-orchestrator.ts.
      const variables = Object.values(template.Resources)
        .filter((r) => r.Type === 'AWS::CodeBuild::Project')
        .map((r) => r.Properties?.Environment?.EnvironmentVariables);
      expect(variables).toContainEqual(expect.arrayContaining([{ Name: 'KOPS_SHA256', Type: 'PLAINTEXT', Value: TEST_KOPS_SHA256 }]));
      const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
      expect(functions).toHaveLength(10);
      for (const fn of functions) {
        const asset = fn.Metadata?.['aws:asset:path'];
        expect(asset && existsSync(path.join(out, asset, 'index.js'))).toBe(true);
      }
      expect(readdirSync(out)).toContain('manifest.json');
    },
    300_000,
  );
});
