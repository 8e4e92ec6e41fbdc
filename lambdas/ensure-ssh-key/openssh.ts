import { createHash, type KeyObject } from 'node:crypto';

/**
 * An RSA public key as OpenSSH writes it, from Node's own crypto: the `ssh-rsa` line of an
 * authorized_keys file and its SHA256 fingerprint. This is what sshpk did here, in a few lines
 * instead of 190 KiB of bundle.
 */

/** RFC 4251 §5 `string`: a uint32 length, big-endian, then the bytes. */
function sshString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/**
 * RFC 4251 §5 `mpint` of a non-negative integer given as unsigned big-endian bytes (as in a JWK):
 * two's complement, so no leading zero bytes, except one before a first byte with its high bit set.
 */
function mpint(unsigned: Buffer): Buffer {
  let start = 0;
  while (start < unsigned.length && unsigned[start] === 0) start += 1;
  const digits = unsigned.subarray(start);
  const first = digits[0];
  return sshString(first !== undefined && first >= 0x80 ? Buffer.concat([Buffer.from([0]), digits]) : digits);
}

/** RFC 4253 §6.6 `ssh-rsa` public key blob: string "ssh-rsa", mpint e, mpint n. */
export function sshRsaBlob(publicKey: KeyObject): Buffer {
  if (publicKey.asymmetricKeyType !== 'rsa')
    throw new Error(`expected an RSA key (fabricctl's SSH keys are RSA 4096), got ${publicKey.asymmetricKeyType ?? 'a secret key'}`);
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.e === undefined || jwk.n === undefined) throw new Error('the RSA key exported no modulus or exponent');
  return Buffer.concat([sshString(Buffer.from('ssh-rsa')), mpint(Buffer.from(jwk.e, 'base64url')), mpint(Buffer.from(jwk.n, 'base64url'))]);
}

/** `ssh-rsa AAAA... comment`, the authorized_keys line (no comment when it is empty). */
export function opensshPublicKeyLine(blob: Buffer, comment: string): string {
  return `ssh-rsa ${blob.toString('base64')}${comment ? ` ${comment}` : ''}`;
}

/** `SHA256:` and the unpadded base64 of the blob's SHA-256, as `ssh-keygen -l` prints it. */
export function sha256Fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}
