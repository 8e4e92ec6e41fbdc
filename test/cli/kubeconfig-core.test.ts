import { createPrivateKey, X509Certificate } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  ADMIN_GROUP,
  CLOCK_SKEW_MS,
  execCredential,
  mintClientCertificate,
  parseTtl,
  REFRESH_MARGIN_MS,
  requestedExecApiVersion,
} from '../../lib/cli/client-credential';
import { ClusterCa, clusterCaKey, parseClusterCaKeyset, principalArnOf, rolePathHint } from '../../lib/cli/cluster-ca';
import { KubeconfigEntry, kubeconfigTarget, mergeKubeconfig, readKubeconfig, writeKubeconfig } from '../../lib/cli/kubeconfig-file';
import { createTestCa, Issued } from '../../lib/local/standins/test-pki';
import { kopsCaKeyset } from './kops-keyset';
import { tempDir } from './support';

const NOW = new Date('2026-11-26T12:00:00Z');
const HOUR_MS = 3600_000;
const CALLER = 'arn:aws:sts::123456789012:assumed-role/Platform_Admins/alice@example.com';

// RSA keys take a moment: one CA for the suite, one foreign CA for the negative tests.
let clusterCa: Issued;
let foreignCa: Issued;
beforeAll(() => {
  clusterCa = createTestCa('kubernetes-ca');
  foreignCa = createTestCa('kubernetes-ca');
});

const caOf = (issued: Issued): ClusterCa => ({ certPem: issued.certPem, keyPem: issued.keyPem, trustedPem: issued.certPem });

type Doc = {
  'current-context'?: string;
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  preferences?: unknown;
};

function entry(overrides: Partial<KubeconfigEntry> = {}): KubeconfigEntry {
  return {
    name: 'demo.example.com',
    server: 'https://api.demo.example.com',
    caPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    exec: { command: 'fabricctl', args: ['kubeconfig', 'demo', '--credential'], installHint: 'install fabricctl' },
    ...overrides,
  };
}

const OTHER_KUBECONFIG = `# my clusters
apiVersion: v1
kind: Config
preferences: {colors: true}
clusters:
- name: staging
  cluster: {server: 'https://staging.example.org', certificate-authority-data: Zm9v}
users:
- name: staging-admin # from the platform team
  user: {token: secret-token}
contexts:
- name: staging
  context: {cluster: staging, user: staging-admin}
current-context: staging
`;

/** What `kops export kubeconfig --admin` leaves: an 18-hour client certificate and its key, inline. */
const KOPS_ADMIN = `apiVersion: v1
kind: Config
clusters:
- name: demo.example.com
  cluster: {server: 'https://api.demo.example.com', certificate-authority-data: Zm9v}
users:
- name: demo.example.com
  user: {client-certificate-data: Y2VydA==, client-key-data: a2V5}
contexts:
- name: demo.example.com
  context: {cluster: demo.example.com, user: demo.example.com}
current-context: demo.example.com
`;

