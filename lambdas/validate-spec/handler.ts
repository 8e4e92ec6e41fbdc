import { CodeCommitClient, GetFileCommand } from '@aws-sdk/client-codecommit';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { clientOptions, s3Options } from '../shared/clients';
import { optionalEnv } from '../shared/config';
import type { SpecSource, ValidatedFabric, ValidateSpecEvent } from '../shared/contract';
import { ConfigurationInvalid } from '../shared/errors';
import { createLogger } from '../shared/logger';
import { DEFAULT_BUCKET_PREFIX } from '../shared/naming';
import { DEFAULT_LOCK_SECONDS, validateSpec, ValidateSpecConfig } from './core';

function lockSecondsFromEnv(): number {
  const text = optionalEnv('LOCK_SECONDS', String(DEFAULT_LOCK_SECONDS));
  const value = Number(text);
  if (!Number.isInteger(value) || value < 60) throw new ConfigurationInvalid('LOCK_SECONDS', text, 'a whole number of seconds, at least 60');
  return value;
}

const config: ValidateSpecConfig = {
  bucketPrefix: optionalEnv('STATE_BUCKET_PREFIX', DEFAULT_BUCKET_PREFIX),
  lockSeconds: lockSecondsFromEnv(),
};

const ec2 = new EC2Client(clientOptions());
const sts = new STSClient(clientOptions());
const codecommit = new CodeCommitClient(clientOptions());
const s3ByRegion = new Map<string, S3Client>();

function s3ForRegion(region: string): S3Client {
  let client = s3ByRegion.get(region);
  if (!client) {
    client = new S3Client(s3Options(region));
    s3ByRegion.set(region, client);
  }
  return client;
}

/** `fabric.json` at the pushed commit; `undefined` when the commit has none. */
async function loadSpecFromSource(source: SpecSource): Promise<string | undefined> {
  try {
    const file = await codecommit.send(new GetFileCommand({ repositoryName: source.repository, commitSpecifier: source.commit, filePath: 'fabric.json' }));
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
