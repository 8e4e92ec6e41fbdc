import { START_ONCE_STATEMENTS } from './support/step-functions';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { FabricOrchestratorStack } from '../lib/fabric-orchestrator-stack';
import { addGithubWebhook, GithubWebhookProps } from '../lib/github-webhook';
import { testStackProps } from './support/stack';

/** The GitHub webhook on a tiny stack (a one-state machine), with and without a token secret. Bundling is off for speed. */
const TOKEN_ARN = 'arn:aws:secretsmanager:us-east-2:123456789012:secret:fabricctl/github/token-AbC123';

function synth(withToken: boolean, extra: Omit<GithubWebhookProps, 'stateMachine' | 'githubTokenSecret'> = {}): Template {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'WebhookTest');
  const stateMachine = new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Done')),
  });
  const githubTokenSecret = withToken ? secretsmanager.Secret.fromSecretCompleteArn(stack, 'Token', TOKEN_ARN) : undefined;
  addGithubWebhook(stack, { stateMachine, githubTokenSecret, ...extra });
  return Template.fromStack(stack);
}

type Statement = { Action: string | string[]; Effect: string; Resource: unknown };
/** The receiver's environment and every statement of its role that touches Secrets Manager. */
function receiver(template: Template): {
  environment: Record<string, unknown>;
  reservedConcurrency?: number;
  statements: Statement[];
  secretStatements: Statement[];
} {
  const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Array<{
    Properties: { Environment: { Variables: Record<string, unknown> }; ReservedConcurrentExecutions?: number };
  }>;
  const [fn] = functions.filter((f) => 'WEBHOOK_SECRET_ARN' in f.Properties.Environment.Variables);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{
    Properties: { PolicyDocument: { Statement: Statement[] } };
  }>;
  const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
  return {
    environment: fn?.Properties.Environment.Variables ?? {},
    reservedConcurrency: fn?.Properties.ReservedConcurrentExecutions,
    statements,
    secretStatements: statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:'))),
  };
}
const deliveryTableId = (template: Template): string => {
  const [id, ...others] = Object.keys(template.findResources('AWS::DynamoDB::GlobalTable'));
  if (id === undefined || others.length > 0) throw new Error('expected exactly one table: the delivery table');
  return id;
};

describe('addGithubWebhook', () => {
  test('GIVEN a token secret WHEN synthesized THEN the receiver gets its ARN as GITHUB_TOKEN_SECRET_ARN, may read that secret only', () => {
    const { environment, secretStatements } = receiver(synth(true));
    expect(environment.GITHUB_TOKEN_SECRET_ARN).toBe(TOKEN_ARN);
    expect(secretStatements).toEqual([
      {
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Effect: 'Allow',
        Resource: { Ref: expect.stringMatching(/^GithubWebhookSecret/) },
      },
      { Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Effect: 'Allow', Resource: TOKEN_ARN },
    ]);
  });

  test('GIVEN no token secret WHEN synthesized THEN the receiver has no GITHUB_TOKEN_SECRET_ARN and reads only the webhook secret', () => {
    const { environment, secretStatements } = receiver(synth(false));
    expect(Object.keys(environment)).not.toContain('GITHUB_TOKEN_SECRET_ARN');
    expect(secretStatements).toEqual([
      {
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Effect: 'Allow',
        Resource: { Ref: expect.stringMatching(/^GithubWebhookSecret/) },
      },
    ]);
  });

  test('GIVEN no concurrency option WHEN synthesized THEN the receiver has 5 reserved concurrent executions', () => {
    expect(receiver(synth(false)).reservedConcurrency).toBe(5);
  });

  test('GIVEN reservedConcurrency 2 WHEN synthesized THEN the receiver has 2 reserved concurrent executions', () => {
    expect(receiver(synth(false, { reservedConcurrency: 2 })).reservedConcurrency).toBe(2);
  });

  test.each([0, -1, 2.5])('fails when reservedConcurrency is %p, saying what it must be', (value) => {
    expect(() => synth(false, { reservedConcurrency: value })).toThrow(
      `reservedConcurrency of the GitHub webhook must be a whole number of at least 1 (default 5); got ${value}`,
    );
  });

  test('GIVEN the webhook WHEN synthesized THEN the delivery table: keyed by delivery id, on demand, PITR, TTL attribute expiresAt', () => {
    const template = synth(false);
    const table = template.findResources('AWS::DynamoDB::GlobalTable')[deliveryTableId(template)] as {
      Properties: Record<string, unknown>;
    };
    expect(table.Properties).toEqual({
      AttributeDefinitions: [{ AttributeName: 'delivery', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'delivery', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      Replicas: [{ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, Region: { Ref: 'AWS::Region' } }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  test('GIVEN the webhook WHEN synthesized THEN the receiver is given the table name and may only PutItem on that table', () => {
    const template = synth(false);
    const { environment, statements } = receiver(template);
    expect(environment.DELIVERY_TABLE_NAME).toEqual({ Ref: deliveryTableId(template) });
    expect(statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:')))).toEqual([
      { Action: 'dynamodb:PutItem', Effect: 'Allow', Resource: { 'Fn::GetAtt': [deliveryTableId(template), 'Arn'] } },
    ]);
  });

  test('GIVEN the webhook WHEN synthesized THEN the receiver may start this state machine and describe its executions, no more', () => {
    const { statements } = receiver(synth(false));
    expect(statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('states:')))).toEqual(START_ONCE_STATEMENTS);
  });
});

describe('addGithubWebhook under cdk-nag', () => {
  test(
    'GIVEN the stack with the webhook WHEN synthesized with the AWS Solutions rules ' +
      'THEN no finding is left and each acknowledgement of the webhook names one finding',
    () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new FabricOrchestratorStack(app, 'FabricOrchestrator', testStackProps({ githubWebhook: true }));
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      // synth() throws listing the findings when any is not acknowledged.
      expect(() => app.synth()).not.toThrow();
      const acknowledged = ['GithubWebhookSecret', 'GithubWebhookFunction', 'GithubWebhookDeliveries']
        .flatMap((id) => stack.node.findChild(id).node.findAll())
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
        'Annotation::AwsSolutions-SMG4',
      ]);
    },
  );
});
