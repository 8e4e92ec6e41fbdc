import { createLocalEnvironment, LocalEnvironment } from '../../lib/local/environment';
import { attachSharedAwsProvider, SharedAwsProvider } from './shared-provider';

/**
 * A workflow suite's local environment: its own emulator holding the fabric's public zone, quiet
 * logs, and one AWS provider process for all its builds' Terraform (shared-provider.ts says why and
 * what that leaves to the job suites). Declare it before the suite's own beforeAll hooks: jest runs
 * them in the order they are declared, so theirs find the environment ready.
 */
export function useWorkflowEnvironment(options: { readonly region: string; readonly domain: string }): () => LocalEnvironment {
  let env: LocalEnvironment | undefined;
  let awsProvider: SharedAwsProvider | undefined;
  beforeAll(async () => {
    process.env.FABRIC_LOG_LEVEL = 'silent';
    env = await createLocalEnvironment({ region: options.region });
    await env.ensureHostedZone(options.domain);
    awsProvider = await attachSharedAwsProvider();
  }, 120_000);
  afterAll(async () => {
    await awsProvider?.stop();
    await env?.stop();
  });
  return () => {
    if (!env) throw new Error('the local environment is not started yet: use it inside a test or a later hook');
    return env;
  };
}
