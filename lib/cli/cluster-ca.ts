import { createPrivateKey, X509Certificate } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parse as parseYaml } from 'yaml';
import { stateKeys } from '../domain/naming';
import { CliError, EXIT } from './io';

/**
 * The cluster CA as kops keeps it in its state store: one Keyset object (kops.k8s.io/v1alpha2,
 * `pki/private/kubernetes-ca/keyset.yaml` under the cluster's config base), whose keys carry the
 * certificate (`publicMaterial`) and private key (`privateMaterial`) as base64 of their PEM, and
 * whose `primaryId` names the key kops signs with. `kops export kubeconfig --admin` reads the same
 * object to issue its admin certificate.
 */

/** kops's id of the Kubernetes cluster CA keyset (`fi.CertificateIDCA`). */
export const CLUSTER_CA_KEYSET = 'kubernetes-ca';

/** Key of the CA keyset in the state bucket: kops's state store is `s3://<bucket>/fabrics/<name>/kops`. */
export function clusterCaKey(fabric: string, clusterName: string): string {
  return `${stateKeys.kops(fabric)}/${clusterName}/pki/private/${CLUSTER_CA_KEYSET}/keyset.yaml`;
}

export interface ClusterCa {
  /** Certificate of the primary key, PEM: the issuer of what we mint. */
  readonly certPem: string;
  /** Private key of the primary key, PEM (PKCS#1 as kops writes it, or PKCS#8). */
  readonly keyPem: string;
  /**
   * Every certificate of the keyset not distrusted, PEM, concatenated: what the API server's
   * client CA bundle holds during a rotation, so the kubeconfig trusts all of them.
   */
  readonly trustedPem: string;
}

/** The CA keyset is not where kops puts it. */
export class ClusterCaNotFound extends CliError {
  constructor(location: string, fabric: string) {
    super(
      EXIT.NOT_FOUND,
      'ClusterCaNotFound',
      `no cluster CA at ${location}: kops writes it there when the cluster job creates the cluster. ` +
        `Provision the fabric again (fabricctl up) and read its cluster job's log (fabricctl logs ${fabric})`,
    );
  }
}

/** The caller may not read the CA (the state bucket's policy, or their own IAM policy). */
export class ClusterCaAccessDenied extends CliError {
  constructor(location: string, caller: string, bucket: string, fabric: string) {
    super(
      EXIT.FAILED,
      'ClusterCaAccessDenied',
      `${caller} may not read ${location} (the cluster CA, which signs the short-lived client certificate). ` +
        "The state bucket lets only the build jobs, the control plane and the stack's state admins read it: " +
        `add ${principalArnOf(caller)} to fabricctl:stateAdminPrincipalArns${rolePathHint(caller)} ` +
        `(npx cdk deploy FabricOrchestrator -c fabricctl:stateAdminPrincipalArns=<arns>), ` +
        `run fabricctl up for the fabric once so that EnsureStateBucket applies it to the bucket policy, ` +
        `and allow s3:GetObject on arn:aws:s3:::${bucket}/${stateKeys.kops(fabric)}/* in your own IAM policy`,
    );
  }
}

/** The keyset is there but is not a CA kops would sign with. */
export class ClusterCaUnusable extends CliError {
  constructor(location: string, why: string) {
    super(
      EXIT.FAILED,
      'ClusterCaUnusable',
      `the cluster CA at ${location} cannot sign: ${why}. ` +
        `kops's own files are the reference (kops get keypairs kubernetes-ca shows the keyset)`,
    );
  }
}

/**
 * What the bucket policy's `aws:PrincipalArn` is for a caller: the role, not the session, for an
 * assumed role (the bucket policy names roles); users as they are. For the error message only.
 */
export function principalArnOf(callerArn: string): string {
  const session = ASSUMED_ROLE.exec(callerArn);
  return session ? `arn:${session[1]}:iam::${session[2]}:role/${session[3]}` : callerArn;
}

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/;

