import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, CloudFormationValidatePlugin, PolicyValidationPluginReport } from 'aws-cdk-lib';
import { createFabricApp } from '../../lib/app';
import { TEST_KOPS_SHA256 } from '../support/stack';

/**
 * The templates against CloudFormation's own rules (schemas, values, best-practice warnings): the
 * engine `cdk synth` runs after every synthesis. The other suites synthesize with it turned off
 * (CDK_VALIDATION=false in test/support/setup-env.ts: about 4.5 CPU-seconds per synthesizing file),
 * so the deployable templates are checked here, with and without every optional part.
 */
const work = mkdtempSync(path.join(tmpdir(), 'fabricctl-cfn-validate-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const plugin = new CloudFormationValidatePlugin();
const validate = async (templatePath: string, app: App): Promise<PolicyValidationPluginReport> =>
  plugin.validate({
    templatePaths: [templatePath],
    stackTemplates: [{ stackConstructPath: 'FabricOrchestrator', templatePath, accountId: undefined, region: undefined }],
    appConstruct: app,
  });

/** The app as `cdk synth -c ...` builds it, synthesized into its own folder: the template's path. */
function synthesize(label: string, context: Record<string, unknown>): { app: App; templatePath: string } {
  const outdir = path.join(work, label);
  const { app, stack } = createFabricApp({
    outdir,
    context: { 'aws:cdk:bundling-stacks': [], 'fabricctl:kopsSha256': TEST_KOPS_SHA256, ...context },
  });
  const assembly = app.synth();
  return { app, templatePath: path.join(assembly.directory, assembly.getStackByName(stack.stackName).templateFile) };
}

describe('CloudFormation validation of the deployable templates', () => {
  test('GIVEN a template with an unknown property and a bad value WHEN validated THEN the engine reports both (it runs here)', async () => {
    const templatePath = path.join(work, 'broken.template.json');
    writeFileSync(
      templatePath,
      JSON.stringify({
        Resources: { Bad: { Type: 'AWS::S3::Bucket', Properties: { NoSuchProperty: 1, VersioningConfiguration: { Status: 'Maybe' } } } },
      }),
    );
    const report = await validate(templatePath, new App());
    expect(report.success).toBe(false);
    expect(report.violations.map((v) => [v.severity, v.violatingResources.map((r) => r.locations)])).toEqual([
      ['error', [['Properties.NoSuchProperty']]],
      ['warning', [['Properties.VersioningConfiguration.Status']]],
    ]);
  });

  // Each case counts the resource types that tell it from the others, so a context key that
  // stopped working would show (the defaults have 4 build projects and no EventBridge rule).
  test.each([
    ['the defaults', {}, { 'AWS::StepFunctions::StateMachine': 1, 'AWS::CodeBuild::Project': 4, 'AWS::Events::Rule': 0 }],
    [
      'every option on',
      {
        'fabricctl:codeCommitRepository': 'fabrics',
        'fabricctl:githubWebhook': 'true',
        'fabricctl:githubTokenSecretArn': 'arn:aws:secretsmanager:us-east-2:123456789012:secret:fabricctl/github/token-AbC123',
        'fabricctl:hostedZoneIds': 'Z111111111111',
        'fabricctl:stateAdminPrincipalArns': 'arn:aws:iam::123456789012:role/Admin',
        'fabricctl:driftCheckSchedule': 'rate(12 hours)',
        'fabricctl:approvalTimeoutMinutes': '90',
      },
      { 'AWS::Lambda::Url': 1, 'AWS::Events::Rule': 2, 'AWS::Scheduler::Schedule': 2, 'AWS::SecretsManager::Secret': 1 },
    ],
    ['builds without CodeBuild Lambda compute', { 'fabricctl:lambdaBuilds': 'false' }, { 'AWS::CodeBuild::Project': 2 }],
  ])('GIVEN the FabricOrchestrator stack with %s WHEN validated THEN there is no error and no warning', async (label, context, counts) => {
    const { app, templatePath } = synthesize(label.replace(/\W+/g, '-'), context);
    const resources = (JSON.parse(readFileSync(templatePath, 'utf8')) as { Resources: Record<string, { Type: string }> }).Resources;
    const count = (type: string) => Object.values(resources).filter((r) => r.Type === type).length;
    expect(Object.fromEntries(Object.keys(counts).map((type) => [type, count(type)]))).toEqual(counts);
    const report = await validate(templatePath, app);
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
  });
});
