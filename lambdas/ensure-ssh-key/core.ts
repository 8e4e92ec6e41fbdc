import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SshKeyResult, ValidatedFabric } from '../../lib/domain/contract';
import { createLogger, Logger } from '../shared/logger';
import { sshKeySecretName } from '../../lib/domain/naming';
import { opensshPublicKeyLine, sha256Fingerprint, sshRsaBlob } from './openssh';

/**
 * The fabric's SSH key: RSA 4096, generated once, its private half kept only in Secrets Manager.
 * Later runs derive the public key from the stored private key, so kops always gets the same key.
 * Key material is never logged and never returned: callers get the secret ARN, the public key
 * and its fingerprint.
 */

export const SSH_KEY_BITS = 4096;

/** A PKCS#1 PEM ("BEGIN RSA PRIVATE KEY"): the format `ssh -i` and Node's crypto both read. */
export function generatePrivateKeyPem(bits: number = SSH_KEY_BITS): string {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return privateKey;
}

/** The OpenSSH `ssh-rsa AAAA... <comment>` line and its `SHA256:...` fingerprint. */
export function publicKeyOf(privateKeyPem: string, comment: string): { publicKey: string; fingerprint: string } {
  const blob = sshRsaBlob(createPublicKey(createPrivateKey(privateKeyPem)));
  return { publicKey: opensshPublicKeyLine(blob, comment), fingerprint: sha256Fingerprint(blob) };
}

export interface EnsureSshKeyOptions {
  readonly logger?: Logger;
  /** Injected by tests to avoid a 4096-bit generation per test. */
  readonly generatePrivateKey?: () => string;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

async function readSecret(secrets: SecretsManagerClient, secretId: string): Promise<{ arn: string; pem: string } | undefined> {
  try {
    const value = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (value.SecretString === undefined || value.ARN === undefined) {
      throw new Error(`secret ${secretId} has no string value; delete it (it is not a fabricctl SSH key) and re-run`);
    }
    return { arn: value.ARN, pem: value.SecretString };
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return undefined;
    // A key scheduled for deletion (e.g. by hand) is restored rather than replaced: the nodes trust it.
    if (errorName(error) === 'InvalidRequestException') {
      const described = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
      if (described.DeletedDate !== undefined) {
        await secrets.send(new RestoreSecretCommand({ SecretId: secretId }));
        return readSecret(secrets, secretId);
      }
    }
    throw error;
  }
}

export async function ensureSshKey(
  fabric: ValidatedFabric,
  secrets: SecretsManagerClient,
  options: EnsureSshKeyOptions = {},
): Promise<SshKeyResult> {
  const logger = options.logger ?? createLogger({ fabric: fabric.name, execution: fabric.execution });
  const secretName = sshKeySecretName(fabric.name);
  const comment = `fabricctl-${fabric.name}`;

  const existing = await readSecret(secrets, secretName);
  if (existing) {
    const derived = publicKeyOf(existing.pem, comment);
    logger.info('reusing the fabric SSH key', { secretArn: existing.arn, fingerprint: derived.fingerprint });
    return { secretArn: existing.arn, ...derived, created: false };
  }

  const pem = (options.generatePrivateKey ?? generatePrivateKeyPem)();
  const derived = publicKeyOf(pem, comment);
  const tags = [
    ...Object.entries(fabric.spec.tags).map(([Key, Value]) => ({ Key, Value })),
    { Key: 'fabricctl:fabric', Value: fabric.name },
  ];
  try {
    const created = await secrets.send(
      new CreateSecretCommand({
        Name: secretName,
        Description: `SSH private key of fabric ${fabric.name} (cluster ${fabric.clusterName}); public key ${derived.fingerprint}`,
        SecretString: pem,
        Tags: tags,
      }),
    );
    if (created.ARN === undefined) throw new Error(`CreateSecret returned no ARN for ${secretName}`);
    logger.info('created the fabric SSH key', { secretArn: created.ARN, fingerprint: derived.fingerprint });
    return { secretArn: created.ARN, ...derived, created: true };
  } catch (error) {
    if (errorName(error) !== 'ResourceExistsException') throw error;
    // Another execution created it between our read and our write: its key wins, ours is dropped.
    const winner = await readSecret(secrets, secretName);
    if (!winner) throw error;
    const winnerKey = publicKeyOf(winner.pem, comment);
    logger.info('another execution created the fabric SSH key first; using it', {
      secretArn: winner.arn,
      fingerprint: winnerKey.fingerprint,
    });
    return { secretArn: winner.arn, ...winnerKey, created: false };
  }
}
