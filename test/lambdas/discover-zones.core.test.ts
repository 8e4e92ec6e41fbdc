import { AvailabilityZone, DescribeAvailabilityZonesCommand } from '@aws-sdk/client-ec2';
import type { ValidatedFabric } from '../../lib/domain/contract';
import { FabricSpecInvalid, FabricZonesChanged, InsufficientZones } from '../../lib/domain/errors';
import { stateKeys } from '../../lib/domain/naming';
import { discoverZones, DiscoverZonesDeps } from '../../lambdas/discover-zones/core';
import { chooseZones, usableZoneNames } from '../../lib/domain/zones';
import { asClient, awsError, fabricOf, FakeS3, recordOf } from './fixtures/prepare';

function zone(name: string, extra: Partial<AvailabilityZone> = {}): AvailabilityZone {
  return {
    ZoneName: name,
    State: 'available',
    ZoneType: 'availability-zone',
    OptInStatus: 'opt-in-not-required',
    RegionName: name.slice(0, -1),
    ...extra,
  };
}

const ohio = [zone('us-east-2a'), zone('us-east-2b'), zone('us-east-2c')];

interface Options {
  readonly zones?: AvailabilityZone[];
  readonly s3?: FakeS3;
  /** Every EC2 command sent, in order. */
  readonly ec2Calls?: string[];
}

function deps(options: Options = {}): DiscoverZonesDeps & { s3Fake: FakeS3 } {
  const s3Fake = options.s3 ?? new FakeS3();
  return {
    s3Fake,
    s3: asClient(s3Fake),
    zones: asClient({
      send: async (command) => {
        options.ec2Calls?.push((command as object).constructor.name);
        if (!(command instanceof DescribeAvailabilityZonesCommand)) throw new Error('unexpected call');
        return { AvailabilityZones: options.zones ?? ohio };
      },
    }),
  };
}

/** A state bucket holding the fabric's record with the given zones. */
function recorded(fabric: ValidatedFabric, zones: string[], status: 'READY' | 'FAILED' | 'DESTROYED' = 'READY'): FakeS3 {
  const s3 = new FakeS3();
  s3.addBucket(fabric.stateBucket).objects.set(stateKeys.record(fabric.name), JSON.stringify(recordOf(fabric, zones, status)));
  return s3;
}

describe('discoverZones: discovery', () => {
  test(
    'GIVEN a region with three usable zones and no record WHEN discovered ' + 'THEN all three, in name order, origin discovered',
    async () => {
      const result = await discoverZones(fabricOf(), deps({ zones: [zone('us-east-2c'), zone('us-east-2a'), zone('us-east-2b')] }));
      expect(result).toEqual({
        zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'],
        zonesCsv: 'us-east-2a,us-east-2b,us-east-2c',
        origin: 'discovered',
      });
    },
  );

  test(
    'GIVEN the first zone is impaired and a fourth is available WHEN discovered ' +
      'THEN the unusable zone is filtered out BEFORE three are taken (defect 3)',
    async () => {
      const zones = [zone('us-east-1a', { State: 'impaired' }), zone('us-east-1b'), zone('us-east-1c'), zone('us-east-1d')];
      const result = await discoverZones(fabricOf({ region: 'us-east-1' }), deps({ zones }));
      // Take-then-filter would have kept b and c only and come up short.
      expect(result.zones).toEqual(['us-east-1b', 'us-east-1c', 'us-east-1d']);
    },
  );

  test('GIVEN more usable zones than needed WHEN discovered THEN the first zoneCount by name are taken', async () => {
    const zones = ['f', 'e', 'd', 'c', 'b', 'a'].map((l) => zone(`us-east-1${l}`));
    expect((await discoverZones(fabricOf({ region: 'us-east-1', zoneCount: 5 }), deps({ zones }))).zones).toEqual([
      'us-east-1a',
      'us-east-1b',
      'us-east-1c',
      'us-east-1d',
      'us-east-1e',
    ]);
  });

  test('GIVEN local zones, unavailable zones and zones not opted in WHEN filtered THEN only plain available zones remain', () => {
    const names = usableZoneNames([
      zone('us-west-2a'),
      zone('us-west-2-lax-1a', { ZoneType: 'local-zone', OptInStatus: 'opted-in' }),
      zone('us-west-2-wl1-las-wlz-1', { ZoneType: 'wavelength-zone', OptInStatus: 'opted-in' }),
      zone('us-west-2b', { State: 'unavailable' }),
      zone('us-west-2c', { OptInStatus: 'not-opted-in' }),
      zone('us-west-2d', { OptInStatus: 'opted-in' }),
    ]);
    expect(names).toEqual(['us-west-2a', 'us-west-2d']);
  });

  test('GIVEN a zone without OptInStatus (as the emulator answers) WHEN filtered THEN it counts as opt-in-not-required', () => {
    expect(usableZoneNames([{ ZoneName: 'us-east-2a', State: 'available', ZoneType: 'availability-zone' }])).toEqual(['us-east-2a']);
  });

  test('fails when the region has fewer usable zones than zoneCount, with InsufficientZones listing them', async () => {
    const zones = [zone('us-west-1a'), zone('us-west-1b'), zone('us-west-1c', { State: 'impaired' })];
    const error = await discoverZones(fabricOf({ region: 'us-west-1' }), deps({ zones })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientZones);
    expect((error as Error).name).toBe('InsufficientZones');
    expect((error as Error).message).toMatch(
      /region us-west-1 has 2 usable availability zone\(s\) \(us-west-1a, us-west-1b\) but zoneCount is 3/,
    );
  });

  test('fails when zoneCount 5 is asked in a region with four usable zones', () => {
    expect(() => chooseZones('us-west-2', ['us-west-2a', 'us-west-2b', 'us-west-2c', 'us-west-2d'], 5)).toThrow(InsufficientZones);
  });
});

