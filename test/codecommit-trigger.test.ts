import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { addCodeCommitTrigger } from '../lib/codecommit-trigger';
import { applyInputTransformer, codeCommitPushEvent } from './support/eventbridge';

/**
 * The CodeCommit trigger on a tiny stack (a repository and a one-state machine).
 * CodeCommit's event carries the short branch name in `detail.referenceName` (`fabric/demo`) and the
 * full one in `detail.referenceFullName` (`refs/heads/fabric/demo`), per the CodeCommit user guide's
 * "Monitoring CodeCommit events" examples: the prefix match is on the short name.
 */
function synth(): Template {
  const stack = new Stack(new App(), 'TriggerTest');
  const repository = new codecommit.Repository(stack, 'Repo', { repositoryName: 'fabrics' });
  const stateMachine = new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Done')) });
  addCodeCommitTrigger(stack, { repository, stateMachine });
  return Template.fromStack(stack);
}

const transform = applyInputTransformer;
const samplePush = codeCommitPushEvent('fabrics', 'fabric/demo', '7f3c0e3b2a1d4c5e6f708192a3b4c5d6e7f80910');

describe('addCodeCommitTrigger', () => {
  let template: Template;
  beforeAll(() => {
    template = synth();
  });

  test('GIVEN the trigger WHEN synthesized THEN the push rule matches creates and updates of fabric/ branches of this repository exactly', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.codecommit'],
        'detail-type': ['CodeCommit Repository State Change'],
        resources: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Repo'), 'Arn'] }],
        detail: { event: ['referenceCreated', 'referenceUpdated'], referenceType: ['branch'], referenceName: [{ prefix: 'fabric/' }] },
      },
      State: 'ENABLED',
    });
  });

  test('GIVEN the push rule WHEN synthesized THEN its only target is the state machine, through a role, with the exact provision input transformer', () => {
    const rules = template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { detail: { event: ['referenceCreated', 'referenceUpdated'] } } } });
    const [rule] = Object.values(rules) as { Properties: { Targets: unknown[] } }[];
    expect(rule?.Properties.Targets).toEqual([
      {
        Arn: { Ref: expect.stringMatching(/^Machine/) },
        Id: 'Target0',
        RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^CodeCommitTriggerStartExecutionRole/), 'Arn'] },
        RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 4 },
        InputTransformer: {
          InputPathsMap: { 'detail-repositoryName': '$.detail.repositoryName', 'detail-referenceName': '$.detail.referenceName', 'detail-commitId': '$.detail.commitId' },
          InputTemplate:
            '{"action":"provision","source":{"provider":"codecommit","repository":<detail-repositoryName>,"branch":<detail-referenceName>,"commit":<detail-commitId>}}',
        },
      },
    ]);
  });

  test('GIVEN the push rule role WHEN synthesized THEN it may only start this state machine', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: Match.stringLikeRegexp('^Machine') } }] },
      Roles: [{ Ref: Match.stringLikeRegexp('^CodeCommitTriggerStartExecutionRole') }],
    });
  });

  test('GIVEN a sample CodeCommit push event WHEN transformed as EventBridge would THEN it is the provision input for that branch and commit', () => {
    const rules = template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { detail: { event: ['referenceCreated', 'referenceUpdated'] } } } });
    const [rule] = Object.values(rules) as { Properties: { Targets: { InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string } }[] } }[];
    const transformer = rule?.Properties.Targets[0]?.InputTransformer;
    if (!transformer) throw new Error('no input transformer');
    expect(transform(transformer, samplePush)).toEqual({
      action: 'provision',
      source: { provider: 'codecommit', repository: 'fabrics', branch: 'fabric/demo', commit: '7f3c0e3b2a1d4c5e6f708192a3b4c5d6e7f80910' },
    });
  });

  test('GIVEN the trigger WHEN synthesized THEN branch deletions match a second rule whose only target is the log group, never the state machine', () => {
    const rules = template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { detail: { event: ['referenceDeleted'] } } } });
    const [rule] = Object.values(rules) as { Properties: { EventPattern: unknown; Targets: unknown[] } }[];
    expect(rule?.Properties.EventPattern).toEqual({
      source: ['aws.codecommit'],
      'detail-type': ['CodeCommit Repository State Change'],
      resources: [{ 'Fn::GetAtt': [expect.stringMatching(/^Repo/), 'Arn'] }],
      detail: { event: ['referenceDeleted'], referenceType: ['branch'], referenceName: [{ prefix: 'fabric/' }] },
    });
    expect(rule?.Properties.Targets).toEqual([
      {
        Arn: { 'Fn::GetAtt': [expect.stringMatching(/^CodeCommitTriggerDeletionLog/), 'Arn'] },
        Id: 'Target0',
        InputTransformer: {
          InputPathsMap: {
            time: '$.time',
            'detail-referenceName': '$.detail.referenceName',
            'detail-repositoryName': '$.detail.repositoryName',
            'detail-oldCommitId': '$.detail.oldCommitId',
          },
          InputTemplate:
            '{"timestamp":<time>,"message":"branch <detail-referenceName> of <detail-repositoryName> deleted (last commit <detail-oldCommitId>): nothing was destroyed; to destroy the fabric run fabricctl down NAME --confirm NAME"}',
        },
      },
    ]);
  });

  test('GIVEN the deletion message WHEN synthesized THEN it has no placeholder EventBridge cannot fill', () => {
    const targets = Object.values(template.findResources('AWS::Events::Rule')).flatMap((r) => (r as { Properties: { Targets: { InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string } }[] } }).Properties.Targets);
    // The push rule's and the deletion rule's: an empty list would pass the loop below vacuously.
    expect(targets).toHaveLength(2);
    for (const target of targets) {
      const placeholders = [...target.InputTransformer.InputTemplate.matchAll(/<([^<>]*)>/g)].map((m) => m[1]);
      expect(placeholders.filter((p) => p === undefined || !(p in target.InputTransformer.InputPathsMap))).toEqual([]);
    }
  });

  test('GIVEN the deletion log group WHEN synthesized THEN a resource policy lets EventBridge write to it and nothing else', () => {
    const policies = Object.values(template.findResources('AWS::Logs::ResourcePolicy')) as { Properties: { PolicyDocument: { 'Fn::Join': [string, unknown[]] } } }[];
    expect(policies).toHaveLength(1);
    // The document is a Fn::Join around the log group's ARN token: stand the token in and read the JSON.
    const [, parts] = policies[0]?.Properties.PolicyDocument['Fn::Join'] ?? ['', []];
    const document = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'LOG_GROUP_ARN')).join('')) as unknown;
    expect(document).toEqual({
      Statement: [{ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Resource: 'LOG_GROUP_ARN' }],
      Version: '2012-10-17',
    });
  });
});
