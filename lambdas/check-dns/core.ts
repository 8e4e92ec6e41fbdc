import { GetHostedZoneCommand, HostedZone, ListHostedZonesByNameCommand, Route53Client } from '@aws-sdk/client-route-53';
import type { DnsResult, ValidatedFabric } from '../../lib/domain/contract';
import { DnsLookupFailed, DnsNotDelegated } from '../../lib/domain/errors';

/** NS records of a name in the public DNS. Rejects with Node's dns error codes (`ENOTFOUND`, `ETIMEOUT`...). */
export type ResolveNs = (domain: string) => Promise<string[]>;

export interface CheckDnsDeps {
  readonly route53: Pick<Route53Client, 'send'>;
  readonly resolveNs: ResolveNs;
  /** The stack's `hostedZoneIds`, the only zones this function may read; empty: any zone. */
  readonly allowedZoneIds?: readonly string[];
}

/** Answers meaning "the public DNS has no NS records for this name": not delegated, not transient. */
const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA']);

export function normaliseHost(name: string): string {
  return name.trim().toLowerCase().replace(/\.+$/, '');
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a.map(normaliseHost));
  const right = new Set(b.map(normaliseHost));
  return left.size === right.size && [...left].every((n) => right.has(n));
}

async function zonesNamed(route53: Pick<Route53Client, 'send'>, domain: string): Promise<HostedZone[]> {
  const found: HostedZone[] = [];
  let marker: { DNSName?: string; HostedZoneId?: string } = { DNSName: domain };
  // Zones come sorted by name: stop as soon as a page moves past the domain.
  for (;;) {
    const page = await route53.send(new ListHostedZonesByNameCommand(marker));
    const zones = page.HostedZones ?? [];
    found.push(...zones.filter((z) => normaliseHost(z.Name ?? '') === domain));
    const next = page.NextDNSName === undefined ? undefined : normaliseHost(page.NextDNSName);
    if (!page.IsTruncated || next !== domain) return found;
    marker = { DNSName: page.NextDNSName, HostedZoneId: page.NextHostedZoneId };
  }
}

/** `Z123` of `/hostedzone/Z123`, as Route 53 lists a zone's Id. */
function zoneIdOf(id: string | undefined): string {
  return (id ?? '').replace(/^\/hostedzone\//, '');
}

/** A stale delegation (servers that do not host the zone) is answered so, not with NXDOMAIN. */
const SERVER_REFUSALS = new Set(['ESERVFAIL', 'EREFUSED']);

/**
 * The public DNS's NS records for the domain; `[]` for NXDOMAIN/NODATA; `DnsLookupFailed` when it
 * could not answer, naming `zoneNameServers` when the answer may come from a stale delegation.
 */
async function publicNameServers(resolveNs: ResolveNs, domain: string, zoneNameServers: readonly string[]): Promise<string[]> {
  try {
    return (await resolveNs(domain)).map(normaliseHost);
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).name;
    if (NO_RECORDS.has(code)) return [];
    throw new DnsLookupFailed(domain, code, SERVER_REFUSALS.has(code) ? zoneNameServers : []);
  }
}

/**
 * `CheckDns`: the domain's public hosted zone exists in this account and the public DNS delegates
 * to it (same NS set, compared without case or trailing dots). Otherwise `DnsNotDelegated` says
 * which NS records to set at the registrar.
 */
export async function checkDns(fabric: ValidatedFabric, deps: CheckDnsDeps): Promise<DnsResult> {
  const domain = normaliseHost(fabric.spec.domain);
  const zones = await zonesNamed(deps.route53, domain);
  const publicZones = zones.filter((z) => z.Config?.PrivateZone !== true);
  if (publicZones.length === 0) {
    throw new DnsNotDelegated(
      zones.length > 0
        ? `the hosted zone ${domain} in this account is private; kops publishes api.${fabric.clusterName} for clients outside the VPC, ` +
            `so create a public hosted zone ${domain} and delegate to it`
        : `no hosted zone named ${domain} in this account; ` +
            `create a public one (aws route53 create-hosted-zone --name ${domain} --caller-reference <unique>) ` +
            `and set its NS records at your registrar`,
    );
  }

  const allowed = deps.allowedZoneIds ?? [];
  const usable = allowed.length === 0 ? publicZones : publicZones.filter((z) => allowed.includes(zoneIdOf(z.Id)));
  if (usable.length === 0) {
    throw new DnsNotDelegated(
      `the public hosted zone ${domain} in this account (${publicZones.map((z) => zoneIdOf(z.Id)).join(', ')}) ` +
        `is not among the stack's hostedZoneIds (${allowed.join(', ')}): add it to fabricctl:hostedZoneIds and deploy the stack again`,
    );
  }

  const candidates: { id: string; nameServers: string[] }[] = [];
  for (const zone of usable) {
    const { DelegationSet } = await deps.route53.send(new GetHostedZoneCommand({ Id: zone.Id }));
    candidates.push({
      id: zoneIdOf(zone.Id),
      nameServers: (DelegationSet?.NameServers ?? []).map(normaliseHost),
    });
  }

  const published = await publicNameServers(deps.resolveNs, domain, candidates.length === 1 ? (candidates[0]?.nameServers ?? []) : []);
  const match = candidates.find((c) => c.nameServers.length > 0 && sameSet(c.nameServers, published));
  if (match) return { hostedZoneId: match.id, nameServers: match.nameServers };

  const seen =
    published.length > 0
      ? `the public DNS returns NS ${[...published].sort().join(', ')}`
      : 'the public DNS has no NS records for it (NXDOMAIN or no data)';
  // Several public zones of one name: say which to keep, since only one can be delegated to.
  const expected = candidates[0]?.nameServers ?? [];
  const fix =
    candidates.length === 1
      ? `at your registrar (or in the parent zone), set the NS records of ${domain} to: ${expected.join(', ')}`
      : `there are ${candidates.length} public hosted zones named ${domain} ` +
        `(${candidates.map((c) => `${c.id}: ${c.nameServers.join(', ')}`).join('; ')}); keep one, delete the others, ` +
        `and set the NS records of ${domain} at your registrar to the kept zone's name servers, e.g. ${expected.join(', ')}`;
  throw new DnsNotDelegated(`domain ${domain} is not delegated to its Route 53 hosted zone: ${seen}; ${fix}`, expected);
}
