import { mockClient } from 'aws-sdk-client-mock';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { buildPushRequest, parsePushEvent, startPush } from '../../lambdas/codecommit-push/core';
import type { Logger, LogContext } from '../../lambdas/shared/logger';
import { codeCommitPushEvent } from '../support/eventbridge';

/** Core tests: no network. Step Functions is mocked with aws-sdk-client-mock (moto is used by the handler test). */
const COMMIT = '7f3c0e3b2a1d4c5e6f708192a3b4c5d6e7f80910';
const STATE_MACHINE = 'arn:aws:states:us-east-2:123456789012:stateMachine:Fabric';
const EXECUTION = 'arn:aws:states:us-east-2:123456789012:execution:Fabric:demo-7f3c0e3b2a1d';
const push = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
  const event = codeCommitPushEvent('fabrics', 'fabric/demo', COMMIT);
  return { ...event, detail: { ...(event.detail as Record<string, unknown>), ...overrides } };
};

describe('parsePushEvent', () => {
  test('GIVEN a CodeCommit push to fabric/demo WHEN parsed THEN it is the fabric demo at that commit, with the CodeCommit source', () => {
    expect(parsePushEvent(push())).toEqual({
      eventId: '01234567-0123-0123-0123-012345678901',
      name: 'demo',
      source: { provider: 'codecommit', repository: 'fabrics', branch: 'fabric/demo', commit: COMMIT },
    });
  });

  test('GIVEN a branch created at a commit WHEN parsed THEN it is a push like an update', () => {
    expect(parsePushEvent(push({ event: 'referenceCreated' })).name).toBe('demo');
  });

  test('fails when the branch is not a fabric branch: CodeCommitEventInvalid naming the field and the value', () => {
    expect(() => parsePushEvent(push({ referenceName: 'main' }))).toThrow(
      expect.objectContaining({
        name: 'CodeCommitEventInvalid',
        message: expect.stringContaining('detail.referenceName is "main", expected a fabric/<name> branch'),
      }),
    );
  });

  test('fails when the event is a branch deletion', () => {
    expect(() => parsePushEvent(push({ event: 'referenceDeleted' }))).toThrow(
      expect.objectContaining({ name: 'CodeCommitEventInvalid', message: expect.stringContaining('detail.event is "referenceDeleted"') }),
    );
  });

  test('fails when the commit id is not a commit id', () => {
    expect(() => parsePushEvent(push({ commitId: 'HEAD' }))).toThrow(
      expect.objectContaining({
        name: 'CodeCommitEventInvalid',
        message: expect.stringContaining('detail.commitId is "HEAD", expected a 40-hex commit id'),
      }),
    );
  });

  test('fails when the event is not a CodeCommit event at all, saying nothing was started', () => {
    expect(() => parsePushEvent({ id: 'x-1', source: 'aws.s3' })).toThrow(
      expect.objectContaining({
        name: 'CodeCommitEventInvalid',
        message: expect.stringMatching(
          /^CodeCommit event x-1 is not a push to a fabric\/<name> branch, so nothing was started: source is "aws.s3"/,
        ),
      }),
    );
  });
});

describe('buildPushRequest', () => {
  test('GIVEN a push WHEN built THEN the name is <name>-<12 hex> and the input is the provision input the rule always sent', () => {
    expect(buildPushRequest(STATE_MACHINE, parsePushEvent(push()))).toEqual({
      stateMachineArn: STATE_MACHINE,
      name: 'demo-7f3c0e3b2a1d',
      input: { action: 'provision', source: { provider: 'codecommit', repository: 'fabrics', branch: 'fabric/demo', commit: COMMIT } },
    });
  });
});

describe('startPush', () => {
  const sfnMock = mockClient(SFNClient);
  let lines: Record<string, unknown>[];
  /** Keeps each line with its context, as the JSON logger would write it. */
  const recorder = (context: LogContext = {}): Logger => {
    const log = (level: string, message: string, fields: Record<string, unknown> = {}) =>
      void lines.push({ level, message, ...context, ...fields });
    return {
      log,
      info: (m, f) => log('info', m, f),
      warn: (m, f) => log('warn', m, f),
      error: (m, f) => log('error', m, f),
      with: (more) => recorder({ ...context, ...more }),
    };
  };
  const deps = () => ({ sfn: new SFNClient({ region: 'us-east-2' }), stateMachineArn: STATE_MACHINE, logger: recorder() });
  beforeEach(() => {
    sfnMock.reset();
    lines = [];
    sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'no', $metadata: {} }));
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
  });

  test('GIVEN a commit never run WHEN pushed THEN one StartExecution with the commit-derived name and the provision input', async () => {
    expect(await startPush(push(), deps())).toEqual({ outcome: 'started', executionName: 'demo-7f3c0e3b2a1d', executionArn: EXECUTION });
    expect(sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([
      {
        stateMachineArn: STATE_MACHINE,
        name: 'demo-7f3c0e3b2a1d',
        input: JSON.stringify({
          action: 'provision',
          source: { provider: 'codecommit', repository: 'fabrics', branch: 'fabric/demo', commit: COMMIT },
        }),
      },
    ]);
  });

  test(
    'GIVEN a branch that does not carry a fabric name as written (fabric/Demo, fabric/team/demo) WHEN pushed ' +
      "THEN misnamed, warned, and no StartExecution that would take fabric demo's execution name",
    async () => {
      for (const [branch, why] of [
        ['fabric/Demo', 'a fabric named demo lives on branch fabric/demo'],
        ['fabric/team/demo', 'a fabric named teamdemo lives on branch fabric/teamdemo'],
      ] as const) {
        expect(await startPush(push({ referenceName: branch }), deps())).toEqual({
          outcome: 'misnamed',
          reason: `branch ${branch} of fabrics: does not name a fabric: ${why}; nothing started`,
        });
      }
      expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
      expect(lines.map((l) => l.level)).toEqual(['warn', 'warn']);
    },
  );

  test('GIVEN the execution of that commit exists WHEN the event comes again THEN duplicate, logged, and no StartExecution', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: EXECUTION, status: 'RUNNING' });
    expect(await startPush(push(), deps())).toEqual({ outcome: 'duplicate', executionName: 'demo-7f3c0e3b2a1d', executionArn: EXECUTION });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        message: expect.stringContaining('duplicate push event'),
        fabric: 'demo',
        execution: EXECUTION,
        commit: COMMIT,
      }),
    ]);
  });

  test('GIVEN two deliveries racing WHEN StartExecution says ExecutionAlreadyExists THEN duplicate, not an error', async () => {
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    expect(await startPush(push(), deps())).toMatchObject({ outcome: 'duplicate', executionArn: EXECUTION });
  });

  test('fails when Step Functions refuses the start for another reason: thrown, so Lambda retries the event', async () => {
    sfnMock.on(StartExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(startPush(push(), deps())).rejects.toThrow('Rate exceeded');
  });

  test('fails when the event is not a fabric push: no Step Functions call at all', async () => {
    await expect(startPush(push({ referenceName: 'main' }), deps())).rejects.toMatchObject({ name: 'CodeCommitEventInvalid' });
    expect(sfnMock.calls()).toHaveLength(0);
  });
});
