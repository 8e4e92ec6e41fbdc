import { Resolver } from 'node:dns/promises';
import { Route53Client } from '@aws-sdk/client-route-53';
import { clientOptions } from '../shared/clients';
import { optionalEnv } from '../shared/config';
import type { DnsResult, FabricEvent } from '../../lib/domain/contract';
import { ConfigurationInvalid } from '../../lib/domain/errors';
import { createLogger } from '../shared/logger';
import { checkDns } from './core';

/** `DNS_RESOLVERS`: comma-separated `host:port` (local mode points it at its DNS stand-in). */
function resolversFromEnv(): string[] {
  const text = optionalEnv('DNS_RESOLVERS', '');
  const servers = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = servers.find((s) => !/^(\[[0-9a-f:]+\]|[0-9.]+|[0-9a-f:]+)(:\d{1,5})?$/i.test(s));
  if (bad !== undefined) throw new ConfigurationInvalid('DNS_RESOLVERS', text, 'comma-separated IP:port addresses such as 127.0.0.1:5353');
  return servers;
}

const servers = resolversFromEnv();
/** `HOSTED_ZONE_IDS`: the stack's hostedZoneIds, when it limits the zones this function may read. */
const allowedZoneIds = optionalEnv('HOSTED_ZONE_IDS', '')
  .split(',')
  .map((id) => id.trim())
  .filter((id) => id !== '');
// Route 53 is global; the SDK picks its partition's endpoint from the function's region.
const route53 = new Route53Client(clientOptions());
// Bounded: 3 s per try, 2 tries, so a dead resolver fails the step well inside its timeout.
const resolver = new Resolver({ timeout: 3000, tries: 2 });
if (servers.length > 0) resolver.setServers(servers);

/** `CheckDns`: `{ fabric }` -> `DnsResult`. Reads only. */
export const handler = async (event: FabricEvent): Promise<DnsResult> => {
  const { fabric } = event;
  const log = createLogger({ fabric: fabric.name, execution: fabric.execution });
  const result = await checkDns(fabric, { route53, resolveNs: (domain) => resolver.resolveNs(domain), allowedZoneIds });
  log.info('domain delegated', { domain: fabric.spec.domain, hostedZoneId: result.hostedZoneId });
  return result;
};
