import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MOTO_AVAILABLE } from '../support/moto';
import { runCli, tempDir } from './support';

/**
 * `fabricctl up --local` through the real local runner (lib/local/run.ts: the synthesized state
 * machine, its real handlers, its own moto_server). The fast path is used: a region with fewer zones
 * than asked fails in Prepare, after validation, lock, DNS check and bucket, before any Terraform.
 * The full provision/destroy scenarios of local mode are the local runner's own tests.
 */
const describeLocal = MOTO_AVAILABLE ? describe : describe.skip;
if (!MOTO_AVAILABLE) console.warn('SKIPPED: moto_server (pip install moto[server]) is not installed, so fabricctl --local cannot run.');

describeLocal('fabricctl up --local', () => {
  test('fails when the region has fewer zones than zoneCount: exit 1, InsufficientZones in the JSON output, per-step timings', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'fabric.json'), JSON.stringify({ name: 'demo', domain: 'example.com', zoneCount: 5 }));
    const run = await runCli(['up', '--local', 'fabric.json', '--json'], { cwd });
    expect(run.code).toBe(1);
    const result = JSON.parse(run.out) as { status: string; error: string; timings: { state: string }[] };
    expect(result).toMatchObject({ status: 'FAILED', error: 'InsufficientZones' });
    expect(result.timings.map((t) => t.state)).toEqual(expect.arrayContaining(['ValidateSpec', 'Prepare']));
    expect(run.err).toContain('  ✗ DiscoverZones InsufficientZones: region us-east-2 has 3 usable availability zone(s)');
  }, 180000);
});
