/**
 * STAND-IN for the public DNS, for local mode and tests only.
 *
 * Answers NS queries for a domain with the name servers of its public hosted zone in Route 53
 * (moto): what the internet answers once the domain's registrar points at the zone. Any other
 * name is NXDOMAIN; other record types of a known zone get an empty answer (NODATA), as a real
 * server would. check-dns reaches it through env DNS_RESOLVERS=<address>.
 * dns-packet encodes and decodes the wire format; node:dgram carries it.
 */
import { createSocket, RemoteInfo } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { GetHostedZoneCommand, ListHostedZonesByNameCommand, Route53Client } from '@aws-sdk/client-route-53';
import * as dnsPacket from 'dns-packet';
import { createLogger, Logger } from '../../../lambdas/shared/logger';

export interface PublicDnsStandInOptions {
  readonly route53Endpoint: string;
  readonly logger?: Logger;
}

export interface PublicDnsStandIn {
  /** `127.0.0.1:<port>`, for `Resolver.setServers` and DNS_RESOLVERS. */
  readonly address: string;
  stop(): Promise<void>;
}

/** The public zone's delegation set, or undefined when no public zone has exactly this name. */
async function nameServersOf(route53: Route53Client, domain: string): Promise<string[] | undefined> {
  const fqdn = `${domain.toLowerCase().replace(/\.$/, '')}.`;
  const listed = await route53.send(new ListHostedZonesByNameCommand({ DNSName: fqdn, MaxItems: 10 }));
  const zone = (listed.HostedZones ?? []).find((z) => z.Name?.toLowerCase() === fqdn && z.Config?.PrivateZone !== true);
  if (!zone?.Id) return undefined;
  const detail = await route53.send(new GetHostedZoneCommand({ Id: zone.Id }));
  return detail.DelegationSet?.NameServers ?? [];
}

export async function startPublicDnsStandIn(options: PublicDnsStandInOptions): Promise<PublicDnsStandIn> {
  const logger = options.logger ?? createLogger();
  const route53 = new Route53Client({ region: 'us-east-1', endpoint: options.route53Endpoint });
  const socket = createSocket('udp4');
  // An answer still waiting for Route 53 when stop() closes the socket has nowhere to go.
  let stopped = false;

  const answer = async (message: Buffer, peer: RemoteInfo): Promise<void> => {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return; // not DNS: ignore, as a server would
    }
    const question = query.questions?.[0];
    const reply: dnsPacket.Packet = {
      id: query.id ?? 0,
      type: 'response',
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
      questions: query.questions ?? [],
      answers: [],
    };
    if (question) {
      try {
        const servers = await nameServersOf(route53, question.name);
        if (servers === undefined) {
          reply.flags = (reply.flags ?? 0) | 3; // RCODE 3 = NXDOMAIN
        } else if (question.type === 'NS') {
          reply.answers = servers.map((ns) => ({
            type: 'NS' as const,
            class: 'IN' as const,
            name: question.name,
            ttl: 60,
            data: ns.replace(/\.$/, ''),
          }));
        }
        logger.info('public DNS stand-in answered', {
          standIn: 'public-dns',
          name: question.name,
          type: question.type,
          nameServers: servers ?? 'NXDOMAIN',
        });
      } catch (error) {
        reply.flags = (reply.flags ?? 0) | 2; // RCODE 2 = SERVFAIL: the emulator did not answer
        logger.warn('public DNS stand-in could not read Route 53', { standIn: 'public-dns', error: (error as Error).message });
      }
    }
    if (stopped) return;
    socket.send(dnsPacket.encode(reply), peer.port, peer.address);
  };

  socket.on('message', (message, peer) => {
    void answer(message, peer);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const port = (socket.address() as AddressInfo).port;
  const address = `127.0.0.1:${port}`;
  logger.info('public DNS stand-in listening (answers NS from the emulator, not the internet)', { standIn: 'public-dns', address });
  return {
    address,
    stop: () => {
      stopped = true;
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
