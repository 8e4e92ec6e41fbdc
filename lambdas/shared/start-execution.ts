import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ExecutionInput } from '../../lib/domain/contract';
import { executionArnFor } from '../../lib/domain/execution-name';

/** A StartExecution whose name is derived from what it runs (see execution-name.ts). */
export interface ExecutionRequest {
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: ExecutionInput;
}

export type StartResult = { readonly started: boolean; readonly executionArn: string };

/** True when an execution of that ARN exists (running or closed). */
export async function executionExists(sfn: SFNClient, executionArn: string): Promise<boolean> {
  try {
    await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return true;
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist || (error as Error).name === 'ExecutionDoesNotExist') return false;
    throw error;
  }
}

/**
 * Starts the named execution; a name already taken means another delivery got there first.
 * (For a running execution with the same input, Standard workflows answer with the same ARN instead
 * of ExecutionAlreadyExists: still one execution.)
 */
export async function startOnce(sfn: SFNClient, request: ExecutionRequest): Promise<StartResult> {
  try {
    const result = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: request.stateMachineArn, name: request.name, input: JSON.stringify(request.input) }),
    );
    return { started: true, executionArn: result.executionArn ?? executionArnFor(request.stateMachineArn, request.name) };
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists || (error as Error).name === 'ExecutionAlreadyExists') {
      return { started: false, executionArn: executionArnFor(request.stateMachineArn, request.name) };
    }
    throw error;
  }
}
