import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sshpk from 'sshpk';
import { generatePrivateKeyPem, publicKeyOf } from '../../lambdas/ensure-ssh-key/core';
import { sshRsaBlob } from '../../lambdas/ensure-ssh-key/openssh';

/**
 * The public key line and fingerprint are written by hand (RFC 4253 §6.6) since sshpk left the
 * bundle. Two references: sshpk, which wrote them before (so kops and the nodes see the same key),
 * and OpenSSH's own ssh-keygen where it is installed.
 */

function pkcs1Pem(bits: number, publicExponent = 0x10001): string {
  return generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicExponent,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
}

/** What sshpk made of the same PEM, as the previous publicKeyOf did. */
function sshpkPublicKeyOf(pem: string, comment: string): { publicKey: string; fingerprint: string } {
  const key = sshpk.parsePrivateKey(pem, 'pem').toPublic();
  key.comment = comment;
  return { publicKey: key.toString('ssh'), fingerprint: key.fingerprint('sha256').toString() };
}

const SSH_KEYGEN_SKIP_REASON = spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' }).error ? 'ssh-keygen is not on PATH' : undefined;

describe('publicKeyOf against sshpk (the previous implementation)', () => {
  test.each([
    ['RSA 1024, e = 65537', 1024, 0x10001],
    ['RSA 2048, e = 3', 2048, 3],
    // e's first byte has its high bit set: the mpint needs a leading zero byte, as n always does.
    ['RSA 1024, e = 0x800001', 1024, 0x800001],
  ])("GIVEN %s WHEN its public key is written THEN the line and fingerprint are sshpk's", (_what, bits, e) => {
    const pem = pkcs1Pem(bits, e);
    expect(publicKeyOf(pem, 'fabricctl-demo')).toEqual(sshpkPublicKeyOf(pem, 'fabricctl-demo'));
  });

  test("GIVEN a production-size key WHEN its public key is written THEN the line and fingerprint are sshpk's", () => {
    const pem = generatePrivateKeyPem();
    expect(publicKeyOf(pem, 'fabricctl-demo')).toEqual(sshpkPublicKeyOf(pem, 'fabricctl-demo'));
  });

  test('GIVEN an empty comment WHEN the line is written THEN it ends after the key, as sshpk wrote it', () => {
    const pem = pkcs1Pem(1024);
    expect(publicKeyOf(pem, '').publicKey).toBe(sshpkPublicKeyOf(pem, '').publicKey);
  });

  test('GIVEN a PKCS#8 PEM of the same key WHEN read THEN the public key is the same', () => {
    const pem = pkcs1Pem(1024);
    const pkcs8 = createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(publicKeyOf(pkcs8, 'x')).toEqual(publicKeyOf(pem, 'x'));
  });

  test('fails when the stored key is not RSA, instead of writing an ssh-rsa line for it', () => {
    const { privateKey } = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    expect(() => publicKeyOf(privateKey, 'x')).toThrow(/expected an RSA key.*got ed25519/);
  });
});

(SSH_KEYGEN_SKIP_REASON ? describe.skip : describe)('publicKeyOf against ssh-keygen', () => {
  let dir: string;
  let pem: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'openssh-'));
    pem = pkcs1Pem(2048);
    // ssh-keygen refuses a private key file others can read.
    writeFileSync(join(dir, 'id_rsa'), pem, { mode: 0o600 });
    chmodSync(join(dir, 'id_rsa'), 0o600);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('GIVEN the stored PEM WHEN ssh-keygen -y derives its public key THEN it is the key written here', () => {
    const derived = spawnSync('ssh-keygen', ['-y', '-f', join(dir, 'id_rsa')], { encoding: 'utf8' });
    expect(derived.stderr).toBe('');
    const [type, key] = derived.stdout.trim().split(' ');
    expect(`${type ?? ''} ${key ?? ''} fabricctl-demo`).toBe(publicKeyOf(pem, 'fabricctl-demo').publicKey);
  });

  test('GIVEN the line written here WHEN ssh-keygen -l fingerprints it THEN it prints the same SHA256 fingerprint and comment', () => {
    const { publicKey, fingerprint } = publicKeyOf(pem, 'fabricctl-demo');
    writeFileSync(join(dir, 'id_rsa.pub'), `${publicKey}\n`);
    const listed = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'id_rsa.pub')], { encoding: 'utf8' });
    expect(listed.stdout.trim()).toBe(`2048 ${fingerprint} fabricctl-demo (RSA)`);
  });
});

describe('sshRsaBlob', () => {
  test('GIVEN an RSA public key WHEN encoded THEN the blob is string "ssh-rsa", mpint e, mpint n (RFC 4253 §6.6)', () => {
    const key = createPublicKey(pkcs1Pem(1024));
    const blob = sshRsaBlob(key);
    expect(blob.readUInt32BE(0)).toBe(7);
    expect(blob.subarray(4, 11).toString()).toBe('ssh-rsa');
    // e = 65537 is 01 00 01: no leading zero byte.
    expect([...blob.subarray(11, 18)]).toEqual([0, 0, 0, 3, 1, 0, 1]);
    // n of 1024 bits has its high bit set: 129 bytes, the first a zero.
    expect(blob.readUInt32BE(18)).toBe(129);
    expect(blob[22]).toBe(0);
    expect(blob.length).toBe(22 + 129);
  });
});
