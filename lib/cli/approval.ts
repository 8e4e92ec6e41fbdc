import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { ApprovalDecision, ApprovalRequest } from '../domain/contract';
import type { TaskTokenSender } from '../local/task-tokens';
import { CliError, EXIT } from './io';
import { LOCK_ATTRIBUTE, lockKey } from '../domain/lock';

/**
 * `fabricctl approve|reject <name>`: the run that waits for approval parked its task token on the
 * fabric's lock item (lambdas/request-approval); the answer goes to Step Functions with that token.
 * A token of a run that is over gets TaskDoesNotExist/TaskTimedOut from the service.
 */
type Sender<C extends { send: unknown }> = Pick<C, 'send'>;

/** The approval the fabric's locked run waits for; `NotAwaitingApproval` when none does. */
export async function pendingApproval(dynamodb: Sender<DynamoDBClient>, lockTable: string, name: string): Promise<ApprovalRequest> {
  const { Item } = await dynamodb.send(new GetItemCommand({ TableName: lockTable, Key: lockKey(name), ConsistentRead: true }));
  const text = Item?.[LOCK_ATTRIBUTE.approval]?.S;
  if (!text) {
    throw new CliError(
      EXIT.NOT_FOUND,
      'NotAwaitingApproval',
      Item
        ? `fabric ${name} is locked by ${Item[LOCK_ATTRIBUTE.holder]?.S ?? 'a run'}, which is not waiting for approval`
        : `no run of fabric ${name} is waiting for approval (fabricctl status ${name} shows its state)`,
    );
  }
  return JSON.parse(text) as ApprovalRequest;
}

/** Step Functions' task-token calls (the local runner has its own: lib/local/task-tokens.ts). */
export function stepFunctionsTokens(sfn: Sender<SFNClient>): TaskTokenSender {
  return {
    async sendTaskSuccess(token, output) {
      await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
    },
    async sendTaskFailure(token, error, cause) {
      await sfn.send(new SendTaskFailureCommand({ taskToken: token, error, cause }));
    },
  };
}

/** Who answers: the caller's ARN, kept in the run's history and the rejection's cause. */
export async function callerArn(sts: Sender<STSClient>): Promise<string> {
  return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? 'unknown caller';
}

export async function approve(request: ApprovalRequest, tokens: TaskTokenSender, who: string, now: Date): Promise<ApprovalDecision> {
  if (Date.parse(request.expiresAt) <= now.getTime()) {
    throw new CliError(
      EXIT.FAILED,
      'ApprovalTimedOut',
      `the approval of ${request.name} expired at ${request.expiresAt}; the run ended without applying. Provision again to get a new plan`,
    );
  }
  const decision: ApprovalDecision = { approvedBy: who, at: now.toISOString() };
  await tokens.sendTaskSuccess(request.taskToken, decision);
  return decision;
}

export async function reject(request: ApprovalRequest, tokens: TaskTokenSender, who: string, reason: string | undefined): Promise<void> {
  await tokens.sendTaskFailure(
    request.taskToken,
    'ApprovalRejected',
    `the plan of ${request.name} was rejected by ${who}${reason ? `: ${reason}` : ''}; nothing was applied`,
  );
}

/** The plan a person is asked to approve, as the CLI prints it. */
export function renderApprovalRequest(request: ApprovalRequest): string {
  return (
    [
      `fabric ${request.name} waits for approval until ${request.expiresAt}`,
      ...request.summary.lines.map((line) => `  ${line}`),
      `approve: fabricctl approve ${request.name}    reject: fabricctl reject ${request.name} --reason "..."`,
    ].join('\n') + '\n'
  );
}
