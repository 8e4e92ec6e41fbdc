/**
 * What a running execution reports, whether it runs locally (aws-local-stepfunctions) or in the
 * cloud (read from GetExecutionHistory). The CLI renders both with one progress display.
 */
export type ProgressEvent =
  | { readonly type: 'executionStarted'; readonly execution: string; readonly at: Date }
  | { readonly type: 'stateEntered'; readonly state: string; readonly at: Date }
  | { readonly type: 'stateExited'; readonly state: string; readonly at: Date; readonly durationMs: number }
  | { readonly type: 'stateFailed'; readonly state: string; readonly at: Date; readonly error: string; readonly cause: string }
  | {
      readonly type: 'retry';
      readonly state: string;
      readonly at: Date;
      readonly attempt: number;
      readonly error: string;
      readonly delayMs: number;
    }
  | { readonly type: 'wait'; readonly state: string; readonly at: Date; readonly seconds: number }
  | { readonly type: 'log'; readonly state: string; readonly at: Date; readonly line: string }
  | {
      readonly type: 'awaitingApproval';
      readonly state: string;
      readonly at: Date;
      readonly name: string;
      readonly plan: readonly string[];
      readonly expiresAt: string;
    }
  | { readonly type: 'executionSucceeded'; readonly at: Date; readonly output: unknown }
  | { readonly type: 'executionFailed'; readonly at: Date; readonly error: string; readonly cause: string };

export type ProgressListener = (event: ProgressEvent) => void;
