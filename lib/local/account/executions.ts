import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WireHistoryEvent } from './history';
import { writeFileWhole } from '../../write-file-whole';

/**
 * The local account's executions and their histories, kept in a folder (one JSON file per
 * execution) so that DescribeExecution and GetExecutionHistory still answer after the account is
 * stopped and started again. A run cannot outlive its process: an execution still RUNNING when
 * the folder is loaded again ended with the account, and is recorded as ABORTED.
 */

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  status: ExecutionStatus;
  /** Epoch ms. */
  readonly startDate: number;
  stopDate?: number;
  /** JSON text, as given to StartExecution. */
  readonly input: string;
  output?: string;
  error?: string;
  cause?: string;
}

export interface StoredExecution {
  readonly record: ExecutionRecord;
  readonly events: WireHistoryEvent[];
}

/** Why an execution loaded as RUNNING is over. */
export const ENDED_WITH_ACCOUNT = {
  error: 'LocalAccountStopped',
  cause: 'the local account stopped while this execution ran; a local run does not survive its process (start it again)',
};

export class ExecutionStore {
  private readonly executions = new Map<string, StoredExecution>();
  private readonly dirty = new Set<string>();
  private timer?: NodeJS.Timeout;

  /** `dir` undefined: nothing is written (tests). */
  constructor(private readonly dir: string | undefined) {
    if (dir) mkdirSync(dir, { recursive: true });
  }

  /**
   * Reads the folder; each execution that was RUNNING gets `onInterrupted` (which records how it
   * ended) and is written back.
   */
  load(onInterrupted: (execution: StoredExecution) => void): StoredExecution[] {
    if (!this.dir) return [];
    const interrupted: StoredExecution[] = [];
    for (const file of readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const stored = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as StoredExecution;
      this.executions.set(stored.record.executionArn, stored);
      if (stored.record.status === 'RUNNING') {
        onInterrupted(stored);
        interrupted.push(stored);
        this.changed(stored.record.executionArn);
      }
    }
    this.flush();
    return interrupted;
  }

  get(executionArn: string): StoredExecution | undefined {
    return this.executions.get(executionArn);
  }

  add(execution: StoredExecution): void {
    this.executions.set(execution.record.executionArn, execution);
    this.changed(execution.record.executionArn);
  }

  /** Newest first, as ListExecutions answers. */
  list(stateMachineArn: string): StoredExecution[] {
    return [...this.executions.values()]
      .filter((e) => e.record.stateMachineArn === stateMachineArn)
      .sort((a, b) => b.record.startDate - a.record.startDate);
  }

  running(): StoredExecution[] {
    return [...this.executions.values()].filter((e) => e.record.status === 'RUNNING');
  }

  /** Writes soon: a history grows by many events a second, and one write covers them. */
  changed(executionArn: string): void {
    this.dirty.add(executionArn);
    if (!this.dir || this.timer) return;
    this.timer = setTimeout(() => this.flush(), 200);
    this.timer.unref();
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dir) return this.dirty.clear();
    for (const arn of this.dirty) {
      const stored = this.executions.get(arn);
      if (!stored) continue;
      const file = join(this.dir, `${stored.record.name}.json`);
      // A reader (or a crash) never sees half a file.
      writeFileWhole(file, JSON.stringify(stored));
    }
    this.dirty.clear();
  }
}
