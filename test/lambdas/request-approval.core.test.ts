import { ConditionalCheckFailedException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { requestApproval } from '../../lambdas/request-approval/core';
import { formatDuration, parseDuration } from '../../lib/domain/duration';
import { testFabric } from './fixtures/late-stages';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const fabric = { ...testFabric(), approval: { required: true, timeoutSeconds: 1800 } };
const jobs = {
  network: {
    buildId: 'n',
    result: {
      action: 'plan',
      vpcId: '',
      vpcCidr: '10.10.0.0/16',
      zones: [],
      subnetIds: {},
      subnetIdsCsv: '',
      securityGroupId: '',
      changes: { add: 9, change: 0, destroy: 0 },
      planDigest: 'a'.repeat(64),
    },
  },
} as never;

function deps(failUpdate?: Error) {
  const sent: unknown[] = [];
  return {
    sent,
    deps: {
      dynamodb: {
        send: async (command: unknown) => {
          sent.push(command);
          if (failUpdate) throw failUpdate;
          return {};
        },
      },
      events: {
        send: async (command: unknown) => {
          sent.push(command);
          return { FailedEntryCount: 0 };
        },
      },
      lockTable: 'locks',
      // The stack in another region than the fabric (us-east-2): approve names the stack's.
      stackRegion: 'eu-west-1',
      now: () => NOW,
    } as never,
  };
}

describe('requestApproval', () => {
  test(
    'GIVEN the run holds the lock WHEN it asks for approval ' +
      'THEN the token and plan go on the lock item (conditioned on the holder) and in Fabric Awaiting Approval',
    async () => {
      const { sent, deps: d } = deps();
      const request = await requestApproval({ taskToken: 'token-123', state: { fabric, jobs } }, d);
      expect(request).toMatchObject({
        name: 'demo',
        taskToken: 'token-123',
        expiresAt: '2026-12-01T12:30:00.000Z',
        summary: {
          network: { add: 9 },
          lines: ['network (Terraform): 9 to add, 0 to change, 0 to destroy', 'cluster (kops Terraform): no changes'],
        },
      });
      const update = sent[0] as UpdateItemCommand;
      expect(update).toBeInstanceOf(UpdateItemCommand);
      expect(update.input).toMatchObject({
        TableName: 'locks',
        Key: { fabric: { S: 'demo' } },
        ConditionExpression: 'holder = :me',
        ExpressionAttributeValues: { ':me': { S: fabric.execution } },
      });
      expect(JSON.parse(update.input.ExpressionAttributeValues?.[':request']?.S ?? '{}')).toEqual(request);
      const put = sent[1] as PutEventsCommand;
      expect(put.input.Entries?.[0]).toMatchObject({ Source: 'fabricctl', DetailType: 'Fabric Awaiting Approval' });
      expect(JSON.parse(put.input.Entries?.[0]?.Detail ?? '{}')).toEqual({
        ...request,
        approveWith: 'fabricctl approve demo --region eu-west-1',
      });
    },
  );

  test('fails with LockNotHeld, putting no event, when another run holds the fabric', async () => {
    const { sent, deps: d } = deps(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    await expect(requestApproval({ taskToken: 't', state: { fabric, jobs } }, d)).rejects.toMatchObject({ name: 'LockNotHeld' });
    expect(sent.filter((c) => c instanceof PutEventsCommand)).toEqual([]);
  });
});

describe('durations', () => {
  test.each([
    ['90m', 5400],
    ['36h', 129600],
    ['14d', 1209600],
    ['2s', 2],
  ])('GIVEN %s THEN %i seconds, written back the same', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
    expect(formatDuration(seconds)).toBe(text);
  });
  test.each(['', '3 days', '1d12h', '0h', '-1h', '1.5h', '72'])('GIVEN %j THEN not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
