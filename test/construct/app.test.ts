import { Match, Template } from 'aws-cdk-lib/assertions';
import { createFabricApp } from '../../lib/app';
import { TEST_KOPS_SHA256 } from '../support/stack';

/** The app bin/fabric-orchestrator.ts runs, built with context as `cdk synth -c ...` passes it. Bundling is off for speed. */
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

describe('the fabricctl app', () => {
  test('GIVEN fabricctl:kopsSha256 in the context WHEN the app is synthesized THEN the cluster job gets it as KOPS_SHA256', () => {
    const { app, stack } = createFabricApp({ context: { ...NO_BUNDLING, 'fabricctl:kopsSha256': TEST_KOPS_SHA256 } });
    expect(() => app.synth()).not.toThrow();
    Template.fromStack(stack).hasResourceProperties('AWS::CodeBuild::Project', {
      Source: Match.objectLike({ BuildSpec: 'buildspecs/cluster.yml' }),
      Environment: Match.objectLike({
        EnvironmentVariables: Match.arrayWith([{ Name: 'KOPS_SHA256', Type: 'PLAINTEXT', Value: TEST_KOPS_SHA256 }]),
      }),
    });
  });

  test(
    'GIVEN fabricctl:hostedZoneIds and fabricctl:stateAdminPrincipalArns as comma-separated context WHEN the app is built ' +
      'THEN DNS changes and state reads are limited to them',
    () => {
      const admins = 'arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:role/BreakGlass';
      const { stack } = createFabricApp({
        context: {
          ...NO_BUNDLING,
          'fabricctl:kopsSha256': TEST_KOPS_SHA256,
          'fabricctl:hostedZoneIds': 'Z111111111111, Z222222222222',
          'fabricctl:stateAdminPrincipalArns': admins,
        },
      });
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ STATE_ADMIN_PRINCIPAL_ARNS: admins }) },
      });
      template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
        PolicyDocument: Match.objectLike({
          Statement: Match.arrayWith([
            Match.objectLike({
              Sid: 'DnsRecords',
              Resource: ['Z111111111111', 'Z222222222222'].map((id) => ({
                'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:route53:::hostedzone/${id}`]],
              })),
            }),
          ]),
        }),
      });
    },
  );

  test(
    'GIVEN fabricctl:githubWebhook and fabricctl:githubTokenSecretArn in the context WHEN the app is built ' +
      'THEN the webhook receiver gets the token ARN',
    () => {
      const arn = 'arn:aws:secretsmanager:us-east-2:123456789012:secret:fabricctl/github/token-AbC123';
      const { stack } = createFabricApp({
        context: {
          ...NO_BUNDLING,
          'fabricctl:kopsSha256': TEST_KOPS_SHA256,
          'fabricctl:githubWebhook': 'true',
          'fabricctl:githubTokenSecretArn': arn,
        },
      });
      Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ GITHUB_TOKEN_SECRET_ARN: arn }) },
      });
    },
  );

  test.each([
    [undefined, ['LINUX_CONTAINER', 'LINUX_CONTAINER', 'LINUX_LAMBDA_CONTAINER', 'LINUX_LAMBDA_CONTAINER']],
    ['false', ['LINUX_CONTAINER', 'LINUX_CONTAINER']],
    [false, ['LINUX_CONTAINER', 'LINUX_CONTAINER']],
  ])('GIVEN fabricctl:lambdaBuilds %p WHEN the app is built THEN the build projects run on %p', (value, types) => {
    const lambdaBuilds = value === undefined ? {} : { 'fabricctl:lambdaBuilds': value };
    const { stack } = createFabricApp({ context: { ...NO_BUNDLING, 'fabricctl:kopsSha256': TEST_KOPS_SHA256, ...lambdaBuilds } });
    const projects = Object.values(Template.fromStack(stack).findResources('AWS::CodeBuild::Project'));
    expect(projects.map((p) => p.Properties.Environment.Type).sort()).toEqual(types);
  });

  test('fails when the context has no fabricctl:kopsSha256, saying how to pass it', () => {
    expect(() => createFabricApp({ context: NO_BUNDLING })).toThrow(
      expect.objectContaining({
        name: 'KopsChecksumMissing',
        message: expect.stringContaining('`npx cdk deploy -c fabricctl:kopsSha256=<64 hex characters>`'),
      }),
    );
  });

  test('fails when fabricctl:kopsSha256 in the context is malformed, showing the value', () => {
    expect(() => createFabricApp({ context: { ...NO_BUNDLING, 'fabricctl:kopsSha256': 'unknown' } })).toThrow(
      expect.objectContaining({ name: 'KopsChecksumInvalid', message: expect.stringContaining("got 'unknown'") }),
    );
  });
});
