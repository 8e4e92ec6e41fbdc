import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { accountIdOf } from '../shared/account';
import { clientOptions, perRegion, s3Options } from '../shared/clients';
import { optionalEnv, requiredEnv } from '../shared/config';
import { createLogger } from '../shared/logger';
import { DEFAULT_BUCKET_PREFIX } from '../../lib/domain/naming';
import { startOnce } from '../shared/start-execution';
import { SweepAction, SweepEvent, sweepFabrics } from './core';

const stateMachineArn = requiredEnv('STATE_MACHINE_ARN');
const bucketPrefix = optionalEnv('STATE_BUCKET_PREFIX', DEFAULT_BUCKET_PREFIX);
const s3 = new S3Client(s3Options());
const s3ForRegion = perRegion((region) => new S3Client(s3Options(region)));
const sfn = new SFNClient(clientOptions());
const sts = new STSClient(clientOptions());
const events = new EventBridgeClient(clientOptions());

/** `SweepFabrics`: invoked by the lease and drift schedules with `{ task }`. */
export const handler = async (event: SweepEvent): Promise<SweepAction[]> => {
  const accountId = await accountIdOf(sts);
  const actions = await sweepFabrics(event, {
    s3,
    s3ForRegion,
    events,
    accountId,
    stackRegion: await events.config.region(),
    bucketPrefix,
    now: new Date(),
    start: async ({ name, input }) => (await startOnce(sfn, { stateMachineArn, name, input })).started,
  });
  createLogger({}).info('sweep done', { task: event.task, actions });
  return actions;
};
