import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MOTO_AVAILABLE } from '../support/moto';
import { runCli, tempDir } from './support';

/**
 * `fabricctl up --local` through the real local runner (lib/local/run.ts: the synthesized state
 * machine, its real handlers, its own moto_server). The fast path is used: a region with fewer zones
 * than asked fails in Prepare, after validation, lock, DNS check and bucket, before any Terraform.
 * The full provision/destroy scenarios of local mode are the local runner's own tests.
 */
const describeLocal = MOTO_AVAILABLE ? describe : describe.skip;
// A skipped test says why (DEVELOPERS.md).
// eslint-disable-next-line no-console
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

  test('GIVEN --keep-emulator WHEN the run ends THEN fabricctl exits, its stand-ins stop, the named emulator still answers', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'fabric.json'), JSON.stringify({ name: 'demo', domain: 'example.com', zoneCount: 5 }));
    // A real process: what kept it alive (listening stand-ins, the emulator's child handle) only shows there.
    const run = await new Promise<{ code: number | null; killed: boolean; stderr: string }>((done) => {
      const child = execFile(
        process.execPath,
        [resolve(__dirname, '../../bin/fabricctl.js'), 'up', '--local', 'fabric.json', '--keep-emulator'],
        { cwd, timeout: 150_000 },
        (error, _stdout, stderr) => done({ code: child.exitCode, killed: error?.killed === true, stderr }),
      );
    });
    const kept = /emulator left running on (http:\/\/127\.0\.0\.1:\d+) \(pid (\d+)\)/.exec(run.stderr);
    try {
      expect({ killed: run.killed, code: run.code }).toEqual({ killed: false, code: 1 });
      expect(kept).not.toBeNull();
      expect(run.stderr).toContain('The stand-ins (Kubernetes API, public DNS) stopped with this run');
      expect((await fetch(`${kept?.[1] ?? ''}/moto-api/data.json`)).status).toBe(200);
    } finally {
      // Stopped by its pid, as the message says.
      if (kept?.[2]) process.kill(Number(kept[2]), 'SIGTERM');
    }
  }, 180000);
});
