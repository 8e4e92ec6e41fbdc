import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The project's style: no line over 140 characters (prettier's printWidth), in every file of the
 * project, not only the TypeScript that prettier and eslint see: scripts, Terraform, YAML too.
 * kops's golden output is vendored as kops wrote it (lib/local/standins/kops/NOTICE.md), so its
 * lines are kops's, whatever their length.
 */
const ROOT = resolve(__dirname, '../..');
const MAX = 140;
const PATTERNS = ['*.ts', '*.sh', '*.tf', '*.mjs', '*.js', '*.yml', '*.py'];
const VENDORED = 'lib/local/standins/kops/golden/';

test(`GIVEN the tracked project files WHEN their lines are measured THEN none is over ${MAX} characters`, () => {
  const files = execFileSync('git', ['ls-files', '-z', '--', ...PATTERNS], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    // A file deleted in the work tree but not yet in the index has nothing to measure.
    .filter((file) => file !== '' && !file.startsWith(VENDORED) && existsSync(join(ROOT, file)));
  expect(files.length).toBeGreaterThan(0);

  const offenders = files.flatMap((file) =>
    readFileSync(join(ROOT, file), 'utf8')
      .split('\n')
      // Characters, not UTF-16 units or bytes: a line of box-drawing characters is as long as it looks.
      .map((line, index) => ({ line: index + 1, length: [...line.replace(/\r$/, '')].length }))
      .filter(({ length }) => length > MAX)
      .map(({ line, length }) => `${file}:${line} (${length})`),
  );
  expect(offenders).toEqual([]);
});