describe('mergeKubeconfig', () => {
  test('GIVEN a kubeconfig with another cluster WHEN merged THEN the other cluster, user, context, settings and comments are kept', () => {
    const text = mergeKubeconfig(OTHER_KUBECONFIG, entry());
    const doc = parseYaml(text) as Doc;
    expect(doc.clusters.map((c) => c.name)).toEqual(['staging', 'demo.example.com']);
    expect(doc.users.map((u) => u.name)).toEqual(['staging-admin', 'demo.example.com']);
    expect(doc.contexts).toEqual([
      { name: 'staging', context: { cluster: 'staging', user: 'staging-admin' } },
      { name: 'demo.example.com', context: { cluster: 'demo.example.com', user: 'demo.example.com' } },
    ]);
    expect(doc.users[0]?.user).toEqual({ token: 'secret-token' });
    expect(doc.preferences).toEqual({ colors: true });
    expect(text).toContain('# my clusters');
    expect(text).toContain('# from the platform team');
  });

  test('GIVEN a kubeconfig WHEN the fabric is merged THEN its context is the current context', () => {
    expect((parseYaml(mergeKubeconfig(OTHER_KUBECONFIG, entry())) as Doc)['current-context']).toBe('demo.example.com');
  });

  test("GIVEN kops's 18-hour admin user of the same name WHEN merged THEN the exec plugin replaces the user; no client key is left", () => {
    const text = mergeKubeconfig(KOPS_ADMIN, entry());
    const doc = parseYaml(text) as Doc;
    expect(doc.users).toHaveLength(1);
    expect(text).not.toContain('client-key-data');
    expect(doc.users[0]?.user).toEqual({
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: 'fabricctl',
        args: ['kubeconfig', 'demo', '--credential'],
        interactiveMode: 'Never',
        provideClusterInfo: false,
        installHint: 'install fabricctl',
      },
    });
  });

  test('GIVEN no kubeconfig WHEN merged THEN a complete Config holds the cluster with the CA, the server and a TLS name when given', () => {
    const doc = parseYaml(
      mergeKubeconfig(undefined, entry({ server: 'https://127.0.0.1:6443', tlsServerName: 'api.demo.example.com' })),
    ) as Doc & { apiVersion: string; kind: string };
    expect(doc.apiVersion).toBe('v1');
    expect(doc.kind).toBe('Config');
    expect(doc.clusters[0]?.cluster).toEqual({
      server: 'https://127.0.0.1:6443',
      'certificate-authority-data': Buffer.from(entry().caPem).toString('base64'),
      'tls-server-name': 'api.demo.example.com',
    });
  });

  test("GIVEN kubectl's empty lists (users: null) WHEN merged THEN the lists are made", () => {
    const doc = parseYaml(
      mergeKubeconfig('apiVersion: v1\nkind: Config\nclusters: null\nusers: null\ncontexts: null\ncurrent-context: ""\n', entry()),
    ) as Doc;
    expect([doc.clusters.length, doc.users.length, doc.contexts.length]).toEqual([1, 1, 1]);
  });

  test('fails when the kubeconfig is not YAML, naming the file and leaving it alone', () => {
    expect(() => mergeKubeconfig('clusters: [unclosed', entry(), '/home/me/.kube/config')).toThrow(
      expect.objectContaining({
        name: 'KubeconfigUnreadable',
        message: expect.stringContaining('/home/me/.kube/config is not a kubeconfig'),
      }),
    );
  });

  test("fails when the kubeconfig's clusters is not a list", () => {
    expect(() => mergeKubeconfig('clusters: {a: 1}\n', entry())).toThrow(
      expect.objectContaining({ name: 'KubeconfigUnreadable', message: expect.stringContaining('clusters is not a list') }),
    );
  });
});

describe('kubeconfig file', () => {
  test('GIVEN $KUBECONFIG with several paths WHEN the target is chosen THEN it is the first path', () => {
    expect(kubeconfigTarget({ KUBECONFIG: ':/a/config:/b/config' }, '/home/me')).toBe('/a/config');
  });

  test('GIVEN no $KUBECONFIG WHEN the target is chosen THEN it is ~/.kube/config', () => {
    expect(kubeconfigTarget({}, '/home/me')).toBe('/home/me/.kube/config');
  });

  test('GIVEN a new directory WHEN written THEN the file has mode 0600', () => {
    const path = join(tempDir(), 'new', 'config');
    writeKubeconfig(path, 'apiVersion: v1\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test('GIVEN a world-readable file WHEN written over THEN it has mode 0600', () => {
    const path = join(tempDir(), 'config');
    writeFileSync(path, 'old\n', { mode: 0o644 });
    writeKubeconfig(path, 'new\n');
    expect([readFileSync(path, 'utf8'), statSync(path).mode & 0o777]).toEqual(['new\n', 0o600]);
  });

  test('GIVEN a kubeconfig that is a symbolic link WHEN read and written THEN the file it points to changes and the link stays', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'dotfiles'));
    writeFileSync(join(dir, 'dotfiles', 'kubeconfig'), 'old\n');
    symlinkSync(join(dir, 'dotfiles', 'kubeconfig'), join(dir, 'config'));
    const { realPath, text } = readKubeconfig(join(dir, 'config'));
    expect(text).toBe('old\n');
    writeKubeconfig(realPath, 'new\n');
    expect(lstatSync(join(dir, 'config')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'config'), 'utf8')).toBe('new\n');
  });
});

