import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { clientOptions, perRegion, s3Options } from '../shared/clients';
import { LOCK_TABLE_ENV, requiredEnv } from '../shared/config';
import type { RecordEvent } from '../../lib/domain/contract';
import { LockTable, recordFabric, RecordResult } from './core';

// The state bucket lives in the fabric's region; the lock table in the stack's.
const s3In = perRegion((region) => new S3Client(s3Options(region)));
const lock: LockTable = { dynamodb: new DynamoDBClient(clientOptions()), table: requiredEnv(LOCK_TABLE_ENV) };

/**
 * `RecordFabric`: `{ status, state: $ }` -> the written record, or `{ recorded: false, reason }`.
 * Fails with `LockNotHeld` when this execution does not hold the fabric's lock.
 */
export async function handler(event: RecordEvent): Promise<RecordResult> {
  return recordFabric(event, s3In(event.state.fabric.region), lock);
}
