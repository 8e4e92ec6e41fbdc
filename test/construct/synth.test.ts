import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/**
 * `npx cdk synth` as a user runs it: offline, the cdk-nag AWS Solutions rules on, every function
 * bundled by the local esbuild. DOCKER points at a command that always fails, so a Docker fallback
 * would fail this test.
 */
describe('cdk synth', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'fabricctl-synth-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  test('GIVEN a fresh checkout WHEN `cdk synth` runs without Docker THEN it yields FabricOrchestrator with every function bundled by esbuild', () => {
    const result = spawnSync('npx', ['cdk', 'synth', '--quiet', '--output', out], {
      cwd: path.resolve(__dirname, '..', '..'),
      env: { ...process.env, CDK_DOCKER: 'false', DOCKER: 'false' },
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
    const template = JSON.parse(readFileSync(path.join(out, 'FabricOrchestrator.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Metadata?: Record<string, string> }> };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(8);
    for (const fn of functions) {
      const asset = fn.Metadata?.['aws:asset:path'];
      expect(asset && existsSync(path.join(out, asset, 'index.js'))).toBe(true);
    }
    expect(readdirSync(out)).toContain('manifest.json');
  }, 300_000);
});
