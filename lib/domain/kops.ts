/**
 * What kops writes for `api.<cluster>` (and `api.internal.<cluster>`) until its dns-controller runs
 * on a control-plane node: CheckReadiness waits for a real address, the kops stand-in pre-creates it.
 */
export const KOPS_PLACEHOLDER_ADDRESS = '203.0.113.123';
