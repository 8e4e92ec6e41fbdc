import { createEmulatedStateMachine } from '../support/step-functions';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { PushResult } from '../../lambdas/codecommit-push/core';
import { codeCommitPushEvent } from '../support/eventbridge';
import { describeWithMoto, useMoto } from '../support/moto';

/**
 * The CodeCommit push function end to end with the real SDK against moto's Step Functions
 * (CreateStateMachine, DescribeExecution, StartExecution, ListExecutions), given events as
 * EventBridge delivers them. Each test pushes its own commit, so each execution name is new.
 */
const commit = (n: number): string => n.toString(16).padEnd(40, 'e');

describeWithMoto('codecommit-push handler against moto', () => {
  useMoto();
  let handler: (event: unknown) => Promise<PushResult>;
  let stateMachineArn: string;
  const sfn = (): SFNClient => new SFNClient({ region: 'us-east-2' });
  const executions = async (): Promise<string[]> =>
    ((await sfn().send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? []).map((e) => e.name ?? '');

  beforeAll(async () => {
    stateMachineArn = await createEmulatedStateMachine(sfn());
    process.env.STATE_MACHINE_ARN = stateMachineArn;
    // Loaded after moto is up: the handler reads its environment and builds its client at load.
    ({ handler } = await import('../../lambdas/codecommit-push/handler'));
  });
  afterAll(() => {
    delete process.env.STATE_MACHINE_ARN;
  });

  test(
    'GIVEN a push to fabric/demo WHEN the event arrives ' +
      'THEN one provision execution named after the commit, with the CodeCommit source as input',
    async () => {
      const result = await handler(codeCommitPushEvent('fabrics', 'fabric/demo', commit(1)));
      if (result.outcome === 'misnamed') throw new Error(result.reason);
      expect(result).toMatchObject({ outcome: 'started', executionName: `demo-${commit(1).slice(0, 12)}` });
      const execution = await sfn().send(new DescribeExecutionCommand({ executionArn: result.executionArn }));
      expect(JSON.parse(execution.input ?? '{}')).toEqual({
        action: 'provision',
        source: { provider: 'codecommit', repository: 'fabrics', branch: 'fabric/demo', commit: commit(1) },
      });
    },
  );

  test('GIVEN a handled push WHEN EventBridge delivers the event again THEN duplicate; still one execution of that commit', async () => {
    const event = codeCommitPushEvent('fabrics', 'fabric/demo', commit(2));
    expect((await handler(event)).outcome).toBe('started');
    const again = await handler(event);
    expect(again).toMatchObject({ outcome: 'duplicate', executionName: `demo-${commit(2).slice(0, 12)}` });
    expect((await executions()).filter((n) => n === `demo-${commit(2).slice(0, 12)}`)).toHaveLength(1);
  });

  test('fails when the event is not a push to a fabric branch: CodeCommitEventInvalid and no execution', async () => {
    const before = await executions();
    await expect(handler(codeCommitPushEvent('fabrics', 'main', commit(3)))).rejects.toMatchObject({ name: 'CodeCommitEventInvalid' });
    expect(await executions()).toEqual(before);
  });
});
