import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED_SYNTHESIS_ENV } from '../../lib/local/shared-synthesis';
import type { SynthesizedOrchestrator } from '../../lib/local/synth';

/** Synthesis stands in for the real one (seconds of CDK): what is tested is who hears of it, and when. */
const synthesize = jest.fn(() => ({ lockTable: 'LockTable' }) as unknown as SynthesizedOrchestrator);
jest.mock('../../lib/local/synth', () => ({ synthesizeOrchestrator: () => synthesize() }));

/** localOrchestrator of a fresh copy of lib/local/run.ts: a new process, as far as the module knows. */
const freshLocalOrchestrator = (): typeof import('../../lib/local/run').localOrchestrator => {
  let fresh: typeof import('../../lib/local/run').localOrchestrator | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    fresh = (require('../../lib/local/run') as typeof import('../../lib/local/run')).localOrchestrator;
  });
  return fresh!;
};

describe('localOrchestrator', () => {
  // This file's stand-in synthesis must never reach the file the test run shares (test/support/temp-root.ts).
  const shared = process.env[SHARED_SYNTHESIS_ENV];
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'synth-log-'));
    delete process.env[SHARED_SYNTHESIS_ENV];
    synthesize.mockClear();
  });
  afterEach(() => {
    rmSync(folder, { recursive: true, force: true });
  });
  afterAll(() => {
    if (shared !== undefined) process.env[SHARED_SYNTHESIS_ENV] = shared;
  });

  test(
    'GIVEN the first run of a process WHEN the stack is synthesized ' +
      'THEN the log hears "synthesizing..." before and the time after; the next run synthesizes nothing and says nothing',
    () => {
      const localOrchestrator = freshLocalOrchestrator();
      const lines: string[] = [];
      const first = localOrchestrator((line) => lines.push(line));
      expect(lines[0]).toBe('synthesizing the FabricOrchestrator stack (the definition the cloud runs)...');
      expect(lines[1]).toMatch(/^synthesized in \d+\.\ds$/);
      expect(lines).toHaveLength(2);
      const again: string[] = [];
      expect(localOrchestrator((line) => again.push(line))).toBe(first);
      expect(again).toEqual([]);
      expect(synthesize).toHaveBeenCalledTimes(1);
    },
  );

  test(`GIVEN ${SHARED_SYNTHESIS_ENV} WHEN a second process runs THEN it reads the first one's synthesis and synthesizes nothing`, () => {
    const file = join(folder, 'synthesized.json');
    process.env[SHARED_SYNTHESIS_ENV] = file;
    expect(freshLocalOrchestrator()()).toEqual({ lockTable: 'LockTable' });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ lockTable: 'LockTable' });
    expect(readdirSync(folder)).toEqual(['synthesized.json']);

    const lines: string[] = [];
    expect(freshLocalOrchestrator()((line) => lines.push(line))).toEqual({ lockTable: 'LockTable' });
    expect(lines).toEqual([]);
    expect(synthesize).toHaveBeenCalledTimes(1);
  });

  test(`GIVEN no ${SHARED_SYNTHESIS_ENV} WHEN two processes run THEN each synthesizes`, () => {
    freshLocalOrchestrator()();
    freshLocalOrchestrator()();
    expect(synthesize).toHaveBeenCalledTimes(2);
  });
});
