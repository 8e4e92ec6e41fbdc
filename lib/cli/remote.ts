import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeExecutionCommand,
  DescribeExecutionCommandOutput,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ExecutionInput, RunAction } from '../domain/contract';
import type { ProgressEvent } from '../progress-events';
import { executionArnFor, executionNameFor, sanitiseExecutionName } from '../domain/execution-name';
import { HistoryConverter, parseJson } from './history';
import { CliError, EXIT } from './io';

/** The stack `npx cdk deploy` creates; its outputs name the state machine and the build projects. */
export const DEFAULT_STACK = 'FabricOrchestrator';

type Sender<C extends { send: unknown }> = Pick<C, 'send'>;

export interface StackOutputs {
  readonly stateMachineArn: string;
  readonly stateBucketPrefix?: string;
  /** The fabrics' lock table: local `--aws` runs take their locks there too. */
  readonly lockTableName?: string;
}

/** Reads the stack's outputs. A missing stack or output is "not found" (exit 3) with what to do. */
export async function findStack(cfn: Sender<CloudFormationClient>, stackName: string): Promise<StackOutputs> {
  let outputs: Record<string, string>;
  try {
    const { Stacks = [] } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = Stacks[0];
    if (!stack) throw new Error('no stack');
    outputs = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } catch (error) {
    const message = (error as Error).message ?? '';
    if ((error as Error).name === 'ValidationError' || /does not exist|no stack/.test(message)) {
      throw new CliError(
        EXIT.NOT_FOUND,
        'StackNotFound',
        `stack ${stackName} not found in this account and region: deploy it with npx cdk deploy, or pass --stack/--region`,
      );
    }
    throw error;
  }
  const stateMachineArn = outputs.StateMachineArn;
  if (!stateMachineArn)
    throw new CliError(
      EXIT.NOT_FOUND,
      'StackOutputMissing',
      `stack ${stackName} has no StateMachineArn output: is it a fabricctl stack? Redeploy it with npx cdk deploy`,
    );
  return { stateMachineArn, stateBucketPrefix: outputs.StateBucketPrefix, lockTableName: outputs.LockTableName };
}

/** The commit the spec's directory is at, when it is a clean git work tree (else undefined). */
export type GitProbe = (directory: string) => { commit: string; clean: boolean } | undefined;

