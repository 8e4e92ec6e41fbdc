import { readFileSync } from 'node:fs';
import type { SynthesizedOrchestrator } from './synth';
import { writeFileWhole } from '../write-file-whole';

/**
 * A file where processes that run the same sources share one synthesis (lib/local/run.ts,
 * localOrchestrator). The test run sets it to a file in its own temporary folder
 * (test/support/temp-root.ts): its workflow suites, CLI and daemon processes would each spend
 * seconds of CPU on the same stack. Unset, each process synthesizes. Never share it across a change
 * of the sources.
 */
export const SHARED_SYNTHESIS_ENV = 'FABRICCTL_SHARED_SYNTHESIS';

/** The synthesis another process shared in `file`; undefined while there is none. */
export function readSharedSynthesis(file: string): SynthesizedOrchestrator | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SynthesizedOrchestrator;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Written whole, then renamed: a process reading it at the same moment sees all of it or nothing. */
export function writeSharedSynthesis(file: string, orchestrator: SynthesizedOrchestrator): void {
  writeFileWhole(file, JSON.stringify(orchestrator));
}
