import { spawnSync } from 'node:child_process';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { useMoto } from './moto';

/** The AWS CLI install-tools.sh copies to and from the cache with; '' when it is not on PATH. */
export const AWS_CLI = spawnSync('bash', ['-c', 'command -v aws'], { encoding: 'utf8' }).stdout.trim();

/** The tools cache as the buildspecs give it to install-tools.sh: a folder of the fabric region's state bucket. */
export const TOOLS_CACHE_BUCKET = 'fabricctl-state-123456789012-us-east-2';
export const TOOLS_CACHE_URI = `s3://${TOOLS_CACHE_BUCKET}/tools/sha256`;

/** Makes the state bucket in the worker's moto before the suite's tests; returns the S3 client that reads the cache. */
export function useToolsCacheBucket(moto: ReturnType<typeof useMoto>): () => S3Client {
  let s3: S3Client | undefined;
  beforeAll(async () => {
    s3 = new S3Client({ endpoint: moto.current().endpoint, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: TOOLS_CACHE_BUCKET, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));
  });
  return () => {
    if (!s3) throw new Error('the tools cache bucket is made in beforeAll');
    return s3;
  };
}
