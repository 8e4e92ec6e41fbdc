import { createPrivateKey } from 'node:crypto';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ensureSshKey, generatePrivateKeyPem, publicKeyOf, SSH_KEY_BITS } from '../../lambdas/ensure-ssh-key/core';
import { createLogger } from '../../lambdas/shared/logger';
import { testFabric } from './fixtures/late-stages';

function named(name: string): Error {
  const error = new Error(name);
  error.name = name;
  return error;
}

/** An in-memory Secrets Manager that records what it was sent. */
function fakeSecrets(options: { raceOnCreate?: string } = {}) {
  const store = new Map<string, string>();
  const sent: unknown[] = [];
  const client = {
    send: async (command: unknown) => {
      sent.push(command);
      if (command instanceof GetSecretValueCommand) {
        const id = command.input.SecretId ?? '';
        const value = store.get(id);
        if (value === undefined) throw named('ResourceNotFoundException');
        return { ARN: `arn:aws:secretsmanager:us-east-2:123456789012:secret:${id}-AbCdEf`, SecretString: value };
      }
      if (command instanceof CreateSecretCommand) {
        const name = command.input.Name ?? '';
        if (options.raceOnCreate !== undefined) {
          store.set(name, options.raceOnCreate);
          throw named('ResourceExistsException');
        }
        if (store.has(name)) throw named('ResourceExistsException');
        store.set(name, command.input.SecretString ?? '');
        return { ARN: `arn:aws:secretsmanager:us-east-2:123456789012:secret:${name}-AbCdEf` };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  };
  return { client: client as unknown as SecretsManagerClient, store, sent };
}

// Small keys keep the tests fast; the size used in production is tested once below.
const smallKey = () => generatePrivateKeyPem(1024);

describe('ensureSshKey', () => {
  test('GIVEN no secret WHEN ensured THEN a key is created under the fabric secret name with the spec tags', async () => {
    const { client, store, sent } = fakeSecrets();
    const result = await ensureSshKey(testFabric({ tags: { team: 'platform' } }), client, { generatePrivateKey: smallKey });
    expect(result.created).toBe(true);
    expect([...store.keys()]).toEqual(['fabricctl/demo/ssh-key']);
    const create = sent.find((c) => c instanceof CreateSecretCommand) as CreateSecretCommand;
    expect(create.input.Tags).toEqual(expect.arrayContaining([{ Key: 'team', Value: 'platform' }]));
  });

  test('GIVEN a created key WHEN ensured THEN the public key is OpenSSH ssh-rsa and matches the stored private key', async () => {
    const { client, store } = fakeSecrets();
    const result = await ensureSshKey(testFabric(), client, { generatePrivateKey: smallKey });
    expect(result.publicKey).toMatch(/^ssh-rsa AAAAB3NzaC1yc2E[A-Za-z0-9+/=]+ fabricctl-demo$/);
    expect(result.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(publicKeyOf(store.get('fabricctl/demo/ssh-key') ?? '', 'x').fingerprint).toBe(result.fingerprint);
  });

  test('GIVEN an existing secret WHEN ensured again THEN the stored key is reused, not regenerated', async () => {
    const { client } = fakeSecrets();
    const first = await ensureSshKey(testFabric(), client, { generatePrivateKey: smallKey });
    const generate = jest.fn(smallKey);
    const second = await ensureSshKey(testFabric(), client, { generatePrivateKey: generate });
    expect(generate).not.toHaveBeenCalled();
    expect(second).toEqual({ ...first, created: false });
  });

  test('GIVEN another execution creates the secret first WHEN ensured THEN the winner key is returned', async () => {
    const winnerPem = smallKey();
    const { client } = fakeSecrets({ raceOnCreate: winnerPem });
    const result = await ensureSshKey(testFabric(), client, { generatePrivateKey: smallKey });
    expect(result.created).toBe(false);
    expect(result.fingerprint).toBe(publicKeyOf(winnerPem, 'x').fingerprint);
  });

  test('GIVEN any run WHEN ensured THEN neither the result nor the log lines contain the private key', async () => {
    const { client, store } = fakeSecrets();
    const lines: string[] = [];
    const previous = process.env.FABRIC_LOG_LEVEL;
    process.env.FABRIC_LOG_LEVEL = 'info';
    try {
      const logger = createLogger({}, (l) => lines.push(l));
      const result = await ensureSshKey(testFabric(), client, { generatePrivateKey: smallKey, logger });
      const pemBody = (store.get('fabricctl/demo/ssh-key') ?? '').split('\n')[1] ?? 'missing';
      expect(lines.length).toBeGreaterThan(0);
      expect(JSON.stringify(result)).not.toContain(pemBody);
      expect(lines.join('\n')).not.toContain(pemBody);
      expect(JSON.stringify(result)).not.toContain('PRIVATE KEY');
    } finally {
      process.env.FABRIC_LOG_LEVEL = previous;
    }
  });

  test('fails when the secret exists but holds no string value', async () => {
    const client = { send: async () => ({ ARN: 'arn:x' }) } as unknown as SecretsManagerClient;
    await expect(ensureSshKey(testFabric(), client)).rejects.toThrow(/has no string value/);
  });
});

describe('generatePrivateKeyPem', () => {
  test('GIVEN the default WHEN generated THEN the key is RSA 4096 in PKCS#1 PEM', () => {
    const pem = generatePrivateKeyPem();
    expect(pem.startsWith('-----BEGIN RSA PRIVATE KEY-----')).toBe(true);
    const details = createPrivateKey(pem).asymmetricKeyDetails;
    expect(details?.modulusLength).toBe(SSH_KEY_BITS);
    expect(SSH_KEY_BITS).toBe(4096);
  });
});
