import { createLocalEnvironment, EMULATOR_ACCOUNT, LocalEnvironment } from '../../lib/local/environment';
import { describeWithMoto } from '../support/moto';

/** Local mode must never reach a real account, even with real credentials in the shell. */
describeWithMoto('the emulator environment', () => {
  let env: LocalEnvironment;
  const saved = { ...process.env };
  beforeAll(async () => {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIAREALLOOKINGKEY00',
      AWS_SECRET_ACCESS_KEY: 'real-looking',
      AWS_PROFILE: 'prod',
      AWS_SESSION_TOKEN: 'token',
    });
    env = await createLocalEnvironment({ region: 'us-east-2' });
  }, 60_000);
  afterAll(async () => {
    await env?.stop();
    process.env = saved;
  });

  test("GIVEN real-looking shell credentials THEN local mode's functions and builds get fake ones, pointed at the emulator", async () => {
    expect({
      key: process.env.AWS_ACCESS_KEY_ID,
      profile: process.env.AWS_PROFILE,
      token: process.env.AWS_SESSION_TOKEN,
      endpoint: process.env.AWS_ENDPOINT_URL,
    }).toEqual({ key: 'test', profile: undefined, token: undefined, endpoint: env.endpoint });
    const build = await env.buildEnvironment('demo.example.com');
    expect(build).toMatchObject({ AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_ENDPOINT_URL: env.endpoint });
    expect(env.accountId).toBe(EMULATOR_ACCOUNT);
  });

  test(
    'GIVEN local mode WHEN its builds install tools ' +
      'THEN they use the terraform on PATH (checked at least 1.11 first) instead of downloading the pinned one',
    async () => {
      expect(await env.buildEnvironment('demo.example.com')).toMatchObject({ TERRAFORM_ACCEPT_INSTALLED: 'true' });
    },
  );
});
