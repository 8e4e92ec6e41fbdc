import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SpecSource } from '../../lib/domain/contract';
import { FabricError } from '../../lib/domain/errors';
import { executionArnFor, executionNameFor } from '../../lib/domain/execution-name';
import { fabricBranchProblem } from '../../lib/domain/names';
import { createLogger, Logger } from '../shared/logger';
import { type ExecutionRequest, executionExists, startOnce } from '../shared/start-execution';
import * as z from '../../lib/domain/zod';

/**
 * CodeCommit push receiver, as plain functions: one EventBridge event of a push to a `fabric/<name>`
 * branch in, at most one provisioning execution out. EventBridge delivers each event at least once;
 * the execution is named after the commit, so a repeated event finds its execution and starts nothing.
 */

/** CodeCommit's `detail.referenceName` is the short branch name (`fabric/demo`), without `refs/heads/`. */
export const FABRIC_BRANCH_PREFIX = 'fabric/';

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** The parts of a `CodeCommit Repository State Change` event this function reads. */
const pushEventSchema = z.object({
  id: z.optional(z.string()),
  source: z.literal('aws.codecommit', { error: 'expected source "aws.codecommit"' }),
  'detail-type': z.literal('CodeCommit Repository State Change', { error: 'expected detail-type "CodeCommit Repository State Change"' }),
  detail: z.object({
    event: z.enum(['referenceCreated', 'referenceUpdated'], {
      error: 'expected referenceCreated or referenceUpdated (a deletion starts nothing)',
    }),
    repositoryName: z
      .string({ error: 'expected the repository name as text' })
      .check(z.minLength(1, { error: 'expected the repository name' })),
    referenceType: z.literal('branch', { error: 'expected a branch (tags start nothing)' }),
    referenceName: z.string({ error: 'expected the branch name as text' }).check(
      z.refine((name) => name.startsWith(FABRIC_BRANCH_PREFIX) && name.length > FABRIC_BRANCH_PREFIX.length, {
        error: 'expected a fabric/<name> branch',
      }),
    ),
    commitId: z.string({ error: 'expected the pushed commit id' }).check(z.regex(SHA, { error: 'expected a 40-hex commit id' })),
  }),
});

/** The event is not a push to a fabric branch: the push rule should never have sent it. Nothing was started. */
export class CodeCommitEventInvalid extends FabricError {
  constructor(eventId: string | undefined, problems: readonly string[]) {
    super(
      'CodeCommitEventInvalid',
      `CodeCommit event ${eventId ?? '(no id)'} is not a push to a fabric/<name> branch, so nothing was started: ${problems.join('; ')}. ` +
        "Only the stack's CodeCommit push rule should invoke this function; check the rule's event pattern (lib/codecommit-trigger.ts).",
    );
  }
}

/** A push to a fabric branch, as the state machine's `source` names it. */
export interface CodeCommitPush {
  readonly eventId?: string;
  /** The fabric name: the branch without `fabric/`. */
  readonly name: string;
  readonly source: SpecSource & { readonly provider: 'codecommit' };
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? 'nothing';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function parsePushEvent(event: unknown): CodeCommitPush {
  const parsed = pushEventSchema.safeParse(event);
  if (!parsed.success) {
    const valueAt = (path: readonly PropertyKey[]): unknown =>
      path.reduce<unknown>(
        (node, key) => (node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined),
        event,
      );
    const id = typeof (event as { id?: unknown } | null)?.id === 'string' ? (event as { id: string }).id : undefined;
    throw new CodeCommitEventInvalid(
      id,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'} is ${shown(valueAt(i.path))}, ${i.message}`),
    );
  }
  const { detail } = parsed.data;
  return {
    eventId: parsed.data.id,
    name: detail.referenceName.slice(FABRIC_BRANCH_PREFIX.length),
    source: { provider: 'codecommit', repository: detail.repositoryName, branch: detail.referenceName, commit: detail.commitId },
  };
}

/**
 * The StartExecution request of a push: named `<name>-<12 hex>` like the GitHub webhook's and
 * `fabricctl up`'s runs of a commit, with the input the push rule has always sent (the state machine's
 * first state reads `fabric.json` at that commit and checks its name against the branch).
 */
export function buildPushRequest(stateMachineArn: string, push: CodeCommitPush): ExecutionRequest {
  return { stateMachineArn, name: executionNameFor(push.name, push.source.commit), input: { action: 'provision', source: push.source } };
}

export interface PushDeps {
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  readonly logger?: Logger;
}

export type PushResult =
  | {
      /** `duplicate`: an execution of this commit exists already (a repeated event); nothing was started. */
      readonly outcome: 'started' | 'duplicate';
      readonly executionName: string;
      readonly executionArn: string;
    }
  | {
      /** The branch does not carry a fabric's name as written (fabric/Demo, fabric/team/demo): nothing started. */
      readonly outcome: 'misnamed';
      readonly reason: string;
    };

/** Starts the push's execution unless one of that name exists. AWS faults throw, so Lambda retries the event. */
export async function startPush(event: unknown, deps: PushDeps): Promise<PushResult> {
  const push = parsePushEvent(event);
  const misnamed = fabricBranchProblem(push.name);
  if (misnamed) {
    // The pusher's to fix, not a fault to retry: a run could only fail, under another fabric's execution name.
    const reason = `branch ${push.source.branch} of ${push.source.repository}: ${misnamed}; nothing started`;
    (deps.logger ?? createLogger()).warn(reason, { event: push.eventId, commit: push.source.commit });
    return { outcome: 'misnamed', reason };
  }
  const request = buildPushRequest(deps.stateMachineArn, push);
  const executionArn = executionArnFor(deps.stateMachineArn, request.name);
  const log = (deps.logger ?? createLogger()).with({ fabric: push.name, execution: executionArn });
  const fields = { event: push.eventId, repository: push.source.repository, branch: push.source.branch, commit: push.source.commit };
  // Describe first: a running execution started with the same input makes StartExecution answer
  // with its ARN, not ExecutionAlreadyExists, which would read as a new start.
  if (await executionExists(deps.sfn, executionArn)) {
    log.info('duplicate push event: this commit already has its execution, nothing started', fields);
    return { outcome: 'duplicate', executionName: request.name, executionArn };
  }
  const result = await startOnce(deps.sfn, request);
  log.info(
    result.started ? 'provisioning started' : 'duplicate push event: another delivery started this commit first, nothing started',
    fields,
  );
  return { outcome: result.started ? 'started' : 'duplicate', executionName: request.name, executionArn: result.executionArn };
}
