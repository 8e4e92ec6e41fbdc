import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { clientOptions, perRegion, s3Options } from '../shared/clients';
import type { FabricEvent, ZonesResult } from '../../lib/domain/contract';
import { createLogger } from '../shared/logger';
import { discoverZones } from './core';

const ec2In = perRegion((region) => new EC2Client(clientOptions(region)));
const s3In = perRegion((region) => new S3Client(s3Options(region)));

/** `DiscoverZones`: `{ fabric }` -> `ZonesResult`. Reads only. */
export const handler = async (event: FabricEvent): Promise<ZonesResult> => {
  const { fabric } = event;
  const log = createLogger({ fabric: fabric.name, execution: fabric.execution });
  const result = await discoverZones(fabric, {
    zones: ec2In(fabric.region),
    s3: s3In(fabric.region),
  });
  log.info('zones chosen', { zones: result.zones, origin: result.origin });
  return result;
};
