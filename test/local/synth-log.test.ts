import type { SynthesizedOrchestrator } from '../../lib/local/synth';

/** Synthesis stands in for the real one (seconds of CDK): what is tested is who hears of it, and when. */
const synthesize = jest.fn(() => ({ lockTable: 'LockTable' }) as unknown as SynthesizedOrchestrator);
jest.mock('../../lib/local/synth', () => ({ synthesizeOrchestrator: () => synthesize() }));

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { localOrchestrator } = require('../../lib/local/run') as typeof import('../../lib/local/run');

describe('localOrchestrator', () => {
  test(
    'GIVEN the first run of a process WHEN the stack is synthesized ' +
      'THEN the log hears "synthesizing..." before and the time after; the next run synthesizes nothing and says nothing',
    () => {
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
});
