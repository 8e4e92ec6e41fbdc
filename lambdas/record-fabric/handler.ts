import { S3Client } from '@aws-sdk/client-s3';
import { perRegion, s3Options } from '../shared/clients';
import type { RecordEvent } from '../shared/contract';
import { recordFabric, RecordResult } from './core';

// The state bucket lives in the fabric's region.
const s3In = perRegion((region) => new S3Client(s3Options(region)));

/** `RecordFabric`: `{ status, state: $ }` -> the written record, or `{ recorded: false, reason }`. */
export async function handler(event: RecordEvent): Promise<RecordResult> {
  return recordFabric(event, s3In(event.state.fabric.region));
}
