import { S3Client } from '@aws-sdk/client-s3';
import { s3Options } from '../shared/clients';
import type { RecordEvent } from '../shared/contract';
import { recordFabric, RecordResult } from './core';

/** `RecordFabric`: `{ status, state: $ }` -> the written record, or `{ recorded: false, reason }`. */
export async function handler(event: RecordEvent): Promise<RecordResult> {
  // The state bucket lives in the fabric's region.
  const s3 = new S3Client(s3Options(event.state.fabric.region));
  return recordFabric(event, s3);
}
