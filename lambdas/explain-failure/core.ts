import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { ValidatedFabric } from '../../lib/domain/contract';
import { buildHeadline, buildLogLocation, type BuildFacts, parseBuildCause } from '../../lib/domain/build-cause';
import { createLogger, Logger } from '../shared/logger';

/**
 * On the failure path: turns the cause Step Functions gives for a failed
 * `codebuild:startBuild.sync` task (the JSON of the build) into a readable one: which job, which
 * phase, Terraform's or kops's own error lines from the tail of the build log, and where to read
 * the rest. Any other cause passes through unchanged. It never throws for a readable input: a
 * failure to explain must not hide the failure being explained.
 */

export interface TaskError {
  readonly Error: string;
  readonly Cause: string;
}

export interface ExplainEvent {
  readonly fabric?: Pick<ValidatedFabric, 'name' | 'execution'>;
  readonly error: TaskError;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
const BOX_BODY = /^\s*│ ?/;
const BLOCK_START = /^\s*(?:[╷│]\s*)?(?:Error|error): /;
const MAX_BLOCK_LINES = 15;
const MAX_BLOCKS = 5;

/**
 * Pure: Terraform's `Error: ...` blocks (with or without its `│` box), kops's `Error: ...` lines and
 * klog error lines (`E1126 ...`) from the log tail, de-boxed. When there are none, the last lines
 * that are not CodeBuild's own `[Container]` chatter.
 */
export function extractErrorLines(lines: readonly string[]): string[] {
  const clean = lines.map((l) => l.replace(ANSI, '').replace(/\s+$/, ''));
  const blocks: string[][] = [];
  for (let i = 0; i < clean.length; i += 1) {
    const line = clean[i] ?? '';
    if (/^E\d{4} /.test(line)) {
      blocks.push([line]);
      continue;
    }
    if (!BLOCK_START.test(line)) continue;
    const boxed = BOX_BODY.test(line) || /^\s*╷/.test(clean[i - 1] ?? '');
    const block = [
      line
        .replace(BOX_BODY, '')
        .replace(/^\s*╷\s*/, '')
        .trim(),
    ];
    // Boxed (Terraform's default): the block is every following `│` line. Unboxed (-no-color, kops):
    // the following blank or indented lines.
    const continues = (next: string): boolean =>
      !BLOCK_START.test(next) && (boxed ? BOX_BODY.test(next) : next.trim() === '' || /^\s/.test(next));
    while (i + 1 < clean.length && continues(clean[i + 1] ?? '')) {
      i += 1;
      const body = (clean[i] ?? '').replace(BOX_BODY, '');
      if (body.trim() !== '' && block.length < MAX_BLOCK_LINES) block.push(`  ${body}`);
    }
    blocks.push(block);
  }
  if (blocks.length > 0) {
    // The last errors are the ones that stopped the build.
    return blocks.slice(-MAX_BLOCKS).flat();
  }
  return clean.filter((l) => l.trim() !== '' && !l.startsWith('[Container]')).slice(-15);
}

/** Step Functions caps a cause at 32,768 characters; stay well inside it. */
const MAX_CAUSE = 8000;

function cap(value: string): string {
  return value.length <= MAX_CAUSE ? value : `${value.slice(0, MAX_CAUSE - 20)}\n... (truncated)`;
}

/** Pure: the readable cause. `logLines` undefined with `logProblem` when the log could not be read. */
export function explainBuild(
  facts: BuildFacts,
  fabric: string | undefined,
  log: { readonly lines: readonly string[] } | { readonly problem: string },
  originalCause: string,
): string {
  const headline = buildHeadline(facts, fabric);
  const where = buildLogLocation(facts);
  if ('problem' in log) {
    return cap(`${headline}\nThe build log could not be read (${log.problem}). ${where}\nOriginal cause: ${originalCause}`);
  }
  const errors = extractErrorLines(log.lines);
  const body = errors.length > 0 ? `Last error lines of the build log:\n${errors.join('\n')}` : 'The build log tail is empty.';
  return cap(`${headline}\n${body}\n${where}`);
}

/** The last `limit` lines of a log stream (GetLogEvents reads from the end unless told otherwise). */
export async function readLogTail(logs: CloudWatchLogsClient, group: string, stream: string, limit = 200): Promise<string[]> {
  const page = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, startFromHead: false, limit }));
  const lines = (page.events ?? []).flatMap((e) => (e.message ?? '').replace(/\n$/, '').split('\n'));
  return lines.slice(-limit);
}

export async function explainFailure(
  event: ExplainEvent,
  logs: CloudWatchLogsClient,
  options: { readonly logger?: Logger } = {},
): Promise<TaskError> {
  const original: TaskError = { Error: String(event.error?.Error ?? 'States.Runtime'), Cause: String(event.error?.Cause ?? '') };
  const logger = options.logger ?? createLogger({ fabric: event.fabric?.name, execution: event.fabric?.execution });
  try {
    const facts = parseBuildCause(original.Cause);
    if (facts === undefined) return original;
    let log: { lines: readonly string[] } | { problem: string };
    if (facts.logGroup && facts.logStream) {
      try {
        log = { lines: await readLogTail(logs, facts.logGroup, facts.logStream) };
      } catch (error) {
        log = { problem: `${(error as Error).name}: ${(error as Error).message}` };
        logger.warn('build log unreadable', { group: facts.logGroup, stream: facts.logStream, error: (error as Error).message });
      }
    } else {
      log = { problem: 'the build has no log group or stream' };
    }
    return { Error: original.Error, Cause: explainBuild(facts, event.fabric?.name, log, original.Cause) };
  } catch (error) {
    // Explaining must never replace the failure being explained.
    logger.error('could not explain the failure; passing it on unchanged', { error: (error as Error).message });
    return original;
  }
}
