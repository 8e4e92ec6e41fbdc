import { createLocalEnvironment, LocalEnvironment } from '../../lib/local/environment';
import type { Moto } from '../../lib/local/moto';
import { attachSharedAwsProvider, SharedAwsProvider } from './shared-provider';
import { workerMoto } from './worker-moto';

/**
 * A workflow suite's local environment: its worker's emulator, emptied (worker-moto.ts), holding
 * the fabric's public zone; quiet logs; and one AWS provider process for all its builds' Terraform
 * (shared-provider.ts says why, and what that leaves to the job suites). Declare it before the
 * suite's own beforeAll hooks: jest runs them in the order they are declared, so theirs find the
 * environment ready.
 */
export function useWorkflowEnvironment(options: { readonly region: string; readonly domain: string }): () => LocalEnvironment {
  let moto: Moto | undefined;
  let env: LocalEnvironment | undefined;
  let awsProvider: SharedAwsProvider | undefined;
  beforeAll(async () => {
    process.env.FABRIC_LOG_LEVEL = 'silent';
    moto = await workerMoto();
    env = await createLocalEnvironment({ region: options.region, endpoint: moto.endpoint });
    await env.ensureHostedZone(options.domain);
    awsProvider = await attachSharedAwsProvider();
  }, 120_000);
  afterAll(async () => {
    await awsProvider?.stop();
    await env?.stop();
    await moto?.stop();
  });
  return () => {
    if (!env) throw new Error('the local environment is not started yet: use it inside a test or a later hook');
    return env;
  };
}
