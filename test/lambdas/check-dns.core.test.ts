import { GetHostedZoneCommand, HostedZone, ListHostedZonesByNameCommand } from '@aws-sdk/client-route-53';
import { checkDns, CheckDnsDeps, ResolveNs } from '../../lambdas/check-dns/core';
import { DnsLookupFailed, DnsNotDelegated } from '../../lib/domain/errors';
import { asClient, fabricOf } from './fixtures/prepare';

const AWS_NS = ['ns-1.awsdns-01.com', 'ns-2.awsdns-02.net', 'ns-3.awsdns-03.org', 'ns-4.awsdns-04.co.uk'];

interface FakeZone {
  readonly id: string;
  readonly name: string;
  readonly private?: boolean;
  readonly nameServers?: string[];
}

/** Route 53 with ListHostedZonesByName's ordering and paging (`pageSize` zones a page). */
function route53(zones: FakeZone[], pageSize = 100): CheckDnsDeps['route53'] {
  const sorted = [...zones].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return asClient({
    send: async (command) => {
      if (command instanceof ListHostedZonesByNameCommand) {
        const name = command.input.DNSName ?? '';
        const after = command.input.HostedZoneId;
        let start = sorted.findIndex(
          (z) => z.name.replace(/\.$/, '') >= name.replace(/\.$/, '') && (after === undefined || z.name !== name || z.id >= after),
        );
        if (start < 0) start = sorted.length;
        const page = sorted.slice(start, start + pageSize);
        const next = sorted[start + pageSize];
        const HostedZones: HostedZone[] = page.map((z) => ({
          Id: `/hostedzone/${z.id}`,
          Name: z.name,
          CallerReference: z.id,
          Config: { PrivateZone: z.private === true },
        }));
        return { HostedZones, IsTruncated: next !== undefined, NextDNSName: next?.name, NextHostedZoneId: next?.id };
      }
      if (command instanceof GetHostedZoneCommand) {
        const zone = sorted.find((z) => `/hostedzone/${z.id}` === command.input.Id);
        return { HostedZone: { Id: command.input.Id }, DelegationSet: { NameServers: zone?.nameServers ?? AWS_NS } };
      }
      throw new Error('unexpected call');
    },
  });
}

function answering(names: string[]): ResolveNs {
  return async () => names;
}

function failing(code: string): ResolveNs {
  return async () => {
    throw Object.assign(new Error(`queryNs ${code} example.com`), { code });
  };
}

const fabric = fabricOf({ domain: 'example.com' });

describe('checkDns: delegated', () => {
  test("GIVEN the public DNS returns the zone's name servers WHEN checked THEN the zone id and its name servers are returned", async () => {
    const result = await checkDns(fabric, { route53: route53([{ id: 'Z1', name: 'example.com.' }]), resolveNs: answering(AWS_NS) });
    expect(result).toEqual({ hostedZoneId: 'Z1', nameServers: AWS_NS });
  });

  test('GIVEN the same name servers in upper case, with trailing dots, in another order WHEN checked THEN they match', async () => {
    const published = [...AWS_NS].reverse().map((n) => `${n.toUpperCase()}.`);
    await expect(
      checkDns(fabric, { route53: route53([{ id: 'Z1', name: 'example.com.' }]), resolveNs: answering(published) }),
    ).resolves.toMatchObject({ hostedZoneId: 'Z1' });
  });

  test('GIVEN a private and a public zone of the same name WHEN checked THEN the public one is used', async () => {
    const zones = [
      { id: 'ZPRIV', name: 'example.com.', private: true, nameServers: ['ns-9.awsdns-09.com'] },
      { id: 'ZPUB', name: 'example.com.' },
    ];
    expect((await checkDns(fabric, { route53: route53(zones), resolveNs: answering(AWS_NS) })).hostedZoneId).toBe('ZPUB');
  });

  test('GIVEN two public zones of the same name WHEN one is delegated THEN that one is returned', async () => {
    const zones = [
      { id: 'ZA', name: 'example.com.', nameServers: ['ns-7.awsdns-07.com', 'ns-8.awsdns-08.net'] },
      { id: 'ZB', name: 'example.com.' },
    ];
    expect((await checkDns(fabric, { route53: route53(zones), resolveNs: answering(AWS_NS) })).hostedZoneId).toBe('ZB');
  });

  test('GIVEN the zone on a later page of ListHostedZonesByName WHEN checked THEN it is found', async () => {
    const zones = [
      { id: 'ZA', name: 'example.com.', private: true },
      { id: 'ZB', name: 'example.com.', private: true },
      { id: 'ZC', name: 'example.com.' },
    ];
    expect((await checkDns(fabric, { route53: route53(zones, 1), resolveNs: answering(AWS_NS) })).hostedZoneId).toBe('ZC');
  });
});

