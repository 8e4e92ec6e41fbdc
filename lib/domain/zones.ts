import type { AvailabilityZone } from '@aws-sdk/client-ec2';
import { InsufficientZones } from './errors';

/** Which availability zones a fabric may be built in, and which it takes (DiscoverZones, fabricctl init). */
const USABLE_OPT_IN = new Set(['opt-in-not-required', 'opted-in']);

/**
 * A zone the fabric may use: available, a real availability zone (not a Local or Wavelength zone),
 * and not waiting for an opt-in. Plain availability zones never need opting in, so a reply without
 * OptInStatus (the emulator omits it) counts as opt-in-not-required.
 */
export function isUsable(zone: AvailabilityZone): boolean {
  return (
    zone.State === 'available' && zone.ZoneType === 'availability-zone' && USABLE_OPT_IN.has(zone.OptInStatus ?? 'opt-in-not-required')
  );
}

/**
 * Usable zone names in a stable order. Filtering comes FIRST, then sorting: taking the first zones
 * and filtering afterwards would leave a region with one unavailable zone short of zones
 * (test/lambdas/discover-zones.core.test.ts).
 */
export function usableZoneNames(zones: readonly AvailabilityZone[]): string[] {
  return zones
    .filter(isUsable)
    .map((z) => z.ZoneName)
    .filter((n): n is string => typeof n === 'string')
    .sort();
}

/** The first `count` usable zones in name order, or `InsufficientZones`. */
export function chooseZones(region: string, usable: readonly string[], count: number): string[] {
  if (usable.length < count) throw new InsufficientZones(region, count, usable);
  return usable.slice(0, count);
}