/**
 * An assumed role's session ARN drops the role's path, which `aws:PrincipalArn` keeps (IAM Identity
 * Center's roles live under role/aws-reserved/sso.amazonaws.com/): how to read the full ARN.
 */
export function rolePathHint(callerArn: string): string {
  const role = ASSUMED_ROLE.exec(callerArn)?.[3];
  if (role === undefined) return '';
  const sso = role.startsWith('AWSReservedSSO_') ? ', an IAM Identity Center role under role/aws-reserved/sso.amazonaws.com/' : '';
  return ` (with the role's path, if it has one${sso}: aws iam get-role --role-name ${role} --query Role.Arn)`;
}

interface KeysetItem {
  readonly id?: unknown;
  readonly publicMaterial?: unknown;
  readonly privateMaterial?: unknown;
  readonly distrustTimestamp?: unknown;
}

const text = (material: unknown): string | undefined =>
  typeof material === 'string' && material !== '' ? Buffer.from(material, 'base64').toString('utf8') : undefined;

/** Pure: the CA from the keyset's YAML text. `location` names it in errors. */
export function parseClusterCaKeyset(yamlText: string, location: string): ClusterCa {
  let doc: { kind?: unknown; spec?: { primaryId?: unknown; keys?: unknown } } | null;
  try {
    doc = parseYaml(yamlText) as typeof doc;
  } catch (error) {
    throw new ClusterCaUnusable(location, `not YAML (${(error as Error).message})`);
  }
  if (doc?.kind !== 'Keyset' || !Array.isArray(doc.spec?.keys)) throw new ClusterCaUnusable(location, 'not a kops Keyset with spec.keys');
  const keys = doc.spec.keys as KeysetItem[];
  const primaryId = doc.spec.primaryId;
  // Ids are decimal strings; compared as text in case a hand-edited keyset left them unquoted.
  const primary = keys.find((k) => k.id !== undefined && String(k.id) === String(primaryId));
  if (primary === undefined)
    throw new ClusterCaUnusable(location, `spec.primaryId ${JSON.stringify(primaryId)} names no key of the keyset`);
  if (primary.distrustTimestamp !== undefined) throw new ClusterCaUnusable(location, `the primary key ${String(primaryId)} is distrusted`);
  const certPem = text(primary.publicMaterial);
  const keyPem = text(primary.privateMaterial);
  if (certPem === undefined || keyPem === undefined)
    throw new ClusterCaUnusable(location, `the primary key ${String(primaryId)} lacks its certificate or its private key`);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    const key = createPrivateKey(keyPem);
    // The signer we mint with must be the key of the certificate we name as issuer.
    if (!cert.checkPrivateKey(key)) throw new Error('the private key does not belong to the certificate');
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`a ${String(key.asymmetricKeyType)} key (kops's CAs are RSA)`);
  } catch (error) {
    throw new ClusterCaUnusable(location, (error as Error).message);
  }
  if (!cert.ca) throw new ClusterCaUnusable(location, `${cert.subject} is not a CA certificate`);
  const trusted = keys
    .filter((k) => k.distrustTimestamp === undefined)
    .map((k) => text(k.publicMaterial))
    .filter((pem): pem is string => pem !== undefined);
  return { certPem, keyPem, trustedPem: trusted.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)).join('') };
}

type Sender<C extends { send: unknown }> = Pick<C, 'send'>;

/** Reads and parses the fabric's cluster CA from the state store, with named errors for the usual failures. */
export async function readClusterCa(
  s3: Sender<S3Client>,
  bucket: string,
  fabric: string,
  clusterName: string,
  caller: string,
): Promise<ClusterCa> {
  const key = clusterCaKey(fabric, clusterName);
  const location = `s3://${bucket}/${key}`;
  let body: string;
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    body = (await response.Body?.transformToString('utf-8')) ?? '';
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) throw new ClusterCaNotFound(location, fabric);
    if (e.name === 'AccessDenied' || e.$metadata?.httpStatusCode === 403) throw new ClusterCaAccessDenied(location, caller, bucket, fabric);
    throw error;
  }
  return parseClusterCaKeyset(body, location);
}
