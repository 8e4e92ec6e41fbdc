import { TaskError } from './task-handlers';

/**
 * Step Functions' task-token callbacks, in process: a `.waitForTaskToken` task of a local run waits
 * here until SendTaskSuccess or SendTaskFailure names its token, as the service would. The cloud
 * CLI sends the same calls to Step Functions (lib/cli/approval.ts); both implement `TaskTokenSender`.
 */
export interface TaskTokenSender {
  sendTaskSuccess(token: string, output: unknown): Promise<void>;
  sendTaskFailure(token: string, error: string, cause: string): Promise<void>;
}

interface Waiter {
  readonly resolve: (output: unknown) => void;
  readonly reject: (error: Error) => void;
}

const waiting = new Map<string, Waiter>();

/** Waits for the token's callback; the task's own timeout (TimeoutSecondsPath) ends the wait otherwise. */
export function waitForTaskToken(token: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    waiting.set(token, { resolve, reject });
  });
}

/** Whether a local task waits on this token (the service answers TaskDoesNotExist otherwise). */
export function isWaiting(token: string): boolean {
  return waiting.has(token);
}

/** Ends every wait (a run that is over, or timed out, no longer listens). */
export function forgetTaskToken(token: string): void {
  waiting.delete(token);
}

function take(token: string): Waiter {
  const waiter = waiting.get(token);
  // The service's error for a token of a task that is over (or never was).
  if (!waiter)
    throw new TaskError('TaskDoesNotExist', `no local task waits on token ${token.slice(0, 16)}...; its run is over or timed out`);
  waiting.delete(token);
  return waiter;
}

export const localTaskTokens: TaskTokenSender = {
  async sendTaskSuccess(token, output) {
    take(token).resolve(output);
  },
  async sendTaskFailure(token, error, cause) {
    take(token).reject(new TaskError(error, cause));
  },
};
