import { App, AppProps, Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FabricOrchestratorStack, StackOptionInvalid } from './fabric-orchestrator-stack';
import { KOPS_SHA256_CONTEXT_KEY } from './kops-checksum';

/** The fabricctl app as `cdk synth` and `cdk deploy` build it. */
export interface FabricApp {
  readonly app: App;
  readonly stack: FabricOrchestratorStack;
}

/**
 * The app bin/fabric-orchestrator.ts runs: the FabricOrchestrator stack configured from the
 * `fabricctl:*` context keys (README, Deploy), every synth checked against the cdk-nag AWS Solutions
 * rules. Context values are passed on as given: the constructs check them and say how to fix them.
 */
export function createFabricApp(props: AppProps = {}): FabricApp {
  const app = new App(props);
  const context = (key: string): unknown => app.node.tryGetContext(key);
  // A list is a JSON array in cdk.json or a comma-separated `-c` value.
  const list = (key: string): string[] | undefined => {
    const value = context(key);
    if (value === undefined) return undefined;
    return (Array.isArray(value) ? value.map(String) : String(value).split(',')).map((v) => v.trim()).filter((v) => v !== '');
  };
  // A boolean is true/false in cdk.json or the text `true`/`false` from `-c`; anything else is the default.
  const flag = (key: string, otherwise: boolean): boolean => {
    const value = context(key);
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    return otherwise;
  };
  const minutes = (key: string): Duration | undefined => {
    const value = context(key);
    if (value === undefined) return undefined;
    const count = Number(value);
    if (!Number.isInteger(count) || count < 1)
      throw new StackOptionInvalid(`${key} must be a whole number of minutes, at least 1; got ${JSON.stringify(value)}`);
    return Duration.minutes(count);
  };
  const stack = new FabricOrchestratorStack(app, 'FabricOrchestrator', {
    stateBucketPrefix: context('fabricctl:stateBucketPrefix') as string | undefined,
    codeCommitRepositoryName: context('fabricctl:codeCommitRepository') as string | undefined,
    githubWebhook: flag('fabricctl:githubWebhook', false),
    githubTokenSecretArn: context('fabricctl:githubTokenSecretArn') as string | undefined,
    kopsSha256: context(KOPS_SHA256_CONTEXT_KEY) as string | undefined,
    hostedZoneIds: list('fabricctl:hostedZoneIds'),
    stateAdminPrincipalArns: list('fabricctl:stateAdminPrincipalArns'),
    driftCheckSchedule: context('fabricctl:driftCheckSchedule') as string | undefined,
    approvalTimeout: minutes('fabricctl:approvalTimeoutMinutes'),
    // Only `false` turns it off (a region without CodeBuild Lambda compute).
    lambdaBuilds: flag('fabricctl:lambdaBuilds', true),
  });
  // An unacknowledged finding fails the synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
