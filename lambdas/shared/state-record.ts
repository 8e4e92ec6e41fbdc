import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { FabricRecord } from '../../lib/domain/contract';
import { FabricRecordUnreadable } from '../../lib/domain/errors';
import { stateKeys } from '../../lib/domain/naming';

/** The S3 calls this module makes; a real `S3Client` or a test fake. */
export type S3Sender = Pick<S3Client, 'send'>;

function isMissing(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NoSuchBucket' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/**
 * Reads `fabrics/<name>/fabric.json` from the state bucket. A missing bucket (the first run in a
 * region creates it later) or a missing object means "no record yet": `undefined`.
 * Any other failure (access denied, throttling) propagates, so it is never mistaken for "new fabric".
 */
export async function readFabricRecord(s3: S3Sender, bucket: string, name: string): Promise<FabricRecord | undefined> {
  const key = stateKeys.record(name);
  let text: string;
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!response.Body) throw new FabricRecordUnreadable(bucket, key, 'the object has no body');
    text = await response.Body.transformToString('utf-8');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FabricRecordUnreadable(bucket, key, `not JSON: ${(error as Error).message}`);
  }
  const record = parsed as Partial<FabricRecord> | null;
  // Only the fields readers rely on are checked; record-fabric owns the full shape.
  if (
    record === null ||
    typeof record !== 'object' ||
    record.name !== name ||
    typeof record.spec !== 'object' ||
    record.spec === null ||
    !Array.isArray(record.zones) ||
    !record.zones.every((z) => typeof z === 'string')
  ) {
    throw new FabricRecordUnreadable(bucket, key, `expected an object with name "${name}", a spec and a zones list`);
  }
  return record as FabricRecord;
}

/** Every fabric recorded in the bucket (`fabrics/<name>/fabric.json`), by name; none when the bucket does not exist. */
export async function listFabricRecords(s3: S3Sender, bucket: string): Promise<FabricRecord[]> {
  const names: string[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: 'fabrics/', Delimiter: '/', ContinuationToken: token }),
      );
      for (const p of page.CommonPrefixes ?? []) {
        const name = p.Prefix?.slice('fabrics/'.length).replace(/\/$/, '');
        if (name) names.push(name);
      }
      token = page.NextContinuationToken;
    } while (token);
  } catch (error) {
    // No state bucket yet: no fabric was ever provisioned in this account and region.
    if ((error as Error).name === 'NoSuchBucket') return [];
    throw error;
  }
  const records = await Promise.all(names.map((name) => readFabricRecord(s3, bucket, name)));
  return records.filter((r): r is FabricRecord => r !== undefined).sort((a, b) => a.name.localeCompare(b.name));
}
