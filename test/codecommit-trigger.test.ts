import { START_ONCE_STATEMENTS } from './support/step-functions';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addCodeCommitTrigger } from '../lib/codecommit-trigger';
import { FabricOrchestratorStack } from '../lib/fabric-orchestrator-stack';
import { testStackProps } from './support/stack';

/**
 * The CodeCommit trigger on a tiny stack (a repository and a one-state machine); bundling is off for speed.
 * CodeCommit's event carries the short branch name in `detail.referenceName` (`fabric/demo`) and the
 * full one in `detail.referenceFullName` (`refs/heads/fabric/demo`), per the CodeCommit user guide's
 * "Monitoring CodeCommit events" examples: the prefix match is on the short name.
 */
function synth(): Template {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'TriggerTest');
  const repository = new codecommit.Repository(stack, 'Repo', { repositoryName: 'fabrics' });
  const stateMachine = new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Done')),
  });
  addCodeCommitTrigger(stack, { repository, stateMachine });
  return Template.fromStack(stack);
}

describe('addCodeCommitTrigger', () => {
  let template: Template;
  beforeAll(() => {
    template = synth();
  });
  const logicalId = (type: string, prefix: string): string => {
    const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
    if (ids.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${ids.join(', ') || 'none'}`);
    return ids[0] as string;
  };
  const pushFunction = (): string => logicalId('AWS::Lambda::Function', 'CodeCommitTriggerPushFunction');
  const deadLetterQueue = (): string => logicalId('AWS::SQS::Queue', 'CodeCommitTriggerDeadLetterQueue');

  test('GIVEN the trigger WHEN synthesized THEN the push rule matches only created or updated fabric/ branches of the repository', () => {
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

  test(
    'GIVEN the push rule WHEN synthesized ' +
      'THEN its only target is the push function, given the whole event, with the retry policy and the dead-letter queue',
    () => {
      const rules = template.findResources('AWS::Events::Rule', {
        Properties: { EventPattern: { detail: { event: ['referenceCreated', 'referenceUpdated'] } } },
      });
      const [rule] = Object.values(rules) as { Properties: { Targets: unknown[] } }[];
      expect(rule?.Properties.Targets).toEqual([
        {
          Arn: { 'Fn::GetAtt': [pushFunction(), 'Arn'] },
          Id: 'Target0',
          RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 4 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [deadLetterQueue(), 'Arn'] } },
        },
      ]);
    },
  );

  test('GIVEN the push rule WHEN synthesized THEN EventBridge may invoke the push function from this rule only', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [pushFunction(), 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CodeCommitTriggerPushRule'), 'Arn'] },
    });
  });

  test('GIVEN the push function WHEN synthesized THEN it has the state machine ARN; events it fails on go to the dead-letter queue', () => {
    const fn = template.findResources('AWS::Lambda::Function')[pushFunction()] as {
      Properties: { Environment: { Variables: Record<string, unknown> }; DeadLetterConfig: unknown };
    };
    expect(fn.Properties.Environment.Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      STATE_MACHINE_ARN: { Ref: expect.stringMatching(/^Machine/) },
    });
    expect(fn.Properties.DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [deadLetterQueue(), 'Arn'] } });
  });

  test(
    'GIVEN the push function role WHEN synthesized ' +
      'THEN it may start this state machine, describe its executions and write to the dead-letter queue, nothing else',
    () => {
      const policies = template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^CodeCommitTriggerPushFunctionServiceRole') }] },
      });
      const statements = Object.values(policies).flatMap(
        (p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement,
      );
      expect(statements).toEqual([
        { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [deadLetterQueue(), 'Arn'] } },
        // X-Ray (tracing is on) has no resource-level permissions.
        { Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Effect: 'Allow', Resource: '*' },
        ...START_ONCE_STATEMENTS,
      ]);
    },
  );

  test('GIVEN the trigger WHEN synthesized THEN EventBridge has no role to start the state machine: only the push function does', () => {
    const roles = Object.values(template.findResources('AWS::IAM::Role')) as {
      Properties: { AssumeRolePolicyDocument: { Statement: { Principal: { Service?: string } }[] } };
    }[];
    expect(
      roles.filter((r) => r.Properties.AssumeRolePolicyDocument.Statement.some((st) => st.Principal.Service === 'events.amazonaws.com')),
    ).toEqual([]);
  });

  test(
    'GIVEN the dead-letter queue WHEN synthesized ' +
      'THEN it is encrypted, keeps events 14 days, refuses requests without TLS, and EventBridge may send to it from the push rule only',
    () => {
      template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
      const [policy] = Object.values(template.findResources('AWS::SQS::QueuePolicy')) as {
        Properties: { PolicyDocument: { Statement: unknown[] } };
      }[];
      const queueArn = { 'Fn::GetAtt': [deadLetterQueue(), 'Arn'] };
      expect(policy?.Properties.PolicyDocument.Statement).toEqual([
        {
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Resource: queueArn,
        },
        {
          Action: 'sqs:SendMessage',
          Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [expect.stringMatching(/^CodeCommitTriggerPushRule/), 'Arn'] } } },
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Resource: queueArn,
          Sid: expect.any(String),
        },
      ]);
    },
  );

  test('GIVEN the trigger WHEN synthesized THEN branch deletions match a second rule whose only target is the log group', () => {
    const rules = template.findResources('AWS::Events::Rule', {
      Properties: { EventPattern: { detail: { event: ['referenceDeleted'] } } },
    });
    const [rule] = Object.values(rules) as { Properties: { EventPattern: unknown; Targets: unknown[] } }[];
    expect(rule?.Properties.EventPattern).toEqual({
      source: ['aws.codecommit'],
      'detail-type': ['CodeCommit Repository State Change'],
      resources: [{ 'Fn::GetAtt': [expect.stringMatching(/^Repo/), 'Arn'] }],
      detail: { event: ['referenceDeleted'], referenceType: ['branch'], referenceName: [{ prefix: 'fabric/' }] },
    });
    expect(rule?.Properties.Targets).toEqual([
      {
        // The group's ARN without the `:*` its Arn attribute ends in (EventBridge delivers nothing to that).
        Arn: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':logs:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':log-group:',
              { Ref: expect.stringMatching(/^CodeCommitTriggerDeletionLog/) },
            ],
          ],
        },
        Id: 'Target0',
        InputTransformer: {
          InputPathsMap: {
            time: '$.time',
            'detail-referenceName': '$.detail.referenceName',
            'detail-repositoryName': '$.detail.repositoryName',
            'detail-oldCommitId': '$.detail.oldCommitId',
          },
          InputTemplate:
            '{"timestamp":<time>,"message":"branch <detail-referenceName> of <' +
            'detail-repositoryName> deleted (last commit <' +
            'detail-oldCommitId>): nothing was destroyed; to destroy the fabric run fabricctl down NAME --confirm NAME"}',
        },
      },
    ]);
  });

  test('GIVEN the deletion message WHEN synthesized THEN it has no placeholder EventBridge cannot fill', () => {
    const transformers = Object.values(template.findResources('AWS::Events::Rule'))
      .flatMap(
        (r) =>
          (r as { Properties: { Targets: { InputTransformer?: { InputPathsMap: Record<string, string>; InputTemplate: string } }[] } })
            .Properties.Targets,
      )
      .flatMap((t) => (t.InputTransformer ? [t.InputTransformer] : []));
    // The deletion rule's only (the push function gets the whole event): an empty list would pass the loop below vacuously.
    expect(transformers).toHaveLength(1);
    for (const transformer of transformers) {
      const placeholders = [...transformer.InputTemplate.matchAll(/<([^<>]*)>/g)].map((m) => m[1]);
      expect(placeholders.filter((p) => p === undefined || !(p in transformer.InputPathsMap))).toEqual([]);
    }
  });

  test('GIVEN the deletion log group WHEN synthesized THEN a resource policy lets EventBridge write to it and nothing else', () => {
    const policies = Object.values(template.findResources('AWS::Logs::ResourcePolicy')) as {
      Properties: { PolicyDocument: { 'Fn::Join': [string, unknown[]] } };
    }[];
    expect(policies).toHaveLength(1);
    // The document is a Fn::Join around the log group's ARN token: stand the token in and read the JSON.
    const [, parts] = policies[0]?.Properties.PolicyDocument['Fn::Join'] ?? ['', []];
    const document = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'LOG_GROUP_ARN')).join('')) as unknown;
    expect(document).toEqual({
      Statement: [
        {
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Resource: 'LOG_GROUP_ARN',
        },
      ],
      Version: '2012-10-17',
    });
  });
});

describe('addCodeCommitTrigger under cdk-nag', () => {
  test(
    'GIVEN the stack with a CodeCommit repository WHEN synthesized with the AWS Solutions rules ' +
      'THEN no finding is left and each acknowledgement of the trigger names one finding',
    () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new FabricOrchestratorStack(app, 'FabricOrchestrator', testStackProps({ codeCommitRepositoryName: 'fabrics' }));
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      // synth() throws listing the findings when any is not acknowledged.
      expect(() => app.synth()).not.toThrow();
      const trigger = stack.node.findChild('CodeCommitTrigger');
      const acknowledged = trigger.node
        .findAll()
        .flatMap((c) => c.node.metadata)
        .filter((m) => m.type === 'aws:cdk:acknowledged-rules')
        .flatMap((m) => Object.keys(m.data as Record<string, string>));
      expect(acknowledged.sort()).toEqual([
        'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'Annotation::AwsSolutions-IAM5[Resource::*]',
        expect.stringMatching(
          new RegExp(
            String.raw`^Annotation::AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:` +
              String.raw`execution:<OrchestratorStateMachine[0-9A-F]+\.Name>:\*\]$`,
          ),
        ),
      ]);
    },
  );
});
