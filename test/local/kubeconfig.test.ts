import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parse as parseYaml } from 'yaml';
import type { FabricRecord, FabricStatus } from '../../lib/domain/contract';
import { stateBucketName } from '../../lib/domain/naming';
import { parseFabricSpec } from '../../lib/domain/spec';
import { ADMIN_GROUP, ExecCredential, mintClientCertificate, MIN_TTL_MS } from '../../lib/cli/client-credential';
import { clusterCaKey } from '../../lib/cli/cluster-ca';
import { startTestApiServer, TestApiServer } from '../../lib/local/standins/api-server';
import { createTestCa } from '../../lib/local/standins/test-pki';
import { kopsCaKeyset } from '../cli/kops-keyset';
import { runCli, tempDir } from '../cli/support';
import { KubeconfigDoc, kubeGet, runExecPlugin } from '../support/kubectl';
import { describeWithMoto, useMoto } from '../support/moto';

/**
 * `fabricctl kubeconfig` end to end on this machine: the fabric's record and kops's CA keyset in
 * the emulator's state bucket (moto), the kubeconfig written, its exec plugin run as kubectl runs
 * it (the command and arguments from the file, KUBERNETES_EXEC_INFO set), and requests to the
 * Kubernetes API stand-in, which authenticates client certificates as kube-apiserver does.
 *
 * The keyset is written here as kops writes it (kops-keyset.ts), for fabrics in every state without
 * provisioning any; the workflow scenarios read the one the kops stand-in stores for a provisioned
 * fabric (test/workflow/scenarios.test.ts).
 */
const REGION = 'us-east-2';
const ACCOUNT = '123456789012';
const BUCKET = stateBucketName(ACCOUNT, REGION);
const CLUSTER = 'demo.example.com';
/** Who moto's GetCallerIdentity says the caller is (moto writes it under sts): the CN of what is minted here. */
const MOTO_CALLER = `arn:aws:sts::${ACCOUNT}:user/moto`;