describe('mintClientCertificate', () => {
  test('GIVEN the cluster CA WHEN a certificate is minted THEN its CN is the caller, O system:masters, issued by the cluster CA', () => {
    const minted = mintClientCertificate(caOf(clusterCa), { commonName: CALLER, groups: [ADMIN_GROUP] }, HOUR_MS, NOW);
    const cert = new X509Certificate(minted.certPem);
    const ca = new X509Certificate(clusterCa.certPem);
    expect(cert.subject).toBe(`O=${ADMIN_GROUP}\nCN=${CALLER}`);
    expect(cert.issuer).toBe(ca.subject);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
  });

  test('GIVEN a TTL WHEN a certificate is minted THEN it is valid from a little before now until now plus the TTL', () => {
    const minted = mintClientCertificate(caOf(clusterCa), { commonName: CALLER, groups: [ADMIN_GROUP] }, 2 * HOUR_MS, NOW);
    const cert = new X509Certificate(minted.certPem);
    expect(new Date(cert.validFrom)).toEqual(new Date(NOW.getTime() - CLOCK_SKEW_MS));
    expect(new Date(cert.validTo)).toEqual(new Date(NOW.getTime() + 2 * HOUR_MS));
    expect([minted.notBefore, minted.notAfter]).toEqual([new Date(NOW.getTime() - CLOCK_SKEW_MS), new Date(NOW.getTime() + 2 * HOUR_MS)]);
  });

  test('GIVEN a minted certificate THEN it is a client certificate, not a CA, and the key is its own', () => {
    const minted = mintClientCertificate(caOf(clusterCa), { commonName: CALLER, groups: [ADMIN_GROUP] }, HOUR_MS, NOW);
    const cert = new X509Certificate(minted.certPem);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.checkPrivateKey(createPrivateKey(minted.keyPem))).toBe(true);
  });

  test('fails to verify against another CA', () => {
    const minted = mintClientCertificate(caOf(clusterCa), { commonName: CALLER, groups: [ADMIN_GROUP] }, HOUR_MS, NOW);
    const other = new X509Certificate(foreignCa.certPem);
    expect(new X509Certificate(minted.certPem).verify(other.publicKey)).toBe(false);
  });

  test('GIVEN two mints THEN each has its own key and serial', () => {
    const a = mintClientCertificate(caOf(clusterCa), { commonName: CALLER, groups: [ADMIN_GROUP] }, HOUR_MS, NOW);
    const b = mintClientCertificate(caOf(clusterCa), { commonName: CALLER, groups: [ADMIN_GROUP] }, HOUR_MS, NOW);
    expect(a.keyPem).not.toBe(b.keyPem);
    expect(new X509Certificate(a.certPem).serialNumber).not.toBe(new X509Certificate(b.certPem).serialNumber);
  });
});

describe('execCredential', () => {
  const minted = {
    certPem: 'CERT',
    keyPem: 'KEY',
    notBefore: new Date(NOW.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(NOW.getTime() + HOUR_MS),
  };

  test('GIVEN a minted certificate THEN the ExecCredential carries it and expires a margin before the certificate does', () => {
    expect(execCredential(minted)).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { expirationTimestamp: '2026-11-26T12:59:00Z', clientCertificateData: 'CERT', clientKeyData: 'KEY' },
    });
    expect(new Date('2026-11-26T12:59:00Z').getTime()).toBe(minted.notAfter.getTime() - REFRESH_MARGIN_MS);
  });

  test('GIVEN kubectl asks for v1beta1 in KUBERNETES_EXEC_INFO THEN the answer is v1beta1', () => {
    const version = requestedExecApiVersion(
      JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1beta1', spec: { interactive: false } }),
    );
    expect(execCredential(minted, version).apiVersion).toBe('client.authentication.k8s.io/v1beta1');
  });

  test('GIVEN no KUBERNETES_EXEC_INFO (run by hand) THEN the answer is v1', () => {
    expect(requestedExecApiVersion(undefined)).toBe('client.authentication.k8s.io/v1');
  });

  test('fails when kubectl asks for a version fabricctl does not speak', () => {
    expect(() => requestedExecApiVersion('{"apiVersion":"client.authentication.k8s.io/v1alpha1"}')).toThrow(
      expect.objectContaining({ name: 'ExecInfoInvalid' }),
    );
  });
});

