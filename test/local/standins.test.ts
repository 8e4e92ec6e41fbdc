import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { createServer } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, GetHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as dnsPacket from 'dns-packet';
import { checkReadiness } from '../../lambdas/check-readiness/core';
import type { Logger } from '../../lambdas/shared/logger';
import type { ReadinessEvent } from '../../lib/domain/contract';
import { startTestApiServer, TestApiServer } from '../../lib/local/standins/api-server';
import { API_SERVER_AUTH } from '../../lib/local/standins/contracts';
import { createTestCa, Issued, issueClientCertificate } from '../../lib/local/standins/test-pki';
import { probeReadyz } from '../../lambdas/shared/kube-api';
import { promoteApiRecord } from '../../lib/local/standins/dns-controller';
import { startPublicDnsStandIn } from '../../lib/local/standins/public-dns';
import { describeWithMoto, resetMoto, useMoto } from '../support/moto';
import { createKopsGroups } from '../lambdas/fixtures/kops-groups';
import { testCluster, testFabric, testPrepared } from '../lambdas/fixtures/late-stages';

const ZONES = ['us-east-2a', 'us-east-2b', 'us-east-2c'];

/** The kubeconfig `kops export kubeconfig --admin` writes: the cluster CA and an admin client certificate. */
function kubeconfigFor(clusterName: string, serverUrl: string, caPem: string, admin: Issued): string {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${clusterName}`,
    'clusters:',
    `- name: ${clusterName}`,
    '  cluster:',
    `    server: ${serverUrl}`,
    `    certificate-authority-data: ${b64(caPem)}`,
    'contexts:',
    `- name: ${clusterName}`,
    `  context: {cluster: ${clusterName}, user: ${clusterName}}`,
    'users:',
    `- name: ${clusterName}`,
    '  user:',
    `    client-certificate-data: ${b64(admin.certPem)}`,
    `    client-key-data: ${b64(admin.keyPem)}`,
    '',
  ].join('\n');
}

const HOUR_MS = 3600_000;
const adminOf = (ca: Issued): Issued => issueClientCertificate(ca, { commonName: 'kubecfg-test', groups: ['system:masters'] }, HOUR_MS);

function get(server: TestApiServer, clusterName: string, path: string): Promise<{ status: number; body: string }> {
  const admin = adminOf(server.ca);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        ca: server.caPem,
        servername: `api.${clusterName}`,
        cert: admin.certPem,
        key: admin.keyPem,
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describeWithMoto('local stand-ins', () => {
  const moto = useMoto();
  const fabric = testFabric();
  const route53 = () => new Route53Client({ region: 'us-east-1' });
  const clients = () => ({
    autoScaling: new AutoScalingClient({ region: 'us-east-2' }),
    route53: route53(),
    secrets: new SecretsManagerClient({ region: 'us-east-2' }),
  });
  let api: TestApiServer;
  beforeAll(async () => {
    api = await startTestApiServer({ clusterName: fabric.clusterName });
  });
  afterAll(async () => api.stop());
  beforeEach(async () => resetMoto(moto.current()));

  /** A cluster as kops leaves it: groups InService, the placeholder record, the kubeconfig secret. */
  async function kopsCluster(caPem: string, serverUrl: string = api.serverUrl, admin: Issued = adminOf(api.ca)): Promise<ReadinessEvent> {
    await createKopsGroups(fabric.clusterName, ZONES);
    const zone = await route53().send(new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `ref-${Date.now()}` }));
    const hostedZoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
    await route53().send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: hostedZoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: { Name: `api.${fabric.clusterName}`, Type: 'A', TTL: 60, ResourceRecords: [{ Value: '203.0.113.123' }] },
            },
          ],
        },
      }),
    );
    const secret = await new SecretsManagerClient({ region: 'us-east-2' }).send(
      new CreateSecretCommand({
        Name: 'fabricctl/demo/kubeconfig',
        SecretString: kubeconfigFor(fabric.clusterName, serverUrl, caPem, admin),
      }),
    );
    return {
      fabric,
      prepared: testPrepared(hostedZoneId, ZONES),
      cluster: testCluster(fabric, secret.ARN ?? ''),
      readiness: { ready: false, startedAt: new Date().toISOString(), attempts: 0 },
    };
  }

  test('GIVEN the test API server WHEN /readyz and another path are requested as the admin THEN ok and 404', async () => {
    expect(await get(api, fabric.clusterName, '/readyz')).toEqual({ status: 200, body: 'ok' });
    expect((await get(api, fabric.clusterName, '/api')).status).toBe(404);
  });

  test("GIVEN kops's completed cluster spec WHEN its API server auth is read THEN anonymous auth is off", () => {
    expect(API_SERVER_AUTH).toMatchObject({ anonymousAuth: false, authorizationMode: 'Node,RBAC', adminLifetime: '18h0m0s' });
  });

  const probeAs = (credentials: Parameters<typeof probeReadyz>[0]['credentials']) =>
    probeReadyz({
      address: '127.0.0.1',
      port: api.port,
      hostname: `api.${fabric.clusterName}`,
      caPem: api.caPem,
      ...(credentials ? { credentials } : {}),
    });

  test("fails when the probe is anonymous (the old readiness probe): HTTP 401, as kops's API servers answer it", async () => {
    const result = await probeAs(undefined);
    expect(result.ready).toBe(false);
    expect(result.detail).toMatch(
      /^\/readyz answered HTTP 401 \(no credentials were presented, and kops clusters refuse anonymous requests\): \{"kind":"Status"/,
    );
  });

  test('fails when the client certificate was issued by another CA: HTTP 401', async () => {
    const foreign = adminOf(createTestCa('not the cluster CA'));
    const result = await probeAs({ kind: 'client-certificate', certPem: foreign.certPem, keyPem: foreign.keyPem });
    expect(result.ready).toBe(false);
    expect(result.detail).toContain("HTTP 401 (the API server refused the kubeconfig's client-certificate");
  });

  test('fails when the bearer token is not one the server issued: HTTP 401', async () => {
    const result = await probeAs({ kind: 'token', token: 'made-up' });
    expect(result.detail).toContain('HTTP 401');
  });

  test('GIVEN a token the server issued WHEN probed with it THEN ok', async () => {
    expect(await probeAs({ kind: 'token', token: api.issueToken() })).toEqual({
      ready: true,
      detail: `https://api.${fabric.clusterName}:${api.port}/readyz answered ok`,
    });
  });

  test('GIVEN kops placeholder address WHEN readiness is checked THEN not ready on dns and api', async () => {
    const event = await kopsCluster(api.caPem);
    const state = await checkReadiness(event, clients());
    expect(state.ready).toBe(false);
    expect(state.checks?.instances.ready).toBe(true);
    expect(state.checks?.dns.ready).toBe(false);
    expect(state.checks?.api.ready).toBe(false);
  });

  test('GIVEN the dns-controller stand-in promoted the record WHEN readiness is checked THEN ready over verified TLS', async () => {
    const event = await kopsCluster(api.caPem);
    await promoteApiRecord({
      hostedZoneId: event.prepared.dns.hostedZoneId,
      clusterName: fabric.clusterName,
      address: '127.0.0.1',
      route53: route53(),
    });
    const state = await checkReadiness(event, clients());
    expect(state.checks?.dns).toEqual({ ready: true, detail: `api.${fabric.clusterName} -> 127.0.0.1` });
    expect(state.checks?.api).toEqual({ ready: true, detail: `https://api.${fabric.clusterName}:${api.port}/readyz answered ok` });
    expect(state.ready).toBe(true);
  });

  test('GIVEN a kubeconfig with another CA WHEN readiness is checked THEN the api is not ready: TLS verification fails', async () => {
    const impostor = await startTestApiServer({ clusterName: fabric.clusterName });
    try {
      const event = await kopsCluster(impostor.caPem);
      await promoteApiRecord({
        hostedZoneId: event.prepared.dns.hostedZoneId,
        clusterName: fabric.clusterName,
        address: '127.0.0.1',
        route53: route53(),
      });
      const state = await checkReadiness(event, clients());
      expect(state.ready).toBe(false);
      expect(state.checks?.api.detail).toMatch(/certificate|self.signed|verify/i);
    } finally {
      await impostor.stop();
    }
  });

  test('GIVEN an API server that is still booting WHEN readiness is checked THEN the api is not ready with its answer', async () => {
    const booting = await startTestApiServer({ clusterName: fabric.clusterName, readyAfterMs: 60_000 });
    try {
      const event = await kopsCluster(booting.caPem, booting.serverUrl, adminOf(booting.ca));
      await promoteApiRecord({
        hostedZoneId: event.prepared.dns.hostedZoneId,
        clusterName: fabric.clusterName,
        address: '127.0.0.1',
        route53: route53(),
      });
      const state = await checkReadiness(event, clients());
      expect(state.checks?.api.ready).toBe(false);
      expect(state.checks?.api.detail).toContain('HTTP 503');
    } finally {
      await booting.stop();
    }
  });

  test('GIVEN a public hosted zone WHEN the public DNS stand-in is asked for NS THEN it answers the zone delegation set', async () => {
    const zone = await route53().send(new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `ref-${Date.now()}` }));
    const detail = await route53().send(new GetHostedZoneCommand({ Id: zone.HostedZone?.Id ?? '' }));
    const dns = await startPublicDnsStandIn({ route53Endpoint: moto.current().endpoint });
    try {
      const resolver = new Resolver({ timeout: 2000, tries: 1 });
      resolver.setServers([dns.address]);
      const answered = await resolver.resolveNs('example.com');
      const expected = (detail.DelegationSet?.NameServers ?? []).map((n) => n.replace(/\.$/, ''));
      expect(expected.length).toBeGreaterThan(0);
      expect([...answered].sort()).toEqual([...expected].sort());
    } finally {
      await dns.stop();
    }
  });

  test('GIVEN a query waiting for Route 53 WHEN the public DNS stand-in stops THEN its late answer is dropped, not sent', async () => {
    // A Route 53 endpoint that holds its answer until the stand-in has stopped, then refuses.
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let asked = (): void => undefined;
    const questionArrived = new Promise<void>((resolve) => (asked = resolve));
    const route53Endpoint = createServer((_request, response) => {
      asked();
      void held.then(() => {
        response.writeHead(400, { 'content-type': 'text/xml' });
        response.end('<ErrorResponse><Error><Type>Sender</Type><Code>InvalidInput</Code><Message>held</Message></Error></ErrorResponse>');
      });
    });
    await new Promise<void>((resolve) => route53Endpoint.listen(0, '127.0.0.1', resolve));
    let answered = (): void => undefined;
    const readFailed = new Promise<void>((resolve) => (answered = resolve));
    const logger: Logger = {
      log: () => undefined,
      info: () => undefined,
      error: () => undefined,
      warn: (message) => {
        if (message.includes('could not read Route 53')) answered();
      },
      with: () => logger,
    };
    const thrown: unknown[] = [];
    const onThrown = (error: unknown) => thrown.push(error);
    process.on('unhandledRejection', onThrown);
    process.on('uncaughtException', onThrown);
    const client = createSocket('udp4');
    try {
      const { port } = route53Endpoint.address() as AddressInfo;
      const dns = await startPublicDnsStandIn({ route53Endpoint: `http://127.0.0.1:${port}`, logger });
      const [host, dnsPort] = dns.address.split(':');
      client.send(dnsPacket.encode({ type: 'query', id: 7, questions: [{ type: 'NS', name: 'example.com' }] }), Number(dnsPort), host);
      await questionArrived;
      await dns.stop();
      release();
      await readFailed;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(thrown).toEqual([]);
    } finally {
      process.off('unhandledRejection', onThrown);
      process.off('uncaughtException', onThrown);
      client.close();
      route53Endpoint.closeAllConnections();
      await new Promise((resolve) => route53Endpoint.close(resolve));
    }
  });

  test('GIVEN no hosted zone for a name WHEN the public DNS stand-in is asked THEN it answers NXDOMAIN', async () => {
    const dns = await startPublicDnsStandIn({ route53Endpoint: moto.current().endpoint });
    try {
      const resolver = new Resolver({ timeout: 2000, tries: 1 });
      resolver.setServers([dns.address]);
      await expect(resolver.resolveNs('unknown-domain.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    } finally {
      await dns.stop();
    }
  });
});
