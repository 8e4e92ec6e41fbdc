import { describeWithMoto, useMoto } from './moto';
import { startMoto } from '../../lib/local/moto';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';

describeWithMoto('moto test support', () => {
  const moto = useMoto();
  test('answers the real AWS SDK on a loopback port and is stopped by its PID', async () => {
    const identity = await new STSClient({}).send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe('123456789012');
    expect(moto.current().endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describeWithMoto('startMoto', () => {
  test('GIVEN several emulators started at once WHEN one is stopped THEN each had its own port and the others still answer', async () => {
    const motos = await Promise.all([startMoto(), startMoto(), startMoto()]);
    try {
      expect(new Set(motos.map((m) => m.endpoint)).size).toBe(motos.length);
      await motos[0]?.stop();
      await expect(fetch(`${motos[0]?.endpoint ?? ''}/moto-api/data.json`)).rejects.toThrow();
      for (const moto of motos.slice(1)) expect((await fetch(`${moto.endpoint}/moto-api/data.json`)).ok).toBe(true);
    } finally {
      await Promise.all(motos.map((m) => m.stop()));
    }
  });
});