export const gitProbe: GitProbe = (directory) => {
  try {
    const run = (args: string[]) =>
      execFileSync('git', ['-C', directory, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = run(['rev-parse', 'HEAD']);
    return { commit, clean: run(['status', '--porcelain']) === '' };
  } catch {
    return undefined;
  }
};

function stamp(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * Execution names, so that one commit is not run twice:
 * - provision of a clean git commit: `<name>-<12 hex>`, the same name the GitHub receiver uses, so
 *   `fabricctl up` and a push of that commit share one execution;
 * - plan of a clean commit: `<name>-plan-<12 hex>`;
 * - anything else (no git, uncommitted changes, destroy, --rerun): `<name>-<action>-<UTC time>`.
 */
export function executionNameForRun(options: {
  name: string;
  action: RunAction;
  git?: { commit: string; clean: boolean };
  now: Date;
  rerun?: boolean;
}): string {
  const { name, action, git, now } = options;
  if (git?.clean && !options.rerun && action !== 'destroy') {
    return action === 'provision' ? executionNameFor(name, git.commit) : executionNameFor(`${name}-plan`, git.commit);
  }
  const suffix = `-${action}-${stamp(now)}`;
  return `${sanitiseExecutionName(name).slice(0, 80 - suffix.length)}${suffix}`;
}

export function gitOfSpec(specPath: string, probe: GitProbe = gitProbe): { commit: string; clean: boolean } | undefined {
  return probe(dirname(specPath));
}

export interface StartedRun {
  readonly executionArn: string;
  readonly name: string;
  /** False when an execution of that name already existed (the same commit ran before). */
  readonly started: boolean;
}

export async function startRun(sfn: Sender<SFNClient>, stateMachineArn: string, name: string, input: ExecutionInput): Promise<StartedRun> {
  try {
    const result = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return { executionArn: result.executionArn ?? executionArnFor(stateMachineArn, name), name, started: true };
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists || (error as Error).name === 'ExecutionAlreadyExists') {
      return { executionArn: executionArnFor(stateMachineArn, name), name, started: false };
    }
    throw error;
  }
}

export interface WatchDeps {
  readonly sfn: Sender<SFNClient>;
  readonly logs?: Sender<CloudWatchLogsClient>;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

export interface WatchResult {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'RUNNING' | 'ABORTED' | 'TIMED_OUT';
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  /** True when watching was stopped (Ctrl-C) before the execution ended. */
  readonly interrupted: boolean;
  readonly totalMs?: number;
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/** Final state of an execution, from DescribeExecution. */
function outcomeOf(described: DescribeExecutionCommandOutput): Omit<WatchResult, 'interrupted'> {
  const status = (described.status ?? 'RUNNING') as WatchResult['status'];
  const totalMs = described.startDate && described.stopDate ? described.stopDate.getTime() - described.startDate.getTime() : undefined;
  return { status, output: parseJson(described.output), error: described.error, cause: described.cause, totalMs };
}

/**
 * Follows an execution: pages through its history as it grows, converting events for the renderer,
 * and tails the log streams of its builds. Stops at the execution's end, or when
 * `signal` aborts (Ctrl-C): watching stops, the execution goes on.
 */
export async function watchExecution(executionArn: string, onEvent: (event: ProgressEvent) => void, deps: WatchDeps): Promise<WatchResult> {
  const sleep = deps.sleep ?? ((ms: number) => defaultSleep(ms, deps.signal));
  const pollMs = deps.pollMs ?? 3000;
  let definition: unknown;
  try {
    const described = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.stateMachineArn) {
      const machine = await deps.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: described.stateMachineArn }));
      definition = parseJson(machine.definition);
    }
  } catch (error) {
    if ((error as Error).name === 'ExecutionDoesNotExist')
      throw new CliError(EXIT.NOT_FOUND, 'ExecutionNotFound', `execution ${executionArn} not found`);
    throw error;
  }
  const converter = new HistoryConverter({ execution: executionArn, definition });
  // A history read to its last page has no token to continue from: each poll reads it again from
  // the start and skips the events already seen (ids increase).
  let lastSeen = 0;
  const logTokens = new Map<string, string | undefined>();

  for (;;) {
    let nextToken: string | undefined;
    do {
      const page = await deps.sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
      for (const event of page.events ?? ([] as HistoryEvent[])) {
        if ((event.id ?? 0) <= lastSeen) continue;
        lastSeen = event.id ?? lastSeen;
        for (const progress of converter.push(event)) onEvent(progress);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    // Every build so far, in order: two may start and end between polls (a plan's network and cluster jobs).
    const logsClient = deps.logs;
    for (const build of converter.builds) {
      if (!logsClient) break;
      const stream = { logGroupName: build.logGroup, logStreamName: build.logStream, startFromHead: true };
      try {
        for (;;) {
          const token = logTokens.get(build.buildId);
          const logs = await logsClient.send(new GetLogEventsCommand({ ...stream, nextToken: token }));
          for (const e of logs.events ?? [])
            onEvent({ type: 'log', state: build.state, at: new Date(e.timestamp ?? 0), line: (e.message ?? '').replace(/\n$/, '') });
          logTokens.set(build.buildId, logs.nextForwardToken);
          // The same token back means the stream's end, for now.
          if ((logs.events ?? []).length === 0 || logs.nextForwardToken === token) break;
        }
      } catch (error) {
        // The stream appears a few seconds after the build starts.
        if ((error as Error).name !== 'ResourceNotFoundException') throw error;
      }
    }
    if (converter.finished) break;
    if (deps.signal?.aborted) return { status: 'RUNNING', interrupted: true };
    await sleep(pollMs);
    if (deps.signal?.aborted) return { status: 'RUNNING', interrupted: true };
  }
  // The history's last event says how it ended, with the output, without another call.
  const totalMs = converter.firstAt && converter.lastAt ? converter.lastAt.getTime() - converter.firstAt.getTime() : undefined;
  if (converter.outcome) return { ...converter.outcome, totalMs, interrupted: false };
  return { ...outcomeOf(await deps.sfn.send(new DescribeExecutionCommand({ executionArn }))), interrupted: false };
}