describe('parseTtl', () => {
  test.each([
    [undefined, HOUR_MS],
    ['30m', 30 * 60_000],
    ['1h30m', 90 * 60_000],
    ['5m', 5 * 60_000],
    ['24h', 24 * HOUR_MS],
  ])('GIVEN --ttl %s THEN the lifetime is %d ms', (text, ms) => {
    expect(parseTtl(text)).toBe(ms);
  });

  test.each(['25h', '24h1s', '4m59s', '1d', 'soon', ''])('fails when --ttl is %j, saying the range', (text) => {
    expect(() => parseTtl(text)).toThrow(
      expect.objectContaining({ name: 'TtlInvalid', message: expect.stringContaining('from 5m to 24h') }),
    );
  });
});

describe('parseClusterCaKeyset', () => {
  const LOCATION = 's3://bucket/fabrics/demo/kops/demo.example.com/pki/private/kubernetes-ca/keyset.yaml';

  test("GIVEN kops's keyset THEN the primary key signs and every trusted certificate is in the bundle", () => {
    const yaml = kopsCaKeyset(
      [
        { id: '7000000000000000000000000002', ca: foreignCa },
        { id: '7000000000000000000000000001', ca: clusterCa },
      ],
      '7000000000000000000000000001',
    );
    const ca = parseClusterCaKeyset(yaml, LOCATION);
    expect(ca.certPem).toBe(clusterCa.certPem);
    expect(ca.keyPem).toContain('BEGIN RSA PRIVATE KEY');
    expect(ca.trustedPem).toBe(`${foreignCa.certPem}${clusterCa.certPem}`);
  });

  test('GIVEN a distrusted key THEN its certificate is left out of the bundle', () => {
    const yaml = kopsCaKeyset(
      [
        { id: '1', ca: foreignCa, distrusted: true },
        { id: '2', ca: clusterCa },
      ],
      '2',
    );
    expect(parseClusterCaKeyset(yaml, LOCATION).trustedPem).toBe(clusterCa.certPem);
  });

  test('fails when the primary key has no private key', () => {
    const yaml = kopsCaKeyset([{ id: '1', ca: clusterCa, withoutPrivate: true }], '1');
    expect(() => parseClusterCaKeyset(yaml, LOCATION)).toThrow(
      expect.objectContaining({ name: 'ClusterCaUnusable', message: expect.stringContaining(LOCATION) }),
    );
  });

  test("fails when the private key is not the certificate's", () => {
    const yaml = kopsCaKeyset([{ id: '1', ca: { certPem: clusterCa.certPem, keyPem: foreignCa.keyPem } }], '1');
    expect(() => parseClusterCaKeyset(yaml, LOCATION)).toThrow(
      expect.objectContaining({ name: 'ClusterCaUnusable', message: expect.stringContaining('does not belong') }),
    );
  });

  test('fails when primaryId names no key', () => {
    expect(() => parseClusterCaKeyset(kopsCaKeyset([{ id: '1', ca: clusterCa }], '9'), LOCATION)).toThrow(
      expect.objectContaining({ name: 'ClusterCaUnusable', message: expect.stringContaining('"9" names no key') }),
    );
  });

  test("GIVEN a fabric THEN the keyset is where kops keeps it in the fabric's state store", () => {
    expect(clusterCaKey('demo', 'demo.example.com')).toBe('fabrics/demo/kops/demo.example.com/pki/private/kubernetes-ca/keyset.yaml');
  });

  test('GIVEN an assumed role WHEN access is denied THEN the principal to add is the role, not the session', () => {
    expect(principalArnOf(CALLER)).toBe('arn:aws:iam::123456789012:role/Platform_Admins');
    expect(principalArnOf('arn:aws:iam::123456789012:user/alice')).toBe('arn:aws:iam::123456789012:user/alice');
  });

  test("GIVEN an assumed role WHEN access is denied THEN the hint says how to read the role's full ARN, path included", () => {
    expect(rolePathHint(CALLER)).toBe(
      " (with the role's path, if it has one: aws iam get-role --role-name Platform_Admins --query Role.Arn)",
    );
    expect(rolePathHint('arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice')).toContain(
      'an IAM Identity Center role under role/aws-reserved/sso.amazonaws.com/',
    );
    expect(rolePathHint('arn:aws:iam::123456789012:user/alice')).toBe('');
  });
});
