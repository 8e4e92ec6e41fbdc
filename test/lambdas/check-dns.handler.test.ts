import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import type { handler as Handler } from '../../lambdas/check-dns/handler';
import { describeWithMoto, resetMoto, useMoto } from '../support/moto';
import { DnsStub, startDnsStub } from './fixtures/dns-stub';
import { fabricOf } from './fixtures/prepare';

describeWithMoto('CheckDns handler against moto and a local DNS server', () => {
  const moto = useMoto();
  let handler: typeof Handler;
  let dns: DnsStub;
  const route53 = () => new Route53Client({ region: 'us-east-1' });

  beforeAll(async () => {
    dns = await startDnsStub();
    // The handler reads DNS_RESOLVERS and builds its clients at module load: import it afterwards.
    process.env.DNS_RESOLVERS = dns.address;
    ({ handler } = await import('../../lambdas/check-dns/handler'));
  });
  afterAll(async () => {
    delete process.env.DNS_RESOLVERS;
    await dns.close();
  });
  beforeEach(async () => {
    dns.answers.clear();
    await resetMoto(moto.current());
  });

  async function publicZone(name: string): Promise<{ id: string; nameServers: string[] }> {
    const created = await route53().send(new CreateHostedZoneCommand({ Name: name, CallerReference: `${name}-${Date.now()}` }));
    return { id: (created.HostedZone?.Id ?? '').replace('/hostedzone/', ''), nameServers: created.DelegationSet?.NameServers ?? [] };
  }

  test('GIVEN a public zone and a DNS that delegates to it WHEN checked THEN the zone id and name servers are returned', async () => {
    const zone = await publicZone('example.com');
    expect(zone.nameServers.length).toBeGreaterThan(0);
    dns.answers.set(
      'example.com',
      zone.nameServers.map((n) => `${n.toUpperCase()}.`),
    );
    await expect(handler({ fabric: fabricOf({ domain: 'example.com' }) })).resolves.toEqual({
      hostedZoneId: zone.id,
      nameServers: zone.nameServers,
    });
  });

  test("fails when the DNS returns other name servers, listing the zone's", async () => {
    const zone = await publicZone('example.com');
    dns.answers.set('example.com', ['ns1.parking.example', 'ns2.parking.example']);
    const error = await handler({ fabric: fabricOf({ domain: 'example.com' }) }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('DnsNotDelegated');
    expect((error as Error).message).toContain(zone.nameServers.join(', '));
  });

  test('fails when the domain does not exist in the public DNS (NXDOMAIN)', async () => {
    await publicZone('example.com');
    await expect(handler({ fabric: fabricOf({ domain: 'example.com' }) })).rejects.toMatchObject({
      name: 'DnsNotDelegated',
      message: expect.stringMatching(/no NS records/),
    });
  });

  test('fails when the domain has no NS records (NODATA)', async () => {
    await publicZone('example.com');
    dns.answers.set('example.com', []);
    await expect(handler({ fabric: fabricOf({ domain: 'example.com' }) })).rejects.toMatchObject({ name: 'DnsNotDelegated' });
  });

  test('fails with the retryable DnsLookupFailed when the DNS answers SERVFAIL', async () => {
    await publicZone('example.com');
    dns.answers.set('example.com', 'SERVFAIL');
    await expect(handler({ fabric: fabricOf({ domain: 'example.com' }) })).rejects.toMatchObject({ name: 'DnsLookupFailed' });
  });

  test('fails when the account has no hosted zone for the domain', async () => {
    await publicZone('example.org');
    await expect(handler({ fabric: fabricOf({ domain: 'example.com' }) })).rejects.toMatchObject({
      name: 'DnsNotDelegated',
      message: expect.stringMatching(/no hosted zone named example\.com/),
    });
  });

  test('fails when the only zone for the domain is private', async () => {
    await route53().send(
      new CreateHostedZoneCommand({
        Name: 'example.com',
        CallerReference: 'private',
        HostedZoneConfig: { PrivateZone: true },
        VPC: { VPCId: 'vpc-12345678', VPCRegion: 'us-east-2' },
      }),
    );
    await expect(handler({ fabric: fabricOf({ domain: 'example.com' }) })).rejects.toMatchObject({
      name: 'DnsNotDelegated',
      message: expect.stringMatching(/private/),
    });
  });

  test("GIVEN kops records inside the zone WHEN checked THEN only the zone's delegation set matters", async () => {
    const zone = await publicZone('example.com');
    await route53().send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zone.id,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: { Name: 'api.demo.example.com', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '203.0.113.123' }] },
            },
          ],
        },
      }),
    );
    dns.answers.set('example.com', zone.nameServers);
    await expect(handler({ fabric: fabricOf({ domain: 'example.com' }) })).resolves.toMatchObject({ hostedZoneId: zone.id });
  });
});
