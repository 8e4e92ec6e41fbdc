import { createPrivateKey } from 'node:crypto';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { handler as Handler } from '../../lambdas/ensure-ssh-key/handler';
import { publicKeyOf } from '../../lambdas/ensure-ssh-key/core';
import { describeWithMoto, resetMoto, useMoto } from '../support/moto';
import { testFabric } from './fixtures/late-stages';

describeWithMoto('EnsureSshKey handler against moto', () => {
  const moto = useMoto();
  let handler: typeof Handler;
  beforeAll(async () => {
    // Imported after moto is up: the handler builds its client at module load.
    ({ handler } = await import('../../lambdas/ensure-ssh-key/handler'));
  });
  beforeEach(async () => resetMoto(moto.current()));

  test('GIVEN an empty account WHEN invoked twice THEN one 4096-bit key is stored, tagged, and reused', async () => {
    const fabric = testFabric({ tags: { team: 'platform' } });
    const first = await handler({ fabric });
    const second = await handler({ fabric });

    expect(first.created).toBe(true);
    expect(second).toEqual({ ...first, created: false });
    const secrets = new SecretsManagerClient({});
    const stored = await secrets.send(new GetSecretValueCommand({ SecretId: 'fabricctl/demo/ssh-key' }));
    expect(publicKeyOf(stored.SecretString ?? '', 'x').fingerprint).toBe(first.fingerprint);
    expect(createPrivateKey(stored.SecretString ?? '').asymmetricKeyDetails?.modulusLength).toBe(4096);
    const described = await secrets.send(new DescribeSecretCommand({ SecretId: 'fabricctl/demo/ssh-key' }));
    expect(described.Tags).toEqual(expect.arrayContaining([{ Key: 'team', Value: 'platform' }]));
    expect(first.secretArn).toBe(described.ARN);
  });

  test('GIVEN two executions at once WHEN both ensure the key THEN exactly one creates it and both return that key', async () => {
    const fabric = testFabric();
    const [a, b] = await Promise.all([handler({ fabric }), handler({ fabric })]);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect([a.created, b.created].filter(Boolean)).toHaveLength(1);
  });
});
