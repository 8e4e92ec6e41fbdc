import type { FabricRecord } from './contract';
import { parseDuration } from './duration';

/** What a scheduled sweep does: `leases` destroys expired fabrics and warns before; `drift` plans READY ones. */
export type SweepTask = 'leases' | 'drift';

/** How often the lease sweep runs: a warning falls in exactly one sweep's window. */
export const LEASE_SWEEP_MINUTES = 15;
/** The warning comes this long before expiry, or a quarter of a shorter lease. */
const WARN_BEFORE_SECONDS = 24 * 3600;

/** What a lease sweep does with one record at `now`: nothing, warn, or destroy. */
export function leaseActionOf(record: FabricRecord, now: Date): 'destroy' | 'warn' | undefined {
  if (!record.lease || record.status === 'DESTROYED' || record.status === 'DESTROYING') return undefined;
  const expiresAt = Date.parse(record.lease.expiresAt);
  if (expiresAt <= now.getTime()) return 'destroy';
  const leaseSeconds = parseDuration(record.lease.expiresAfter) ?? WARN_BEFORE_SECONDS;
  const warnAt = expiresAt - Math.min(WARN_BEFORE_SECONDS, leaseSeconds / 4) * 1000;
  // Stateless "once": only the sweep whose window holds the warning time warns.
  return now.getTime() >= warnAt && now.getTime() < warnAt + LEASE_SWEEP_MINUTES * 60_000 ? 'warn' : undefined;
}
