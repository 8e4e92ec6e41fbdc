/**
 * The fabric lock: one item per fabric in the stack's lock table. The definition acquires and
 * releases it (lib/workflow.ts); RecordFabric, RequestApproval, the CLI and local mode read it or
 * release a dead run's. Its attribute names and conditions are written here only.
 */
export const LOCK_ATTRIBUTE = {
  /** Partition key: the fabric's name. */
  fabric: 'fabric',
  /** The holding execution's ARN. */
  holder: 'holder',
  /** ISO time after which another run may take the lock over (the holder's execution timeout). */
  expiresAt: 'expiresAt',
  /** The same time in epoch seconds: DynamoDB's TTL removes a lock nobody released. */
  ttl: 'ttl',
  /** The holder's action (provision, plan, destroy, extend). */
  action: 'action',
  /** A provision waiting for approval: its request with the task token (RequestApproval). */
  approval: 'approval',
} as const;

/** Only the holder may change or delete the item; `:me` is its execution ARN. */
export const HELD_BY_ME = `${LOCK_ATTRIBUTE.holder} = :me`;

/** Free, ours already (a redriven run), or left behind by a run that expired before this one started. */
export const ACQUIRABLE = `attribute_not_exists(${LOCK_ATTRIBUTE.fabric}) OR ${HELD_BY_ME} OR ${LOCK_ATTRIBUTE.expiresAt} < :started`;

/** The item's key for the SDK. */
export function lockKey(fabric: string): Record<string, { S: string }> {
  return { [LOCK_ATTRIBUTE.fabric]: { S: fabric } };
}
