import { CodeCommitClient, GetFileCommand } from '@aws-sdk/client-codecommit';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { clientOptions, perRegion, s3Options } from '../shared/clients';
import { optionalEnv, optionalIntEnv } from '../shared/config';
import type { SpecSource, ValidatedFabric, ValidateSpecEvent } from '../../lib/domain/contract';
import { createLogger } from '../shared/logger';
import { DEFAULT_BUCKET_PREFIX } from '../../lib/domain/naming';
import { DEFAULT_APPROVAL_TIMEOUT_SECONDS, DEFAULT_LOCK_SECONDS, validateSpec, ValidateSpecConfig } from './core';

const config: ValidateSpecConfig = {
  bucketPrefix: optionalEnv('STATE_BUCKET_PREFIX', DEFAULT_BUCKET_PREFIX),
  lockSeconds: optionalIntEnv('LOCK_SECONDS', DEFAULT_LOCK_SECONDS, 60, 'seconds'),
  approvalTimeoutSeconds: optionalIntEnv('APPROVAL_TIMEOUT_SECONDS', DEFAULT_APPROVAL_TIMEOUT_SECONDS, 1, 'seconds'),
};

const ec2 = new EC2Client(clientOptions());
const sts = new STSClient(clientOptions());
const codecommit = new CodeCommitClient(clientOptions());
const s3ForRegion = perRegion((region) => new S3Client(s3Options(region)));

/** `fabric.json` at the pushed commit; `undefined` when the commit has none. */
async function loadSpecFromSource(source: SpecSource): Promise<string | undefined> {
  try {
    const file = await codecommit.send(
      new GetFileCommand({ repositoryName: source.repository, commitSpecifier: source.commit, filePath: 'fabric.json' }),
    );
    return file.fileContent ? Buffer.from(file.fileContent).toString('utf-8') : undefined;
  } catch (error) {
    if ((error as Error).name === 'FileDoesNotExistException') return undefined;
    throw error;
  }
}

/** `ValidateSpec`: the execution input -> `ValidatedFabric` at `$.fabric`. Creates nothing. */
export const handler = async (event: ValidateSpecEvent): Promise<ValidatedFabric> => {
  const log = createLogger({ execution: event.execution });
  try {
    const fabric = await validateSpec(event, { ec2, sts, s3ForRegion, loadSpecFromSource }, config);
    log.with({ fabric: fabric.name }).info('spec valid', { action: fabric.action, region: fabric.region, stateBucket: fabric.stateBucket });
    return fabric;
  } catch (error) {
    log.warn('spec rejected', { error: (error as Error).name, cause: (error as Error).message });
    throw error;
  }
};
