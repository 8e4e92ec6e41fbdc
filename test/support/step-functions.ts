import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';

/**
 * The Step Functions statements lib/execution-grants.ts gives a function that starts runs once per
 * commit (the webhook and the CodeCommit push function): start this machine, describe its executions.
 */
export const START_ONCE_STATEMENTS = [
  { Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: expect.stringMatching(/^Machine/) } },
  {
    Action: 'states:DescribeExecution',
    Effect: 'Allow',
    Resource: {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':states:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':execution:',
          { 'Fn::GetAtt': [expect.stringMatching(/^Machine/), 'Name'] },
          ':*',
        ],
      ],
    },
  },
];

/** A one-state machine named FabricOrchestrator in the emulator, for handlers that start runs; its ARN. */
export async function createEmulatedStateMachine(sfn: SFNClient): Promise<string> {
  const machine = await sfn.send(
    new CreateStateMachineCommand({
      name: 'FabricOrchestrator',
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
      roleArn: 'arn:aws:iam::123456789012:role/fabric',
    }),
  );
  return machine.stateMachineArn ?? '';
}
