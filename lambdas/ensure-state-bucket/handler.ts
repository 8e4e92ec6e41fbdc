import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { accountIdOf } from '../shared/account';
import { clientOptions, perRegion, s3Options } from '../shared/clients';
import { optionalEnv, requiredEnv } from '../shared/config';
import { ConfigurationInvalid } from '../../lib/domain/errors';
import type { FabricEvent, StateBucketResult } from '../../lib/domain/contract';
import { createLogger } from '../shared/logger';
import { ensureStateBucket, StateReaders } from './core';
import { releaseStaleStateLocks } from './stale-locks';

const sts = new STSClient(clientOptions());
const s3In = perRegion((region) => new S3Client(s3Options(region)));
// The build projects live in the stack's region, this function's own, whatever the fabric's region.
const codebuild = new CodeBuildClient(clientOptions());
/** The jobs whose builds take the fabric's Terraform locks (EC2 and Lambda compute), comma-separated. */
const buildProjects = requiredEnv('BUILD_PROJECT_NAMES')
  .split(',')
  .map((name) => name.trim())
  .filter((name) => name !== '');
/** `false` only in local mode (plain-HTTP emulator); see EnsureStateBucketDeps.requireTls. */
const requireTls = optionalEnv('STATE_BUCKET_REQUIRE_TLS', 'true') !== 'false';
/** `false` only in local mode (moto ignores policy conditions); see EnsureStateBucketDeps.restrictSecretReads. */
const restrictSecretReads = optionalEnv('STATE_BUCKET_RESTRICT_SECRET_READS', 'true') !== 'false';
/** Comma-separated principal ARNs; every entry must be one (a typo would lock the builds out). */
function arnList(name: string, text: string): string[] {
  const arns = text
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  for (const arn of arns) {
    if (!/^arn:aws[a-z-]*:(iam|sts)::\d{12}:[^\s,]+$/.test(arn))
      throw new ConfigurationInvalid(name, arn, 'comma-separated IAM principal ARNs');
  }
  return arns;
}
/** Who may read kops's secrets and Terraform state besides the control plane (see core.ts). */
const stateReaders: StateReaders = {
  buildPrincipalArns: arnList('STATE_BUILD_PRINCIPAL_ARNS', requiredEnv('STATE_BUILD_PRINCIPAL_ARNS')),
  adminPrincipalArns: arnList('STATE_ADMIN_PRINCIPAL_ARNS', optionalEnv('STATE_ADMIN_PRINCIPAL_ARNS', '')),
};
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
  const s3 = s3In(fabric.region);
  const result = await ensureStateBucket(fabric, { s3, accountId: await account(), requireTls, restrictSecretReads, stateReaders });
  log.info(result.created ? 'state bucket created' : result.exists ? 'state bucket verified' : 'state bucket missing (plan: not created)', {
    bucket: result.bucket,
  });
  // plan takes no Terraform lock and writes nothing; a new bucket holds no lock; the other actions
  // would wait on a stale lock and fail.
  if (!result.exists || result.created || fabric.action === 'plan') return result;
  const releasedLocks = await releaseStaleStateLocks(fabric, {
    s3,
    codebuild,
    accountId: await account(),
    projects: buildProjects,
  });
  for (const lock of releasedLocks) log.warn('released a stale Terraform lock: no build of this fabric is running', { ...lock });
  return releasedLocks.length === 0 ? result : { ...result, releasedLocks };
};
