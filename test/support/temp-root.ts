import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED_SYNTHESIS_ENV } from '../../lib/local/shared-synthesis';

/**
 * One temporary folder per test run, removed when the run ends. Tests (and what they start: CDK
 * apps without an outdir, terraform, moto, the CLI's work folders) make their temporary files with
 * os.tmpdir(), which reads TMPDIR: pointing it here keeps a run from leaving hundreds of folders in
 * /tmp. The workers are started after this and inherit it.
 */
export const RUN_TMPDIR = 'FABRICCTL_TEST_RUN_TMPDIR';

export function createRunTempRoot(): void {
  const root = mkdtempSync(join(tmpdir(), 'fabricctl-test-run-'));
  process.env[RUN_TMPDIR] = root;
  process.env.TMPDIR = root;
  // The run's local executions (workflow suites, CLI and daemon processes) share one synthesis.
  process.env[SHARED_SYNTHESIS_ENV] = join(root, 'synthesized-orchestrator.json');
}

export function removeRunTempRoot(): void {
  const root = process.env[RUN_TMPDIR];
  if (root) rmSync(root, { recursive: true, force: true });
}