describe('checkDns: not delegated', () => {
  test('fails when there is no hosted zone of that exact name (a sub-domain zone does not count)', async () => {
    const error = await checkDns(fabric, {
      route53: route53([
        { id: 'Z1', name: 'sub.example.com.' },
        { id: 'Z2', name: 'example.org.' },
      ]),
      resolveNs: answering(AWS_NS),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DnsNotDelegated);
    expect((error as Error).message).toMatch(/no hosted zone named example\.com in this account; create a public one/);
  });

  test('fails when the only zone of that name is private, saying so', async () => {
    const error = await checkDns(fabric, {
      route53: route53([{ id: 'Z1', name: 'example.com.', private: true }]),
      resolveNs: answering(AWS_NS),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DnsNotDelegated);
    expect((error as Error).message).toMatch(/is private/);
  });

  test('fails when the public DNS returns other name servers, listing the NS records to set at the registrar', async () => {
    const error = await checkDns(fabric, {
      route53: route53([{ id: 'Z1', name: 'example.com.' }]),
      resolveNs: answering(['ns1.registrar-parking.example']),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DnsNotDelegated);
    expect((error as Error).name).toBe('DnsNotDelegated');
    expect((error as Error).message).toMatch(/the public DNS returns NS ns1\.registrar-parking\.example/);
    expect((error as Error).message).toContain(`set the NS records of example.com to: ${AWS_NS.join(', ')}`);
    expect((error as DnsNotDelegated).expected).toEqual(AWS_NS);
  });

  test("fails when the public DNS returns only some of the zone's name servers", async () => {
    await expect(
      checkDns(fabric, { route53: route53([{ id: 'Z1', name: 'example.com.' }]), resolveNs: answering(AWS_NS.slice(0, 3)) }),
    ).rejects.toThrow(DnsNotDelegated);
  });

  test('fails when the public DNS returns more name servers than the zone has', async () => {
    await expect(
      checkDns(fabric, { route53: route53([{ id: 'Z1', name: 'example.com.' }]), resolveNs: answering([...AWS_NS, 'ns.other.example']) }),
    ).rejects.toThrow(DnsNotDelegated);
  });

  test.each(['ENOTFOUND', 'ENODATA'])('fails with DnsNotDelegated when the lookup answers %s (NXDOMAIN / NODATA)', async (code) => {
    const error = await checkDns(fabric, { route53: route53([{ id: 'Z1', name: 'example.com.' }]), resolveNs: failing(code) }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DnsNotDelegated);
    expect((error as Error).message).toMatch(/no NS records .*set the NS records of example\.com to: ns-1\.awsdns-01\.com/);
  });

  test(
    "GIVEN the stack's hostedZoneIds WHEN a second public zone of the name is outside them " +
      'THEN only the allowed zone is read (the function may not read the other) and it is the one delegated',
    async () => {
      const zones = [
        { id: 'ZOTHER', name: 'example.com.', nameServers: ['ns-7.awsdns-07.com'] },
        { id: 'Z1', name: 'example.com.' },
      ];
      const read: string[] = [];
      const client = route53(zones);
      const recording: CheckDnsDeps['route53'] = asClient({
        send: async (command) => {
          if (command instanceof GetHostedZoneCommand) read.push(command.input.Id ?? '');
          return client.send(command as never) as Promise<unknown>;
        },
      });
      const result = await checkDns(fabric, { route53: recording, resolveNs: answering(AWS_NS), allowedZoneIds: ['Z1'] });
      expect({ read, zone: result.hostedZoneId }).toEqual({ read: ['/hostedzone/Z1'], zone: 'Z1' });
    },
  );

  test("fails when no public zone of the name is among the stack's hostedZoneIds, naming the zone to add", async () => {
    await expect(
      checkDns(fabric, { route53: route53([{ id: 'Z1', name: 'example.com.' }]), resolveNs: answering(AWS_NS), allowedZoneIds: ['Z9'] }),
    ).rejects.toThrow(/public hosted zone example\.com in this account \(Z1\) is not among the stack's hostedZoneIds \(Z9\)/);
  });

  test('fails when two public zones share the name and neither is delegated, saying to keep one', async () => {
    const zones = [
      { id: 'ZA', name: 'example.com.', nameServers: ['ns-7.awsdns-07.com'] },
      { id: 'ZB', name: 'example.com.' },
    ];
    await expect(checkDns(fabric, { route53: route53(zones), resolveNs: answering([]) })).rejects.toThrow(
      /2 public hosted zones named example\.com .*keep one/,
    );
  });
});

describe('checkDns: lookup failures', () => {
  test.each(['ETIMEOUT', 'ESERVFAIL', 'ECONNREFUSED'])(
    'fails with the retryable DnsLookupFailed, not DnsNotDelegated, when the lookup answers %s',
    async (code) => {
      const error = await checkDns(fabric, { route53: route53([{ id: 'Z1', name: 'example.com.' }]), resolveNs: failing(code) }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DnsLookupFailed);
      expect((error as Error).name).toBe('DnsLookupFailed');
      expect((error as Error).message).toContain(code);
    },
  );

  test("GIVEN SERVFAIL WHEN it fails THEN the message also names the zone's name servers, for a delegation gone stale", async () => {
    const error = await checkDns(fabric, { route53: route53([{ id: 'Z1', name: 'example.com.' }]), resolveNs: failing('ESERVFAIL') }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(/If it lasts, the delegation may point at name servers that do not serve example\.com/);
    expect((error as Error).message).toMatch(/set its NS records at your registrar to ns-1\.awsdns-01\.com, ns-2\.awsdns-02\.net/);
    const timeout = await checkDns(fabric, {
      route53: route53([{ id: 'Z1', name: 'example.com.' }]),
      resolveNs: failing('ETIMEOUT'),
    }).catch((e: unknown) => e);
    expect((timeout as Error).message).not.toContain('If it lasts');
  });
});
