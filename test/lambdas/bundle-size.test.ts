import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { bundleOptions, LAMBDA_LIMITS, lambdaEntries } from '../../bench/lambdas';
import { PROJECT_ROOT } from '../../lib/fabric-function';

/**
 * Every function bundles, as deployed, under the size limit of the issue "Faster to ready, lighter
 * functions". Load times are left to `npm run bench`: on a shared machine they are too noisy to test.
 */
describe('deployed bundle sizes', () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'bundle-size-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  test.each(lambdaEntries())(
    `GIVEN %s WHEN bundled as deployed (AWS SDK external) THEN it is under ${LAMBDA_LIMITS.kib} KiB`,
    async (entry) => {
      const outfile = join(out, entry, 'index.js');
      await build(bundleOptions(entry, outfile, 'external'));
      expect(statSync(outfile).size / 1024).toBeLessThan(LAMBDA_LIMITS.kib);
    },
  );
});

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourcesUnder(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

describe('zod in the Lambdas and the domain they bundle', () => {
  test('GIVEN the Lambda and domain sources WHEN their imports are read THEN zod comes only through lib/domain/zod.ts', () => {
    // The classic entry bundles about 450 KiB, and `import { z } from 'zod/mini'` keeps all of zod/mini.
    const sources = [join(PROJECT_ROOT, 'lambdas'), join(PROJECT_ROOT, 'lib', 'domain')].flatMap(sourcesUnder);
    expect(sources.length).toBeGreaterThan(20);
    const direct = sources
      .filter((file) => relative(PROJECT_ROOT, file) !== join('lib', 'domain', 'zod.ts'))
      .filter((file) => /from '(zod|zod\/[^']*)'/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(PROJECT_ROOT, file));
    expect(direct).toEqual([]);
  });
});
