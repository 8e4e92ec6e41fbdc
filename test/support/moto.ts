import { Moto, motoInstalled } from '../../lib/local/moto';
import { workerMoto } from './worker-moto';

export { resetMoto } from './worker-moto';

/**
 * Gives a test file an empty moto_server (its worker's, test/support/worker-moto.ts) and points the
 * AWS SDK (and Terraform) at it. Where moto_server is missing the suite is skipped and says why.
 */
export const MOTO_AVAILABLE = motoInstalled();
export const describeWithMoto = MOTO_AVAILABLE ? describe : describe.skip;
if (!MOTO_AVAILABLE) {
  // eslint-disable-next-line no-console
  console.warn('SKIPPED: moto_server (pip install moto[server]) is not installed, so handler tests against the AWS emulator cannot run.');
}

export function useMoto(): { readonly current: () => Moto } {
  let moto: Moto | undefined;
  beforeAll(async () => {
    moto = await workerMoto();
    process.env.AWS_ENDPOINT_URL = moto.endpoint;
  });
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL;
    await moto?.stop();
  });
  return {
    current: () => {
      if (!moto) throw new Error('moto is not started yet: call current() inside a test');
      return moto;
    },
  };
}
