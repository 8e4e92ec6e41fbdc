import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { accountIdOf } from '../shared/account';
import { clientOptions, perRegion, s3Options } from '../shared/clients';
import { optionalEnv } from '../shared/config';
import type { FabricEvent, StateBucketResult } from '../shared/contract';
import { createLogger } from '../shared/logger';
import { ensureStateBucket } from './core';

const sts = new STSClient(clientOptions());
const s3In = perRegion((region) => new S3Client(s3Options(region)));
/** `false` only in local mode (plain-HTTP emulator); see EnsureStateBucketDeps.requireTls. */
const requireTls = optionalEnv('STATE_BUCKET_REQUIRE_TLS', 'true') !== 'false';
let accountId: Promise<string> | undefined;

/** The account never changes for a function: asked once per container. */
function account(): Promise<string> {
  if (!accountId) {
    const lookup = accountIdOf(sts);
    // A failed lookup is not kept, so the next invocation asks again.
    lookup.catch(() => {
      if (accountId === lookup) accountId = undefined;
    });
    accountId = lookup;
  }
  return accountId;
}

/** `EnsureStateBucket`: `{ fabric }` -> `StateBucketResult`. */
export const handler = async (event: FabricEvent): Promise<StateBucketResult> => {
  const { fabric } = event;
  const log = createLogger({ fabric: fabric.name, execution: fabric.execution });
  const result = await ensureStateBucket(fabric, { s3: s3In(fabric.region), accountId: await account(), requireTls });
  log.info(result.created ? 'state bucket created' : result.exists ? 'state bucket verified' : 'state bucket missing (plan: not created)', { bucket: result.bucket });
  return result;
};
