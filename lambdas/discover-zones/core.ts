import { DescribeAvailabilityZonesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { chooseZones, usableZoneNames } from '../../lib/domain/zones';
import type { FabricRecord, ValidatedFabric, ZonesResult } from '../../lib/domain/contract';
import { FabricSpecInvalid, FabricZonesChanged, problem } from '../../lib/domain/errors';
import { readFabricRecord, S3Sender } from '../shared/state-record';

type Ec2Sender = Pick<EC2Client, 'send'>;

/**
 * The region is ValidateSpec's to check (it exists and is enabled, before anything is made): the
 * fabric arrives validated, and its region is not asked about again here.
 */
export interface DiscoverZonesDeps {
  /** EC2 in the fabric's region: DescribeAvailabilityZones answers for the client's region only. */
  readonly zones: Ec2Sender;
  /** S3 in the fabric's region, to read the fabric record. */
  readonly s3: S3Sender;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');
}

const REBUILD = 'the zones of an existing fabric cannot change (its subnets and control-plane nodes live in them)';

/** Reuses the recorded zones, after checking the spec still agrees with them and they are still usable. */
function recordedZones(fabric: ValidatedFabric, record: FabricRecord, usable: readonly string[]): ZonesResult {
  const zones = [...record.zones];
  const { spec } = fabric;
  if (spec.zones !== undefined && !sameSet(spec.zones, zones)) {
    throw new FabricZonesChanged(
      `fabric ${fabric.name} is recorded with zones ${zones.join(', ')} but the spec pins ${spec.zones.join(', ')}; ${REBUILD}: ` +
        `pin ${zones.join(', ')} (or drop "zones"), or destroy the fabric and provision it again with the new zones`,
    );
  }
  if (spec.zoneCount !== zones.length) {
    throw new FabricZonesChanged(
      `fabric ${fabric.name} is recorded with ${zones.length} zones (${zones.join(', ')}) ` +
        `but the spec asks for zoneCount ${spec.zoneCount}; ${REBUILD}: ` +
        `set zoneCount to ${zones.length}, or destroy the fabric and provision it again`,
    );
  }
  // Destroy must still work when a zone has gone: only building needs the zones to be usable.
  const gone = fabric.action === 'destroy' ? [] : zones.filter((z) => !usable.includes(z));
  if (gone.length > 0) {
    throw new FabricZonesChanged(
      `recorded zone(s) ${gone.join(', ')} of fabric ${fabric.name} are no longer usable in ${fabric.region} ` +
        `(usable: ${usable.join(', ') || 'none'}); ${REBUILD}: ` +
        'wait for AWS to restore the zone, or destroy the fabric and provision it again',
    );
  }
  return { zones, zonesCsv: zones.join(','), origin: 'recorded' };
}

/**
 * `DiscoverZones`: the zones the fabric is built in. Recorded zones win (later runs are
 * deterministic), then pinned zones (verified usable), else the first `zoneCount` usable zones.
 */
export async function discoverZones(fabric: ValidatedFabric, deps: DiscoverZonesDeps): Promise<ZonesResult> {
  const { AvailabilityZones = [] } = await deps.zones.send(new DescribeAvailabilityZonesCommand({}));
  const usable = usableZoneNames(AvailabilityZones);

  const record = await readFabricRecord(deps.s3, fabric.stateBucket, fabric.name);
  // A destroyed fabric has no network left, so it may come back in other zones.
  if (record && record.status !== 'DESTROYED' && record.zones.length > 0) return recordedZones(fabric, record, usable);

  const pinned = fabric.spec.zones;
  if (pinned !== undefined) {
    const unusable = pinned.filter((z) => !usable.includes(z));
    if (unusable.length > 0) {
      throw new FabricSpecInvalid([
        problem(
          'zones',
          pinned,
          `${unusable.join(', ')} ${unusable.length === 1 ? 'is' : 'are'} not usable in ${fabric.region}; ` +
            `pick from ${usable.join(', ') || 'none'} or drop "zones" to have them chosen`,
        ),
      ]);
    }
    return { zones: [...pinned], zonesCsv: pinned.join(','), origin: 'pinned' };
  }

  const zones = chooseZones(fabric.region, usable, fabric.spec.zoneCount);
  return { zones, zonesCsv: zones.join(','), origin: 'discovered' };
}
