/** The EventBridge `source` of every event fabricctl puts (state machine, webhook, sweeps). */
export const EVENT_SOURCE = 'fabricctl';

/** The detail-types of the events fabricctl puts (README, Start a run and Day 2). */
export const FABRIC_READY = 'Fabric Ready';
export const FABRIC_FAILED = 'Fabric Failed';
export const FABRIC_DESTROYED = 'Fabric Destroyed';
export const FABRIC_DRIFTED = 'Fabric Drifted';
export const FABRIC_EXPIRING = 'Fabric Expiring';
export const FABRIC_AWAITING_APPROVAL = 'Fabric Awaiting Approval';

/**
 * The `fabricctl` commands the events suggest. The CLI's `--region` is the stack's region (its
 * lock table and outputs), which is not the fabric's when the fabric lives in another region.
 */
export function approveCommand(name: string, stackRegion: string): string {
  return `fabricctl approve ${name} --region ${stackRegion}`;
}

export function extendCommand(name: string, by: string, stackRegion: string, fabricRegion: string): string {
  const fabricFlag = fabricRegion === stackRegion ? '' : ` --fabric-region ${fabricRegion}`;
  return `fabricctl extend ${name} ${by} --region ${stackRegion}${fabricFlag}`;
}