describeWithMoto('fabricctl kubeconfig against moto and the Kubernetes API stand-in', () => {
  const moto = useMoto();
  let api: TestApiServer;
  const s3 = () => new S3Client({ region: REGION, forcePathStyle: true });

  async function putFabric(name: string, status: FabricStatus, withCa: boolean): Promise<void> {
    const clusterName = `${name}.example.com`;
    const spec = parseFabricSpec({ name, domain: 'example.com', zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'] });
    const record: FabricRecord = {
      name,
      clusterName,
      status,
      spec,
      zones: spec.zones ?? [],
      outputs: { apiName: `api.${clusterName}`, stateBucket: BUCKET },
      lastExecution: `arn:aws:states:${REGION}:${ACCOUNT}:execution:FabricOrchestrator:${name}-1`,
      ...(status === 'FAILED' ? { lastError: { error: 'ClusterNotReady', cause: 'the API did not answer' } } : {}),
      createdAt: '2026-11-25T12:00:00Z',
      updatedAt: '2026-11-26T11:00:00Z',
    };
    await s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: `fabrics/${name}/fabric.json`, Body: JSON.stringify(record) }));
    if (withCa) {
      await s3().send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: clusterCaKey(name, clusterName),
          Body: kopsCaKeyset([{ id: '6982820025135291416230495506', ca: api.ca }], '6982820025135291416230495506'),
        }),
      );
    }
  }

  beforeAll(async () => {
    api = await startTestApiServer({ clusterName: CLUSTER });
    await s3().send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }));
    await putFabric('demo', 'READY', true);
    await putFabric('broken', 'FAILED', true);
    await putFabric('nopki', 'READY', false);
    await putFabric('locked', 'READY', true);
    // As the state bucket's policy denies the CA key to whoever is not a build, a control plane or a state admin
    // (moto applies a Deny without its conditions, so here it denies everyone, on this fabric only).
    await s3().send(
      new PutBucketPolicyCommand({
        Bucket: BUCKET,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DenyKopsSecretReadsToOthers',
              Effect: 'Deny',
              Principal: '*',
              Action: ['s3:GetObject'],
              Resource: `arn:aws:s3:::${BUCKET}/fabrics/locked/kops/*/pki/private/*`,
            },
          ],
        }),
      }),
    );
  });
  afterAll(async () => api.stop());

  const local = () => ['--local', '--endpoint', moto.current().endpoint];
  const serverFlag = () => ['--server', `https://127.0.0.1:${api.port}`];
  /** The real clock: the API stand-in checks validity against it. */
  const realClock = { now: () => new Date() };

  /** A kubeconfig file that already holds another cluster, through $KUBECONFIG (its first path). */
  function existingKubeconfig(): { env: NodeJS.ProcessEnv; path: string } {
    const dir = tempDir();
    const path = join(dir, 'config');
    writeFileSync(
      path,
      'apiVersion: v1\nkind: Config\nclusters:\n- name: staging\n  cluster: {server: "https://staging.example.org"}\n' +
        'users:\n- name: staging\n  user: {token: t}\n' +
        'contexts:\n- name: staging\n  context: {cluster: staging, user: staging}\ncurrent-context: staging\n',
      { mode: 0o644 },
    );
    return { path, env: { AWS_REGION: REGION, HOME: dir, KUBECONFIG: `${path}:${join(dir, 'second')}`, PATH: '' } };
  }

  const readyz = (doc: KubeconfigDoc, credential?: { certPem: string; keyPem: string }) => kubeGet(doc, CLUSTER, credential);
  const runPlugin = (doc: KubeconfigDoc) => runExecPlugin(doc, CLUSTER);

  async function writeKubeconfig(): Promise<{ doc: KubeconfigDoc; path: string; out: string }> {
    const { env, path } = existingKubeconfig();
    const run = await runCli(['kubeconfig', 'demo', ...local(), ...serverFlag()], { env, ...realClock });
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    return { doc: parseYaml(readFileSync(path, 'utf8')) as KubeconfigDoc, path, out: run.out };
  }

  test(
    'GIVEN $KUBECONFIG with another cluster WHEN kubeconfig demo runs ' +
      "THEN its first file holds both, mode 0600, with the fabric's context current",
    async () => {
      const { doc, path, out } = await writeKubeconfig();
      expect(doc.contexts.map((c) => c.name)).toEqual(['staging', CLUSTER]);
      expect(doc['current-context']).toBe(CLUSTER);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(out).toContain(`wrote context ${CLUSTER} to ${path} (now the current context)`);
      expect(out).toContain('next: kubectl get nodes');
    },
  );

  test("GIVEN the written kubeconfig THEN it trusts the cluster CA of kops's keyset, checks api.<cluster>, and holds no key", async () => {
    const { doc, path } = await writeKubeconfig();
    const cluster = doc.clusters.find((c) => c.name === CLUSTER)?.cluster;
    expect(cluster).toEqual({
      server: `https://127.0.0.1:${api.port}`,
      'certificate-authority-data': Buffer.from(api.ca.certPem).toString('base64'),
      'tls-server-name': `api.${CLUSTER}`,
    });
    expect(Object.keys(doc.users.find((u) => u.name === CLUSTER)?.user ?? {})).toEqual(['exec']);
    expect(readFileSync(path, 'utf8')).not.toMatch(/client-key-data|client-certificate-data|PRIVATE KEY/);
    expect(doc.users.find((u) => u.name === CLUSTER)?.user.exec?.args).toEqual([
      'kubeconfig',
      'demo',
      '--credential',
      '--region',
      REGION,
      '--bucket-prefix',
      'fabricctl-state',
      '--ttl',
      '1h',
      '--local',
      '--endpoint',
      moto.current().endpoint,
    ]);
  });

  test('GIVEN the written kubeconfig WHEN kubectl runs its exec plugin THEN it prints an ExecCredential the API accepts', async () => {
    const { doc } = await writeKubeconfig();
    const before = Date.now();
    const { stdout } = await runPlugin(doc);
    const credential = JSON.parse(stdout) as ExecCredential;
    expect(credential.apiVersion).toBe('client.authentication.k8s.io/v1');
    expect(credential.kind).toBe('ExecCredential');
    const expiresIn = new Date(credential.status.expirationTimestamp).getTime() - before;
    expect(expiresIn).toBeGreaterThan(55 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(60 * 60_000);
    const result = await readyz(doc, { certPem: credential.status.clientCertificateData, keyPem: credential.status.clientKeyData });
    expect(result).toEqual({ status: 200, body: 'ok' });
  });

  test('GIVEN the written kubeconfig WHEN a request has no certificate THEN 401: the kubeconfig alone grants nothing', async () => {
    const { doc } = await writeKubeconfig();
    expect((await readyz(doc)).status).toBe(401);
  });

  test('fails when the client certificate was signed by another CA: HTTP 401', async () => {
    const { doc } = await writeKubeconfig();
    const foreign = createTestCa('kubernetes-ca');
    const minted = mintClientCertificate(
      { ...foreign, trustedPem: foreign.certPem },
      { commonName: MOTO_CALLER, groups: [ADMIN_GROUP] },
      MIN_TTL_MS,
      new Date(),
    );
    expect((await readyz(doc, minted)).status).toBe(401);
  });

  test("fails when the cluster CA's certificate has expired: HTTP 401", async () => {
    const { doc } = await writeKubeconfig();
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    const minted = mintClientCertificate(
      { ...api.ca, trustedPem: api.ca.certPem },
      { commonName: MOTO_CALLER, groups: [ADMIN_GROUP] },
      MIN_TTL_MS,
      twoHoursAgo,
    );
    expect(minted.notAfter.getTime()).toBeLessThan(Date.now());
    expect((await readyz(doc, minted)).status).toBe(401);
  });

  test('GIVEN credential mode WHEN run in process THEN the certificate names the STS caller, in system:masters, for --ttl', async () => {
    const run = await runCli(['kubeconfig', 'demo', '--credential', '--ttl', '30m', ...local()], { ...realClock });
    expect(run.err).toBe('');
    const credential = JSON.parse(run.out) as ExecCredential;
    const { X509Certificate } = await import('node:crypto');
    const cert = new X509Certificate(credential.status.clientCertificateData);
    expect(cert.subject).toBe(`O=${ADMIN_GROUP}\nCN=${MOTO_CALLER}`);
    expect(new Date(cert.validTo).getTime() - Date.now()).toBeLessThanOrEqual(30 * 60_000);
    expect(new Date(cert.validTo).getTime() - Date.now()).toBeGreaterThan(29 * 60_000);
  });

  test(
    "GIVEN no --local WHEN the SDK's endpoint is the emulator " +
      'THEN the record is found under the default prefix and the plugin is not sent to an emulator',
    async () => {
      const out = join(tempDir(), 'demo.kubeconfig');
      const run = await runCli(['kubeconfig', 'demo', '--out', out], { env: { AWS_REGION: REGION, PATH: '' } });
      expect(run.code).toBe(0);
      const doc = parseYaml(readFileSync(out, 'utf8')) as KubeconfigDoc;
      expect(doc.clusters[0]?.cluster).toMatchObject({ server: `https://api.${CLUSTER}` });
      expect(doc.users[0]?.user.exec?.args).toEqual([
        'kubeconfig',
        'demo',
        '--credential',
        '--region',
        REGION,
        '--bucket-prefix',
        'fabricctl-state',
        '--ttl',
        '1h',
      ]);
      expect(statSync(out).mode & 0o777).toBe(0o600);
    },
  );

  test('fails when the fabric does not exist: FabricNotFound, exit 3', async () => {
    const run = await runCli(['kubeconfig', 'nosuch', ...local()]);
    expect(run.code).toBe(3);
    expect(run.err).toContain('error: FabricNotFound: no fabric named nosuch');
  });

  test('fails when the fabric is not READY: FabricNotReady names its last error and what to run', async () => {
    const run = await runCli(['kubeconfig', 'broken', ...local()]);
    expect(run.code).toBe(1);
    expect(run.err).toContain(
      'error: FabricNotReady: fabric broken is FAILED, not READY: ' +
        'its last run failed (ClusterNotReady: the API did not answer): fabricctl logs broken shows that run',
    );
  });

  test("fails when kops's state store has no cluster CA: ClusterCaNotFound names where it looked", async () => {
    const run = await runCli(['kubeconfig', 'nopki', ...local()]);
    expect(run.code).toBe(3);
    expect(run.err).toContain(
      `error: ClusterCaNotFound: no cluster CA at ` +
        `s3://${BUCKET}/fabrics/nopki/kops/nopki.example.com/pki/private/kubernetes-ca/keyset.yaml`,
    );
  });

  test('fails when the bucket policy denies the CA: ClusterCaAccessDenied names caller, stateAdminPrincipalArns, IAM grant', async () => {
    const run = await runCli(['kubeconfig', 'locked', ...local()]);
    expect(run.code).toBe(1);
    expect(run.err).toContain(
      `error: ClusterCaAccessDenied: ${MOTO_CALLER} may not read ` +
        `s3://${BUCKET}/fabrics/locked/kops/locked.example.com/pki/private/kubernetes-ca/keyset.yaml`,
    );
    expect(run.err).toContain(`add ${MOTO_CALLER} to fabricctl:stateAdminPrincipalArns`);
    expect(run.err).toContain(`allow s3:GetObject on arn:aws:s3:::${BUCKET}/fabrics/locked/kops/*`);
  });

  test('fails when --local has no --endpoint: a local run stops its emulator, so say how to keep one', async () => {
    const run = await runCli(['kubeconfig', 'demo', '--local']);
    expect(run.code).toBe(2);
    expect(run.err).toContain('error: EmulatorEndpointRequired');
    expect(run.err).toContain('--keep-emulator');
  });

  test('fails when --ttl is over a day, before any AWS call', async () => {
    const run = await runCli(['kubeconfig', 'demo', '--ttl', '48h', '--local', '--endpoint', 'http://127.0.0.1:9']);
    expect(run.code).toBe(2);
    expect(run.err).toContain('error: TtlInvalid: --ttl "48h": give a duration from 5m to 24h');
  });
});
