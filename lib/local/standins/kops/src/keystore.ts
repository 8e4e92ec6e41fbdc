import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { stringify } from 'yaml';
import { CLUSTER_CA_KEYSET } from '../../contracts';
import type { Issued } from '../../test-pki';
import { KopsError } from './cli';

/**
 * The cluster CA in the state store, as kops's VFS keystore keeps it (`CLUSTER_CA_KEYSET` in
 * contracts.ts): one Keyset object whose single key is the CA, so that whoever reads kops's state
 * store (`fabricctl kubeconfig`, `kops export kubeconfig`) finds the CA the API trusts.
 */

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/**
 * kops's id for a new key, in decimal: its certificate's serial number, unless that is above a
 * serial made from the time now (Unix nanoseconds shifted 32 bits, 32 random bits below), which kops
 * takes instead so that a later key's id compares higher. The test CAs' random serials usually are.
 */
export function keyId(certPem: string, now: Date = new Date()): string {
  const serial = BigInt(`0x${new X509Certificate(certPem).serialNumber}`);
  const fromTime = ((BigInt(now.getTime()) * 1_000_000n) << 32n) | BigInt(randomBytes(4).readUInt32BE(0));
  return (serial <= fromTime ? serial : fromTime).toString(10);
}

/** The keyset YAML, laid out as kops's serializer writes it (fields in name order, `creationTimestamp: null`). */
export function clusterCaKeyset(ca: Issued, now: Date = new Date()): string {
  let privatePem: string;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(ca.certPem);
    // PKCS#1, as Go writes an RSA key; whatever PEM the CA came in.
    privatePem = createPrivateKey(ca.keyPem).export({ type: 'pkcs1', format: 'pem' }).toString();
  } catch (error) {
    throw new KopsError(`the cluster CA is not a certificate and an RSA private key: ${(error as Error).message}`);
  }
  if (!cert.ca) throw new KopsError(`the cluster CA ${cert.subject} is not a CA certificate`);
  if (!privatePem.startsWith(`-----BEGIN ${CLUSTER_CA_KEYSET.privateKeyPem}-----`))
    throw new KopsError("the cluster CA's key did not encode as PKCS#1");
  const id = keyId(ca.certPem, now);
  return stringify(
    {
      apiVersion: CLUSTER_CA_KEYSET.apiVersion,
      kind: CLUSTER_CA_KEYSET.kind,
      metadata: { creationTimestamp: null, name: CLUSTER_CA_KEYSET.name },
      spec: {
        // node-forge writes PEM with CRLF; Go's encoder, whose output kops stores, writes LF.
        keys: [{ id, privateMaterial: b64(privatePem), publicMaterial: b64(ca.certPem.replace(/\r\n/g, '\n')) }],
        primaryId: id,
        type: CLUSTER_CA_KEYSET.type,
      },
    },
    // Go's YAML encoder puts a list's dashes at its key's indentation.
    { indentSeq: false },
  );
}
