import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { LOCAL_LOCK_TABLE, lockTableForAwsRun } from '../../lib/local/environment';

/** CloudFormation's DescribeStacks as the CLI reads it: a stack with outputs, or ValidationError. */
function cloudFormation(outputs: Record<string, string> | undefined) {
  return {
    send: async (command: unknown) => {
      if (!(command instanceof DescribeStacksCommand)) throw new Error('unexpected command');
      if (outputs === undefined) {
        const error = new Error(`Stack with id ${command.input.StackName ?? ''} does not exist`);
        error.name = 'ValidationError';
        throw error;
      }
      return {
        Stacks: [
          {
            StackName: command.input.StackName,
            Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
          },
        ],
      };
    },
  } as never;
}

describe('lockTableForAwsRun (local --aws runs)', () => {
  test("GIVEN the stack in the region WHEN a local --aws run starts THEN it locks in the stack's table, as cloud runs do", async () => {
    const cfn = cloudFormation({
      StateMachineArn: 'arn:aws:states:us-east-2:123456789012:stateMachine:FabricOrchestrator',
      LockTableName: 'FabricOrchestrator-LockTable1234',
    });
    await expect(lockTableForAwsRun(cfn, 'FabricOrchestrator')).resolves.toEqual({
      table: 'FabricOrchestrator-LockTable1234',
      why: 'the locks of stack FabricOrchestrator, shared with its cloud runs',
    });
  });

  test('GIVEN no stack in the region WHEN a local --aws run starts THEN it uses its own table: no cloud run to exclude', async () => {
    await expect(lockTableForAwsRun(cloudFormation(undefined), 'FabricOrchestrator')).resolves.toEqual({
      table: LOCAL_LOCK_TABLE,
      why: 'no stack FabricOrchestrator in this region, so no cloud run to share locks with',
    });
  });

  test('GIVEN CloudFormation refuses WHEN a local --aws run starts THEN it stops rather than lock a table no cloud run sees', async () => {
    const denied = {
      send: async () =>
        Promise.reject(Object.assign(new Error('not authorized to perform cloudformation:DescribeStacks'), { name: 'AccessDenied' })),
    } as never;
    await expect(lockTableForAwsRun(denied, 'FabricOrchestrator')).rejects.toThrow(/not authorized/);
  });
});
