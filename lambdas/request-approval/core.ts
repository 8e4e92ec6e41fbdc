import { ConditionalCheckFailedException, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { ApprovalRequest, StateDocument } from '../../lib/domain/contract';
import { LockNotHeld } from '../../lib/domain/errors';
import { approveCommand, EVENT_SOURCE, FABRIC_AWAITING_APPROVAL } from '../../lib/domain/events';
import { planSummaryOf } from '../../lib/domain/plan-summary';
import { HELD_BY_ME, LOCK_ATTRIBUTE, lockKey } from '../../lib/domain/lock';

/** `RequestApproval` payload (`lambda:invoke.waitForTaskToken`): the token and the whole state document. */
export interface RequestApprovalEvent {
  readonly taskToken: string;
  readonly state: StateDocument;
}

export interface RequestApprovalDeps {
  readonly dynamodb: Pick<DynamoDBClient, 'send'>;
  readonly events: Pick<EventBridgeClient, 'send'>;
  readonly lockTable: string;
  /** The stack's region, where `fabricctl approve` finds the lock table. */
  readonly stackRegion: string;
  readonly now?: () => Date;
}

/**
 * Parks the run's task token where `fabricctl approve` finds it and announces the wait. The token goes
 * on the fabric's lock item, which only this execution holds (the condition), so an approval reaches
 * the run that planned: another run of the fabric cannot be waiting at the same time. The event carries
 * the token too, for tools that approve from EventBridge. The function returns at once; the run waits
 * until SendTaskSuccess/SendTaskFailure with the token, or its TimeoutSecondsPath.
 */
export async function requestApproval(event: RequestApprovalEvent, deps: RequestApprovalDeps): Promise<ApprovalRequest> {
  const { fabric } = event.state;
  const now = (deps.now ?? (() => new Date()))();
  const request: ApprovalRequest = {
    name: fabric.name,
    execution: fabric.execution,
    taskToken: event.taskToken,
    summary: planSummaryOf(event.state.jobs),
    expiresAt: new Date(now.getTime() + fabric.approval.timeoutSeconds * 1000).toISOString(),
  };
  try {
    await deps.dynamodb.send(
      new UpdateItemCommand({
        TableName: deps.lockTable,
        Key: lockKey(fabric.name),
        UpdateExpression: `SET ${LOCK_ATTRIBUTE.approval} = :request`,
        ConditionExpression: HELD_BY_ME,
        ExpressionAttributeValues: { ':request': { S: JSON.stringify(request) }, ':me': { S: fabric.execution } },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') {
      throw new LockNotHeld(fabric.name, fabric.execution, undefined);
    }
    throw error;
  }
  await deps.events.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: EVENT_SOURCE,
          DetailType: FABRIC_AWAITING_APPROVAL,
          Detail: JSON.stringify({ ...request, approveWith: approveCommand(fabric.name, deps.stackRegion) }),
        },
      ],
    }),
  );
  return request;
}
