import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { clientOptions } from '../shared/clients';
import { LOCK_TABLE_ENV, requiredEnv } from '../shared/config';
import type { ApprovalRequest } from '../../lib/domain/contract';
import { createLogger } from '../shared/logger';
import { requestApproval, RequestApprovalEvent } from './core';

const lockTable = requiredEnv(LOCK_TABLE_ENV);
const dynamodb = new DynamoDBClient(clientOptions());
const events = new EventBridgeClient(clientOptions());

/** `RequestApproval`: parks the task token on the lock item and puts `Fabric Awaiting Approval`. */
export const handler = async (event: RequestApprovalEvent): Promise<ApprovalRequest> => {
  const request = await requestApproval(event, { dynamodb, events, lockTable, stackRegion: await events.config.region() });
  // The token is a credential to continue the run: logged by its tail only.
  createLogger({ fabric: request.name, execution: request.execution }).info('approval requested', {
    token: `...${request.taskToken.slice(-8)}`,
    expiresAt: request.expiresAt,
    plan: request.summary.lines,
  });
  return request;
};