describe('discoverZones: region', () => {
  test(
    'GIVEN a validated fabric WHEN discovered ' +
      'THEN its region is not checked again (ValidateSpec owns that): one EC2 call, for the zones',
    async () => {
      const ec2Calls: string[] = [];
      await discoverZones(fabricOf(), deps({ ec2Calls }));
      expect(ec2Calls).toEqual(['DescribeAvailabilityZonesCommand']);
    },
  );
});

describe('discoverZones: pinned zones', () => {
  test('GIVEN pinned usable zones WHEN discovered THEN they are used as given, origin pinned', async () => {
    const fabric = fabricOf({ zones: ['us-east-2c', 'us-east-2a', 'us-east-2b'] });
    expect(await discoverZones(fabric, deps())).toEqual({
      zones: ['us-east-2c', 'us-east-2a', 'us-east-2b'],
      zonesCsv: 'us-east-2c,us-east-2a,us-east-2b',
      origin: 'pinned',
    });
  });

  test('fails when a pinned zone is not usable, listing the usable ones', async () => {
    const fabric = fabricOf({ zones: ['us-east-2a', 'us-east-2b', 'us-east-2d'] });
    const error = await discoverZones(fabric, deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FabricSpecInvalid);
    const p = (error as FabricSpecInvalid).problems[0];
    expect(p?.field).toBe('zones');
    expect(p?.fix).toMatch(/us-east-2d is not usable in us-east-2; pick from us-east-2a, us-east-2b, us-east-2c/);
  });

  test('fails when a pinned zone exists but is impaired', async () => {
    const fabric = fabricOf({ zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'] });
    await expect(
      discoverZones(fabric, deps({ zones: [zone('us-east-2a'), zone('us-east-2b'), zone('us-east-2c', { State: 'impaired' })] })),
    ).rejects.toThrow(FabricSpecInvalid);
  });
});

describe('discoverZones: recorded zones', () => {
  test('GIVEN a recorded fabric WHEN discovered THEN its recorded zones are reused, origin recorded', async () => {
    const fabric = fabricOf({ region: 'us-east-1' });
    const zones = ['a', 'b', 'c', 'd'].map((l) => zone(`us-east-1${l}`));
    const result = await discoverZones(fabric, deps({ zones, s3: recorded(fabric, ['us-east-1b', 'us-east-1c', 'us-east-1d']) }));
    expect(result).toEqual({
      zones: ['us-east-1b', 'us-east-1c', 'us-east-1d'],
      zonesCsv: 'us-east-1b,us-east-1c,us-east-1d',
      origin: 'recorded',
    });
  });

  test('GIVEN no state bucket yet WHEN discovered THEN it is treated as no record', async () => {
    expect((await discoverZones(fabricOf(), deps({ s3: new FakeS3() }))).origin).toBe('discovered');
  });

  test("GIVEN a state bucket without this fabric's record WHEN discovered THEN zones are discovered", async () => {
    const s3 = new FakeS3();
    s3.addBucket(fabricOf().stateBucket);
    expect((await discoverZones(fabricOf(), deps({ s3 }))).origin).toBe('discovered');
  });

  test('GIVEN a destroyed fabric WHEN provisioned again THEN zones are discovered afresh', async () => {
    const fabric = fabricOf();
    const result = await discoverZones(fabric, deps({ s3: recorded(fabric, ['us-east-2x', 'us-east-2y', 'us-east-2z'], 'DESTROYED') }));
    expect(result.origin).toBe('discovered');
  });

  test('GIVEN pinned zones equal to the recorded ones in another order WHEN discovered THEN the recorded zones are used', async () => {
    const fabric = fabricOf({ zones: ['us-east-2c', 'us-east-2b', 'us-east-2a'] });
    const result = await discoverZones(fabric, deps({ s3: recorded(fabric, ['us-east-2a', 'us-east-2b', 'us-east-2c']) }));
    expect(result).toMatchObject({ zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'], origin: 'recorded' });
  });

  test('fails when a recorded zone is no longer usable, saying zones of an existing fabric cannot change', async () => {
    const fabric = fabricOf();
    const zones = [zone('us-east-2a'), zone('us-east-2b', { State: 'unavailable' }), zone('us-east-2c'), zone('us-east-2d')];
    const error = await discoverZones(fabric, deps({ zones, s3: recorded(fabric, ['us-east-2a', 'us-east-2b', 'us-east-2c']) })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FabricZonesChanged);
    expect((error as Error).name).toBe('FabricZonesChanged');
    expect((error as Error).message).toMatch(
      /us-east-2b of fabric demo are no longer usable.*cannot change.*destroy the fabric and provision it again/,
    );
  });

  test('GIVEN a recorded zone that is no longer usable WHEN destroying THEN the recorded zones are still returned', async () => {
    const fabric = fabricOf({}, 'destroy');
    const zones = [zone('us-east-2a'), zone('us-east-2c')];
    const result = await discoverZones(fabric, deps({ zones, s3: recorded(fabric, ['us-east-2a', 'us-east-2b', 'us-east-2c']) }));
    expect(result.zones).toEqual(['us-east-2a', 'us-east-2b', 'us-east-2c']);
  });

  test("fails when the spec's zoneCount disagrees with the recorded zones", async () => {
    const fabric = fabricOf({ zoneCount: 5 });
    const zones = ['a', 'b', 'c', 'd', 'e'].map((l) => zone(`us-east-2${l}`));
    await expect(discoverZones(fabric, deps({ zones, s3: recorded(fabric, ['us-east-2a', 'us-east-2b', 'us-east-2c']) }))).rejects.toThrow(
      /recorded with 3 zones .* zoneCount 5; the zones of an existing fabric cannot change .*set zoneCount to 3/,
    );
  });

  test('fails when the pinned zones disagree with the recorded ones', async () => {
    const fabric = fabricOf({ zones: ['us-east-2a', 'us-east-2b', 'us-east-2d'] });
    const zones = ['a', 'b', 'c', 'd'].map((l) => zone(`us-east-2${l}`));
    const error = await discoverZones(fabric, deps({ zones, s3: recorded(fabric, ['us-east-2a', 'us-east-2b', 'us-east-2c']) })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FabricZonesChanged);
    expect((error as Error).message).toMatch(/pin us-east-2a, us-east-2b, us-east-2c \(or drop "zones"\)/);
  });

  test('fails when the state bucket cannot be read (access denied is not "no record")', async () => {
    const s3 = new FakeS3();
    s3.failWith = awsError('AccessDenied', 403);
    await expect(discoverZones(fabricOf(), deps({ s3 }))).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  test('fails when the record is not JSON', async () => {
    const fabric = fabricOf();
    const s3 = new FakeS3();
    s3.addBucket(fabric.stateBucket).objects.set(stateKeys.record('demo'), '{oops');
    await expect(discoverZones(fabric, deps({ s3 }))).rejects.toMatchObject({ name: 'FabricRecordUnreadable' });
  });
});
