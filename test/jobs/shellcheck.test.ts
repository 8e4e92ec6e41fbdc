import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const SCRIPTS = resolve(__dirname, '../../buildspecs/scripts');
const SHELLCHECK = spawnSync('shellcheck', ['--version'], { stdio: 'ignore' }).status === 0;
if (!SHELLCHECK) {
  // eslint-disable-next-line no-console
  console.warn('SKIPPED: shellcheck is not installed (Debian: apt-get install shellcheck), so the build scripts are not linted.');
}

const scripts = readdirSync(SCRIPTS)
  .filter((f) => f.endsWith('.sh'))
  .sort();

(SHELLCHECK ? describe : describe.skip)('build job scripts are shellcheck-clean', () => {
  test.each(scripts)('GIVEN buildspecs/scripts/%s WHEN shellcheck runs (following sourced files) THEN it reports nothing', (script) => {
    const result = spawnSync('shellcheck', ['--external-sources', join(SCRIPTS, script)], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });

  test.each(scripts)('GIVEN buildspecs/scripts/%s WHEN it is read THEN it starts in strict mode', (script) => {
    const text = readFileSync(join(SCRIPTS, script), 'utf8').split('\n').slice(0, 40).join('\n');
    // lib.sh is sourced and inherits its caller's mode; every executable script sets it itself.
    if (script === 'lib.sh') expect(text).toContain('Source it');
    else expect(text).toMatch(/^set -o errexit -o nounset -o pipefail$/m);
  });
});
