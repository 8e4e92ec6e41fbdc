import { describeWithMoto, useMoto } from './moto';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';

describeWithMoto('moto test support', () => {
  const moto = useMoto();
  test('answers the real AWS SDK on a loopback port and is stopped by its PID', async () => {
    const identity = await new STSClient({}).send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe('123456789012');
    expect(moto.current().endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
