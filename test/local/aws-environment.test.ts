import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { KOPS_STANDIN_BIN, realKopsVersion } from '../../lib/local/environment';

/**
 * `--local --aws` runs against a real account, so it must never start with the kops stand-in or
 * with no kops at all. (A real account cannot be reached from the tests: only the refusals are.)
 */
describe('--local --aws', () => {
  const empty = mkdtempSync(path.join(tmpdir(), 'no-kops-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  test('fails when the kops on PATH is the stand-in, saying so', () => {
    expect(() => realKopsVersion({ ...process.env, PATH: `${KOPS_STANDIN_BIN}:${process.env.PATH ?? ''}` })).toThrow(
      expect.objectContaining({ name: 'RealKopsRequired', message: expect.stringMatching(/needs the real kops.*found the kops stand-in/) }),
    );
  });

  test('fails when there is no kops on PATH', () => {
    expect(() => realKopsVersion({ ...process.env, PATH: empty })).toThrow(
      expect.objectContaining({ name: 'RealKopsRequired', message: expect.stringMatching(/found no kops/) }),
    );
  });
});
