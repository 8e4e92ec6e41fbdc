import { App, Duration, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FabricOrchestratorStack } from '../../lib/fabric-orchestrator-stack';
import { testStackProps } from '../support/stack';

/** Stack options checked when the stack is built, and the GitHub token as the stack takes it (by ARN). */
const TOKEN_ARN = 'arn:aws:secretsmanager:us-east-2:123456789012:secret:fabricctl/github/token-AbC123';
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

describe('githubTokenSecretArn', () => {
  test('fails when githubTokenSecretArn is set without githubWebhook', () => {
    expect(
      () => new FabricOrchestratorStack(new App({ context: NO_BUNDLING }), 'Bad', testStackProps({ githubTokenSecretArn: TOKEN_ARN })),
    ).toThrow(
      expect.objectContaining({
        name: 'StackOptionInvalid',
        message:
          'githubTokenSecretArn is set but githubWebhook is not: only the GitHub webhook uses the token. ' +
          'Add the webhook (-c fabricctl:githubWebhook=true) or drop the token.',
      }),
    );
  });

  test.each([
    ['a partial ARN (no 6-character suffix)', 'arn:aws:secretsmanager:us-east-2:123456789012:secret:fabricctl/github/token'],
    ['a secret name', 'fabricctl/github/token'],
    ['empty, as `-c fabricctl:githubTokenSecretArn=` gives it', ''],
  ])('fails when githubTokenSecretArn is %s', (_case, arn) => {
    expect(
      () =>
        new FabricOrchestratorStack(
          new App({ context: NO_BUNDLING }),
          'Bad',
          testStackProps({ githubWebhook: true, githubTokenSecretArn: arn }),
        ),
    ).toThrow(
      expect.objectContaining({
        name: 'StackOptionInvalid',
        message:
          'githubTokenSecretArn must be the complete ARN of a Secrets Manager secret, ' +
          `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters> as the console shows it; got ${JSON.stringify(arn)}`,
      }),
    );
  });

  test(
    'GIVEN the webhook and a token ARN WHEN synthesized with the AWS Solutions rules ' +
      'THEN there is no finding and the receiver reads that token',
    () => {
      const app = new App({ context: NO_BUNDLING });
      const stack = new FabricOrchestratorStack(
        app,
        'FabricOrchestrator',
        testStackProps({ githubWebhook: true, githubTokenSecretArn: TOKEN_ARN }),
      );
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      expect(() => app.synth()).not.toThrow();
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ GITHUB_TOKEN_SECRET_ARN: TOKEN_ARN, WEBHOOK_SECRET_ARN: Match.anyValue() }) },
      });
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            { Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Effect: 'Allow', Resource: TOKEN_ARN },
          ]),
        },
      });
    },
  );
});

describe('day-2 options: schedules and the approval timeout', () => {
  const synth = (props: Parameters<typeof testStackProps>[0]) => {
    const app = new App({ context: NO_BUNDLING });
    const stack = new FabricOrchestratorStack(app, 'FabricOrchestrator', testStackProps(props));
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    app.synth();
    return Template.fromStack(stack);
  };

  test('GIVEN no drift schedule WHEN synthesized THEN only the 15-minute lease sweep invokes the sweep function, with its own role', () => {
    const template = synth({});
    const schedules = template.findResources('AWS::Scheduler::Schedule');
    expect(Object.values(schedules).map((s) => [s.Properties.ScheduleExpression, JSON.parse(s.Properties.Target.Input)])).toEqual([
      ['rate(15 minutes)', { task: 'leases' }],
    ]);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })] }),
    });
  });

  test(
    'GIVEN driftCheckSchedule WHEN synthesized ' +
      'THEN a second schedule runs the drift sweep on it; a malformed expression fails naming the form',
    () => {
      const schedules = synth({ driftCheckSchedule: 'rate(1 day)' }).findResources('AWS::Scheduler::Schedule');
      expect(
        Object.values(schedules)
          .map((s) => s.Properties.ScheduleExpression)
          .sort(),
      ).toEqual(['rate(1 day)', 'rate(15 minutes)']);
      expect(() => synth({ driftCheckSchedule: 'daily' })).toThrow(
        /driftCheckSchedule must be an EventBridge Scheduler expression such as "rate\(1 day\)"/,
      );
    },
  );

  test(
    'GIVEN lambdaBuilds false WHEN synthesized ' +
      'THEN every build runs on EC2 compute: two projects, no compute Choice, the nag rules still pass',
    () => {
      const template = synth({ lambdaBuilds: false });
      const projects = Object.values(template.findResources('AWS::CodeBuild::Project'));
      expect(projects.map((p) => p.Properties.Environment.Type)).toEqual(['LINUX_CONTAINER', 'LINUX_CONTAINER']);
      const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
      const definition = JSON.stringify(machine?.Properties.DefinitionString);
      expect(definition).not.toContain('OnLambda');
      expect(definition).not.toContain('JobCompute');
    },
  );

  test(
    'GIVEN approvalTimeout WHEN synthesized ' + 'THEN ValidateSpec gets it as its ceiling; one that leaves no room for the builds fails',
    () => {
      synth({ approvalTimeout: Duration.minutes(90) }).hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ APPROVAL_TIMEOUT_SECONDS: '5400' }) },
      });
      expect(() => synth({ approvalTimeout: Duration.hours(2) })).toThrow(
        /approvalTimeout must be at least 1 minute and leave executionTimeout \(3 hours\) 80 minutes for the builds and readiness after it/,
      );
    },
  );
});
