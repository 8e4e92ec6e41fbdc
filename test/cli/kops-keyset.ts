import { createPrivateKey } from 'node:crypto';
import { stringify } from 'yaml';
import type { Issued } from '../../lib/local/standins/test-pki';

/**
 * A CA keyset as kops 1.36 writes it to `pki/private/kubernetes-ca/keyset.yaml` (kops.k8s.io/v1alpha2
 * Keyset: certificate and PKCS#1 private key as base64 of their PEM, `primaryId` naming the signer).
 */
export interface KeysetKey {
  readonly id: string;
  readonly ca: Issued;
  readonly distrusted?: boolean;
  /** Leave the private material out (a keyset of certificates only). */
  readonly withoutPrivate?: boolean;
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

export function kopsCaKeyset(keys: readonly KeysetKey[], primaryId: string): string {
  return stringify({
    apiVersion: 'kops.k8s.io/v1alpha2',
    kind: 'Keyset',
    metadata: { creationTimestamp: null, name: 'kubernetes-ca' },
    spec: {
      keys: keys.map((k) => ({
        id: k.id,
        ...(k.distrusted ? { distrustTimestamp: '2026-11-01T00:00:00Z' } : {}),
        ...(k.withoutPrivate
          ? {}
          : { privateMaterial: b64(createPrivateKey(k.ca.keyPem).export({ type: 'pkcs1', format: 'pem' }).toString()) }),
        publicMaterial: b64(k.ca.certPem),
      })),
      primaryId,
      type: 'Keypair',
    },
  });
}
