/**
 * CIDR arithmetic for the spec's rules. The Terraform AWS provider accepts a security group or
 * subnet CIDR only in the form Go's `net.ParseCIDR(...).String()` prints: host bits clear, and for
 * IPv6 lowercase with the longest run of zero groups written `::` (RFC 5952). `networkOf` computes
 * that form so a spec can be refused, with the form to use, before anything is created.
 */

/** A CIDR's network (host bits cleared) in the provider's spelling, and whether the input was that already. */
export interface CidrNetwork {
  readonly network: string;
  /** The first and last addresses of the network. */
  readonly first: string;
  readonly last: string;
  readonly prefix: number;
  readonly family: 4 | 6;
  readonly hostBitsSet: boolean;
}

function ipv4ToBigInt(address: string): bigint | undefined {
  const octets = address.split('.');
  if (octets.length !== 4 || !octets.every((o) => /^(0|[1-9]\d{0,2})$/.test(o) && Number(o) <= 255)) return undefined;
  return octets.reduce((acc, octet) => (acc << 8n) | BigInt(octet), 0n);
}

function bigIntToIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

function ipv6ToBigInt(address: string): bigint | undefined {
  // Embedded dotted IPv4 (::ffff:1.2.3.4) is left out on purpose: such a range is written as IPv4.
  if (!/^[0-9a-fA-F:]+$/.test(address)) return undefined;
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string | undefined): string[] | undefined => {
    if (part === undefined || part === '') return [];
    const groups = part.split(':');
    return groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g)) ? groups : undefined;
  };
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...tail];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(`0x${group}`), 0n);
}

/** RFC 5952: lowercase, no leading zeros, the longest run of two or more zero groups (the first on a tie) as `::`. */
function bigIntToIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt((7 - i) * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8;) {
    if (groups[start] !== 0) {
      start += 1;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end += 1;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The network of an IPv4 or IPv6 CIDR, or `undefined` when the text is not a CIDR. */
export function networkOf(cidr: string): CidrNetwork | undefined {
  const slash = cidr.indexOf('/');
  if (slash < 0) return undefined;
  const address = cidr.slice(0, slash);
  const prefixText = cidr.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const family: 4 | 6 = address.includes(':') ? 6 : 4;
  const bits = family === 4 ? 32 : 128;
  if (prefix > bits) return undefined;
  const value = family === 4 ? ipv4ToBigInt(address) : ipv6ToBigInt(address);
  if (value === undefined) return undefined;
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  const base = value & ~hostMask;
  const format = family === 4 ? bigIntToIpv4 : bigIntToIpv6;
  return {
    network: `${format(base)}/${prefix}`,
    first: format(base),
    last: format(base | hostMask),
    prefix,
    family,
    hostBitsSet: base !== value,
  };
}
