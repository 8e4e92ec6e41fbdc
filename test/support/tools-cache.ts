import { spawnSync } from 'node:child_process';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { describeWithMoto, useMoto } from './moto';

/** The AWS CLI install-tools.sh copies to and from the cache with; '' when it is not on PATH. */
export const AWS_CLI = spawnSync('bash', ['-c', 'command -v aws'], { encoding: 'utf8' }).stdout.trim();

/** The tools cache as the buildspecs give it to install-tools.sh: a folder of the fabric region's state bucket. */
export interface ToolsCache {
  readonly bucket: string;
  readonly uri: string;
  /** The S3 client that reads and plants cached copies (inside a test). */
  readonly s3: () => S3Client;
  /** What install-tools.sh needs to use the cache in the worker's moto (inside a test). */
  readonly env: () => NodeJS.ProcessEnv;
}

/**
 * A describe whose tests run install-tools.sh with its tools cache in the worker's moto, the state
 * bucket made before them. Without the AWS CLI it is skipped, and says that `what` is not run.
 */
export function describeWithToolsCache(title: string, what: string, body: (cache: ToolsCache) => void): void {
  if (!AWS_CLI) {
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED: the AWS CLI is not on PATH, so ${what} is not run against moto.`);
  }
  (AWS_CLI ? describeWithMoto : describe.skip)(title, () => {
    const moto = useMoto();
    const bucket = 'fabricctl-state-123456789012-us-east-2';
    const uri = `s3://${bucket}/tools/sha256`;
    let s3: S3Client | undefined;
    beforeAll(async () => {
      s3 = new S3Client({ endpoint: moto.current().endpoint, forcePathStyle: true });
      await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));
    });
    body({
      bucket,
      uri,
      s3: () => {
        if (!s3) throw new Error('the tools cache bucket is made in beforeAll');
        return s3;
      },
      env: () => ({ AWS_ENDPOINT_URL: moto.current().endpoint, FABRIC_REGION: 'us-east-2', TOOLS_CACHE_URI: uri }),
    });
  });
}
