import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { addGithubWebhook } from '../lib/github-webhook';

/** The GitHub webhook on a tiny stack (a one-state machine), with and without a token secret. Bundling is off for speed. */
const TOKEN_ARN = 'arn:aws:secretsmanager:us-east-2:123456789012:secret:fabricctl/github/token-AbC123';

function synth(withToken: boolean): Template {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'WebhookTest');
  const stateMachine = new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Done')) });
  const githubTokenSecret = withToken ? secretsmanager.Secret.fromSecretCompleteArn(stack, 'Token', TOKEN_ARN) : undefined;
  addGithubWebhook(stack, { stateMachine, githubTokenSecret });
  return Template.fromStack(stack);
}

type Statement = { Action: string | string[]; Effect: string; Resource: unknown };
/** The receiver's environment and every statement of its role that touches Secrets Manager. */
function receiver(template: Template): { environment: Record<string, unknown>; secretStatements: Statement[] } {
  const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Array<{ Properties: { Environment: { Variables: Record<string, unknown> } } }>;
  const [fn] = functions.filter((f) => 'WEBHOOK_SECRET_ARN' in f.Properties.Environment.Variables);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{ Properties: { PolicyDocument: { Statement: Statement[] } } }>;
  const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
  return {
    environment: fn?.Properties.Environment.Variables ?? {},
    secretStatements: statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:'))),
  };
}

describe('addGithubWebhook', () => {
  test('GIVEN a token secret WHEN synthesized THEN the receiver gets its ARN as GITHUB_TOKEN_SECRET_ARN and may read that secret only', () => {
    const { environment, secretStatements } = receiver(synth(true));
    expect(environment.GITHUB_TOKEN_SECRET_ARN).toBe(TOKEN_ARN);
    expect(secretStatements).toEqual([
      { Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Effect: 'Allow', Resource: { Ref: expect.stringMatching(/^GithubWebhookSecret/) } },
      { Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Effect: 'Allow', Resource: TOKEN_ARN },
    ]);
  });

  test('GIVEN no token secret WHEN synthesized THEN the receiver has no GITHUB_TOKEN_SECRET_ARN and reads only the webhook secret', () => {
    const { environment, secretStatements } = receiver(synth(false));
    expect(Object.keys(environment)).not.toContain('GITHUB_TOKEN_SECRET_ARN');
    expect(secretStatements).toEqual([
      { Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Effect: 'Allow', Resource: { Ref: expect.stringMatching(/^GithubWebhookSecret/) } },
    ]);
  });
});
