import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalRunOptions } from '../../lib/cli/commands';
import { assertLocalPrerequisites, SystemProbe } from '../../lib/local/prerequisites';
import { runCli, tempDir } from './support';

/** Day-to-day CLI behaviour, in process, with injected fakes (no network, no emulator). */
function specDir(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'fabric.json'), JSON.stringify({ name: 'demo', domain: 'example.com' }));
  return dir;
}

describe('local mode prerequisites, from the CLI', () => {
  /** A Linux machine with nothing local mode needs. */
  const bare: SystemProbe = { platform: 'linux', arch: 'x64', run: () => undefined, motoInstalled: () => false, providerMirror: () => undefined, list: () => [] };

  test('fails when tools are missing: exit 1, each named with its fix, and local mode never started', async () => {
    const started: LocalRunOptions[] = [];
    const run = await runCli(['up', '--local', 'fabric.json'], {
      cwd: specDir(),
      checkLocalPrerequisites: (options) => assertLocalPrerequisites(options, bare),
      runLocal: async (options) => {
        started.push(options);
        return { status: 'SUCCEEDED', output: {}, timings: [], totalMs: 1 };
      },
    });
    expect(run.code).toBe(1);
    expect(started).toEqual([]);
    expect(run.err).toContain('error: LocalPrerequisitesMissing: local mode needs moto_server, terraform, jq, aws on this machine; nothing was started\n');
    expect(run.err).toContain("  moto_server\n    received: no Python with moto[server] (the AWS emulator local mode starts)\n    fix: pipx install 'moto[server]'");
  });

  test('fails on macOS with LocalPlatformUnsupported in the JSON output, before anything starts', async () => {
    const mac: SystemProbe = { ...bare, platform: 'darwin', arch: 'arm64' };
    const run = await runCli(['plan', '--local', 'fabric.json', '--json'], { cwd: specDir(), checkLocalPrerequisites: (options) => assertLocalPrerequisites(options, mac) });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.out)).toMatchObject({ error: 'LocalPlatformUnsupported', message: expect.stringContaining('this machine is darwin/arm64') });
  });

  test('GIVEN down --local --endpoint WHEN checked THEN moto is not required (the emulator runs already)', async () => {
    const asked: unknown[] = [];
    const run = await runCli(['down', 'demo', '--confirm', 'demo', '--local', '--endpoint', 'http://127.0.0.1:5000'], {
      checkLocalPrerequisites: (options) => asked.push(options),
      runLocal: async () => ({ status: 'SUCCEEDED', output: {}, timings: [], totalMs: 1 }),
    });
    expect(run.code).toBe(0);
    expect(asked).toEqual([{ aws: undefined, endpoint: 'http://127.0.0.1:5000' }]);
  });
});
