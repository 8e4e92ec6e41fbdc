import { SFNClient } from '@aws-sdk/client-sfn';
import { clientOptions } from '../shared/clients';
import { requiredEnv } from '../shared/config';
import { PushResult, startPush } from './core';

/**
 * Target of the CodeCommit push rule (invoked asynchronously by EventBridge with the whole
 * `CodeCommit Repository State Change` event). Environment:
 * - STATE_MACHINE_ARN: the provisioning state machine.
 * A thrown error makes Lambda retry the event, then put it on the trigger's dead-letter queue.
 */
const STATE_MACHINE_ARN = requiredEnv('STATE_MACHINE_ARN');
const sfn = new SFNClient(clientOptions());

export async function handler(event: unknown): Promise<PushResult> {
  return startPush(event, { sfn, stateMachineArn: STATE_MACHINE_ARN });
}
