import { DescribeRegionsCommand } from '@aws-sdk/client-ec2';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { FabricRecord, SpecSource, ValidateSpecEvent } from '../../lib/domain/contract';
import { FabricSpecInvalid, Problem } from '../../lib/domain/errors';
import { executionInputSchema } from '../../lib/domain/execution-input';
import { stateKeys } from '../../lib/domain/naming';
import { DEFAULT_LOCK_SECONDS, validateSpec, ValidateSpecDeps } from '../../lambdas/validate-spec/core';
import { ACCOUNT, asClient, fabricOf, FakeS3, recordOf } from './fixtures/prepare';

const STARTED = '2030-01-01T00:00:00.000Z';
const spec = { name: 'Demo', domain: 'example.com' };
const source: SpecSource = { provider: 'codecommit', repository: 'fabrics', branch: 'fabric/demo', commit: 'a1b2c3d4e5f6' };

interface Harness {
  readonly deps: ValidateSpecDeps;
  readonly s3: Map<string, FakeS3>;
  readonly loaded: SpecSource[];
  readonly sent: unknown[];
}

/** Fakes for every call ValidateSpec may make; `sent` keeps each command so tests can prove nothing is written. */
function harness(options: { fabricJson?: string; optIn?: Record<string, string> } = {}): Harness {
  const sent: unknown[] = [];
  const s3 = new Map<string, FakeS3>();
  const loaded: SpecSource[] = [];
  const regions = ['us-east-1', 'us-east-2', 'eu-west-1', 'ap-east-1'];
  const deps: ValidateSpecDeps = {
    ec2: asClient({
      send: async (command) => {
        sent.push(command);
        if (!(command instanceof DescribeRegionsCommand)) throw new Error('unexpected EC2 call');
        return {
          Regions: regions.map((RegionName) => ({ RegionName, OptInStatus: options.optIn?.[RegionName] ?? 'opt-in-not-required' })),
        };
      },
    }),
    sts: asClient({
      send: async (command) => {
        sent.push(command);
        if (!(command instanceof GetCallerIdentityCommand)) throw new Error('unexpected STS call');
        return { Account: ACCOUNT };
      },
    }),
    s3ForRegion: (region) => {
      let fake = s3.get(region);
      if (!fake) {
        fake = new FakeS3(region);
        s3.set(region, fake);
      }
      return asClient(fake);
    },
    loadSpecFromSource: async (s) => {
      loaded.push(s);
      return options.fabricJson;
    },
  };
  return { deps, s3, loaded, sent };
}

function event(input: unknown): ValidateSpecEvent {
  return { input, execution: 'arn:aws:states:us-east-2:123456789012:execution:FabricProvisioner:run-1', startedAt: STARTED };
}

const config = { lockSeconds: DEFAULT_LOCK_SECONDS };

async function problemsOf(promise: Promise<unknown>): Promise<readonly Problem[]> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(FabricSpecInvalid);
    return (error as FabricSpecInvalid).problems;
  }
  throw new Error('expected FabricSpecInvalid');
}

function field(problems: readonly Problem[], name: string): Problem {
  const found = problems.find((p) => p.field === name);
  if (!found) throw new Error(`no problem for ${name}: ${JSON.stringify(problems)}`);
  return found;
}

describe('validateSpec: provision and plan', () => {
  test('GIVEN a minimal spec WHEN validated THEN the action defaults to provision and the fabric is normalised', async () => {
    const fabric = await validateSpec(event({ spec }), harness().deps, config);
    expect(fabric).toMatchObject({
      action: 'provision',
      name: 'demo',
      region: 'us-east-2',
      clusterName: 'demo.example.com',
      execution: 'arn:aws:states:us-east-2:123456789012:execution:FabricProvisioner:run-1',
      stateBucket: 'fabricctl-state-123456789012-us-east-2',
    });
    expect(fabric.spec.zoneCount).toBe(3);
    expect(fabric.source).toBeUndefined();
  });

  test('GIVEN the default lock time WHEN validated THEN the lock expires 3 hours after the start, as ISO and epoch seconds', async () => {
    const fabric = await validateSpec(event({ spec }), harness().deps, config);
    expect(fabric.lock).toEqual({ expiresAt: '2030-01-01T03:00:00.000Z', ttl: Date.parse('2030-01-01T03:00:00.000Z') / 1000 });
  });

  test('GIVEN LOCK_SECONDS of 600 WHEN validated THEN the lock expires 10 minutes after the start', async () => {
    const fabric = await validateSpec(event({ spec }), harness().deps, { lockSeconds: 600 });
    expect(fabric.lock.expiresAt).toBe('2030-01-01T00:10:00.000Z');
  });

  test('GIVEN a bucket prefix WHEN validated THEN the state bucket name uses it', async () => {
    const fabric = await validateSpec(event({ spec }), harness().deps, { ...config, bucketPrefix: 'acme_state' });
    expect(fabric.stateBucket).toBe('acme-state-123456789012-us-east-2');
  });

  test('GIVEN a full spec WHEN validated THEN buildEnv carries every per-run value as a string', async () => {
    const fabric = await validateSpec(
      event({
        action: 'plan',
        spec: {
          ...spec,
          region: 'eu-west-1',
          network: { cidr: '10.20.0.0/16' },
          kubernetes: {
            version: '1.34.1',
            networking: 'calico',
            controlPlaneSize: 'm5.large',
            nodeSize: 't3.large',
            nodes: { min: 2, max: 4 },
          },
          access: { api: ['0.0.0.0/0', '2001:db8::/32'], ssh: ['203.0.113.7/32'] },
          tags: { team: 'platform' },
        },
      }),
      harness().deps,
      config,
    );
    expect(fabric.action).toBe('plan');
    expect(fabric.buildEnv).toEqual({
      FABRIC_NAME: 'demo',
      CLUSTER_NAME: 'demo.example.com',
      DOMAIN: 'example.com',
      FABRIC_REGION: 'eu-west-1',
      NETWORK_CIDR: '10.20.0.0/16',
      KUBERNETES_VERSION: '1.34.1',
      NETWORKING: 'calico',
      CONTROL_PLANE_SIZE: 'm5.large',
      NODE_SIZE: 't3.large',
      NODE_MIN: '2',
      NODE_MAX: '4',
      API_ACCESS: '0.0.0.0/0,2001:db8::/32',
      SSH_ACCESS: '203.0.113.7/32',
      TAGS_JSON: '{"team":"platform"}',
      KUBECONFIG_SECRET_NAME: 'fabricctl/demo/kubeconfig',
      NETWORK_STATE_KEY: 'fabrics/demo/network.tfstate',
      CLUSTER_STATE_KEY: 'fabrics/demo/cluster.tfstate',
      KOPS_STATE_KEY: 'fabrics/demo/kops',
      CLUSTER_INPUTS_KEY: 'fabrics/demo/cluster-inputs.json',
    });
    expect(fabric.stateBucket).toBe('fabricctl-state-123456789012-eu-west-1');
  });

  test('GIVEN a valid provision WHEN validated THEN only reads were made (nothing is created)', async () => {
    const h = harness();
    await validateSpec(event({ spec }), h.deps, config);
    expect(h.sent.map((c) => (c as object).constructor.name).sort()).toEqual(['DescribeRegionsCommand', 'GetCallerIdentityCommand']);
    // S3: the fabric's record only (its version, protection, lease; none here: no state bucket yet).
    expect([...h.s3.values()].flatMap((fake) => fake.sent.map((c) => (c as object).constructor.name))).toEqual(['GetObjectCommand']);
  });

  test('fails when provision has no spec', async () => {
    expect(field(await problemsOf(validateSpec(event({}), harness().deps, config)), 'spec').fix).toMatch(/provision needs the fabric spec/);
  });

  test('fails when plan has no spec', async () => {
    expect(field(await problemsOf(validateSpec(event({ action: 'plan' }), harness().deps, config)), 'spec').fix).toMatch(
      /plan needs the fabric spec/,
    );
  });

  test('fails when the input is not an object', async () => {
    expect(field(await problemsOf(validateSpec(event('demo'), harness().deps, config)), '(input)').received).toBe('"demo"');
  });

  test('fails when the action is unknown', async () => {
    expect(field(await problemsOf(validateSpec(event({ action: 'apply', spec }), harness().deps, config)), 'action').fix).toMatch(
      /provision, plan, destroy or extend/,
    );
  });

  test('fails when the input has an unknown field', async () => {
    expect(field(await problemsOf(validateSpec(event({ spec, force: true }), harness().deps, config)), 'force').fix).toMatch(
      /unknown field/,
    );
  });

  test('fails when a spec field is invalid, with the field path prefixed by spec.', async () => {
    const p = field(
      await problemsOf(validateSpec(event({ spec: { ...spec, network: { cidr: '8.8.0.0/16' } } }), harness().deps, config)),
      'spec.network.cidr',
    );
    expect(p.received).toBe('"8.8.0.0/16"');
  });

  test('fails when name, region or confirm are given for provision', async () => {
    const problems = await problemsOf(
      validateSpec(event({ spec, name: 'demo', region: 'us-east-2', confirm: 'demo' }), harness().deps, config),
    );
    expect(problems.map((p) => p.field).sort()).toEqual(['confirm', 'name', 'region']);
  });

  test('GIVEN several kinds of problem WHEN validated THEN all are reported in one FabricSpecInvalid', async () => {
    const problems = await problemsOf(
      validateSpec(
        event({ spec: { ...spec, region: 'xx-nowhere-1', zoneCount: 4 }, surprise: 1, source: { ...source, branch: 'main' } }),
        harness().deps,
        config,
      ),
    );
    expect(problems.map((p) => p.field).sort()).toEqual(['name', 'spec.region', 'spec.zoneCount', 'surprise']);
  });
});

describe('validateSpec: Kubernetes version of a recorded fabric', () => {
  const ZONES = ['us-east-2a', 'us-east-2b', 'us-east-2c'];
  /** A harness whose state bucket holds the fabric's record at `version`, with `status`. */
  function recordedAt(version: string, status: FabricRecord['status'] = 'READY'): { h: Harness; s3: FakeS3 } {
    const h = harness();
    const recorded = fabricOf({ name: 'demo', kubernetes: { version } });
    const s3 = new FakeS3('us-east-2');
    s3.addBucket(recorded.stateBucket).objects.set(stateKeys.record('demo'), JSON.stringify(recordOf(recorded, ZONES, status)));
    h.s3.set('us-east-2', s3);
    return { h, s3 };
  }
  const withVersion = (version: string) => ({ ...spec, kubernetes: { version } });

  test(
    'GIVEN a fabric recorded at 1.35.0 WHEN 1.36.4 is provisioned ' +
      'THEN the upgrade is accepted, from a read of the record and no write',
    async () => {
      const { h, s3 } = recordedAt('1.35.0');
      const fabric = await validateSpec(event({ spec: withVersion('1.36.4') }), h.deps, config);
      expect(fabric.buildEnv.KUBERNETES_VERSION).toBe('1.36.4');
      expect(s3.sent.filter((c) => c instanceof GetObjectCommand).map((c) => (c as GetObjectCommand).input.Key)).toEqual([
        stateKeys.record('demo'),
      ]);
      expect(s3.writes()).toEqual([]);
    },
  );

  test('GIVEN a fabric recorded at 1.35.0 WHEN a later 1.35 patch is planned THEN it is accepted', async () => {
    const { h } = recordedAt('1.35.0');
    expect((await validateSpec(event({ action: 'plan', spec: withVersion('1.35.9') }), h.deps, config)).spec.kubernetes.version).toBe(
      '1.35.9',
    );
  });

  test('fails when provision skips a minor (1.34.2 -> 1.36.4), naming the field, the value and the minor to take first', async () => {
    const { h } = recordedAt('1.34.2');
    const problems = await problemsOf(validateSpec(event({ spec: withVersion('1.36.4') }), h.deps, config));
    expect(problems).toEqual([
      {
        field: 'spec.kubernetes.version',
        received: '"1.36.4"',
        fix: 'upgrade one minor at a time (the fabric runs 1.34.2): use 1.35.x (e.g. 1.35.9) first, then 1.36.4',
      },
    ]);
  });

  test('fails when plan downgrades (1.36.4 -> 1.35.9), saying to keep 1.36.x or provision again', async () => {
    const { h } = recordedAt('1.36.4');
    const p = field(
      await problemsOf(validateSpec(event({ action: 'plan', spec: withVersion('1.35.9') }), h.deps, config)),
      'spec.kubernetes.version',
    );
    expect(p).toEqual({
      field: 'spec.kubernetes.version',
      received: '"1.35.9"',
      fix: 'downgrades are not supported (the fabric runs 1.36.4): keep 1.36.x (1.36.4 or a later patch) or destroy and provision again',
    });
  });

  test('GIVEN a fabric recorded DESTROYED at 1.36.4 WHEN 1.35.0 is provisioned THEN it is a new cluster and accepted', async () => {
    const { h } = recordedAt('1.36.4', 'DESTROYED');
    expect((await validateSpec(event({ spec: withVersion('1.35.0') }), h.deps, config)).spec.kubernetes.version).toBe('1.35.0');
  });

  test(
    'GIVEN a fabric whose last run FAILED at 1.36.4 WHEN 1.34.2 is provisioned ' + 'THEN it is refused as a downgrade of the recorded spec',
    async () => {
      const { h } = recordedAt('1.36.4', 'FAILED');
      expect(
        field(await problemsOf(validateSpec(event({ spec: withVersion('1.34.2') }), h.deps, config)), 'spec.kubernetes.version').fix,
      ).toMatch(/^downgrades are not supported/);
    },
  );
  describe('where the provision builds run (buildCompute)', () => {
    test('a fabric with no record is created on Lambda compute (it never rolls, so 15 minutes suffice)', async () => {
      expect((await validateSpec(event({ spec }), harness().deps, config)).buildCompute).toBe('lambda');
    });

    test('a fabric recorded DESTROYED is created again on Lambda compute', async () => {
      const { h } = recordedAt('1.36.4', 'DESTROYED');
      expect((await validateSpec(event({ spec }), h.deps, config)).buildCompute).toBe('lambda');
    });

    test.each(['READY', 'FAILED'] as const)(
      'a fabric recorded %s is updated on EC2 compute (a rolling update may outlast 15 minutes)',
      async (status) => {
        const { h } = recordedAt('1.35.0', status);
        expect((await validateSpec(event({ spec }), h.deps, config)).buildCompute).toBe('ec2');
      },
    );

    test('plan and destroy run on EC2 compute whatever the record says', async () => {
      expect((await validateSpec(event({ action: 'plan', spec }), harness().deps, config)).buildCompute).toBe('ec2');
      const { h } = recordedAt('1.36.4', 'READY');
      expect((await validateSpec(event({ action: 'destroy', spec, confirm: 'demo' }), h.deps, config)).buildCompute).toBe('ec2');
    });
  });
});

describe('validateSpec: region', () => {
  test('fails when the region does not exist, listing the regions that do', async () => {
    const p = field(
      await problemsOf(validateSpec(event({ spec: { ...spec, region: 'xx-nowhere-1' } }), harness().deps, config)),
      'spec.region',
    );
    expect(p.received).toBe('"xx-nowhere-1"');
    expect(p.fix).toMatch(/no such AWS region; use one of .*us-east-2/);
  });

  test('fails when the region is not enabled in the account', async () => {
    const h = harness({ optIn: { 'ap-east-1': 'not-opted-in' } });
    const p = field(await problemsOf(validateSpec(event({ spec: { ...spec, region: 'ap-east-1' } }), h.deps, config)), 'spec.region');
    expect(p.fix).toMatch(/not enabled/);
  });

  test('GIVEN an opted-in region WHEN validated THEN it is accepted', async () => {
    const h = harness({ optIn: { 'ap-east-1': 'opted-in' } });
    expect((await validateSpec(event({ spec: { ...spec, region: 'ap-east-1' } }), h.deps, config)).region).toBe('ap-east-1');
  });

  test('GIVEN a spec with another invalid field WHEN the region is unknown too THEN both are reported', async () => {
    const problems = await problemsOf(
      validateSpec(event({ spec: { ...spec, region: 'xx-nowhere-1', network: { cidr: 'x' } } }), harness().deps, config),
    );
    expect(problems.map((p) => p.field).sort()).toEqual(['spec.network.cidr', 'spec.region']);
  });
});

describe('validateSpec: destroy', () => {
  test('GIVEN a spec and the right confirm WHEN validated THEN the action is destroy', async () => {
    const fabric = await validateSpec(event({ action: 'destroy', spec, confirm: 'demo' }), harness().deps, config);
    expect(fabric.action).toBe('destroy');
    expect(fabric.name).toBe('demo');
  });

  test('fails when destroy has no confirm, saying what to pass', async () => {
    const p = field(await problemsOf(validateSpec(event({ action: 'destroy', spec }), harness().deps, config)), 'confirm');
    expect(p.received).toBe('nothing');
    expect(p.fix).toContain('"confirm": "demo"');
  });

  test('fails when confirm is the name before normalising', async () => {
    const p = field(await problemsOf(validateSpec(event({ action: 'destroy', spec, confirm: 'Demo' }), harness().deps, config)), 'confirm');
    expect(p.received).toBe('"Demo"');
  });

  test('GIVEN a name and no spec WHEN a record exists THEN its spec is used and the region defaults to us-east-2', async () => {
    const h = harness();
    const recorded = fabricOf({ name: 'demo', tags: { team: 'a' } });
    const s3 = new FakeS3('us-east-2');
    s3.addBucket(recorded.stateBucket).objects.set(
      stateKeys.record('demo'),
      JSON.stringify(recordOf(recorded, ['us-east-2a', 'us-east-2b', 'us-east-2c'])),
    );
    h.s3.set('us-east-2', s3);

    const fabric = await validateSpec(event({ action: 'destroy', name: 'Demo', confirm: 'demo' }), h.deps, config);

    expect(fabric.spec).toEqual(recorded.spec);
    expect(fabric.region).toBe('us-east-2');
    expect(s3.sent.filter((c) => c instanceof GetObjectCommand)).toHaveLength(1);
    expect(s3.writes()).toEqual([]);
  });

  test("GIVEN a name and a region WHEN a record exists there THEN it is read from that region's bucket", async () => {
    const h = harness();
    const recorded = fabricOf({ name: 'demo', region: 'eu-west-1' });
    const s3 = new FakeS3('eu-west-1');
    s3.addBucket('fabricctl-state-123456789012-eu-west-1').objects.set(
      stateKeys.record('demo'),
      JSON.stringify(recordOf(recorded, ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'])),
    );
    h.s3.set('eu-west-1', s3);

    const fabric = await validateSpec(event({ action: 'destroy', name: 'demo', region: 'eu-west-1', confirm: 'demo' }), h.deps, config);
    expect(fabric.region).toBe('eu-west-1');
    expect(fabric.stateBucket).toBe('fabricctl-state-123456789012-eu-west-1');
  });

  test('fails when destroy by name finds no record, naming the fabric and the region', async () => {
    const h = harness();
    h.s3.set('us-east-2', new FakeS3('us-east-2'));
    h.s3.get('us-east-2')?.addBucket('fabricctl-state-123456789012-us-east-2');
    const p = field(await problemsOf(validateSpec(event({ action: 'destroy', name: 'ghost', confirm: 'ghost' }), h.deps, config)), 'name');
    expect(p.fix).toMatch(/no fabric ghost is recorded in region us-east-2/);
  });

  test('fails when destroy by name finds no state bucket at all', async () => {
    const p = field(
      await problemsOf(
        validateSpec(event({ action: 'destroy', name: 'ghost', region: 'eu-west-1', confirm: 'ghost' }), harness().deps, config),
      ),
      'name',
    );
    expect(p.fix).toMatch(/no fabric ghost is recorded in region eu-west-1/);
  });

  test('fails when destroy by name has the wrong confirm and no record, reporting both', async () => {
    const problems = await problemsOf(validateSpec(event({ action: 'destroy', name: 'ghost', confirm: 'demo' }), harness().deps, config));
    expect(problems.map((p) => p.field).sort()).toEqual(['confirm', 'name']);
  });

  test('fails when destroy has neither a spec nor a name', async () => {
    expect(
      field(await problemsOf(validateSpec(event({ action: 'destroy', confirm: 'demo' }), harness().deps, config)), 'name').fix,
    ).toMatch(/destroy needs the fabric/);
  });

  test('fails when destroy gives a region with a spec', async () => {
    expect(
      field(
        await problemsOf(validateSpec(event({ action: 'destroy', spec, region: 'eu-west-1', confirm: 'demo' }), harness().deps, config)),
        'region',
      ).fix,
    ).toMatch(/only with name/);
  });

  test('fails when destroy gives a name that disagrees with the spec', async () => {
    expect(
      field(
        await problemsOf(validateSpec(event({ action: 'destroy', spec, name: 'other', confirm: 'demo' }), harness().deps, config)),
        'name',
      ).fix,
    ).toMatch(/disagrees/);
  });

  test('fails when the region given for destroy does not exist, without reading any bucket', async () => {
    const h = harness();
    const p = field(
      await problemsOf(validateSpec(event({ action: 'destroy', name: 'demo', region: 'xx-nowhere-1', confirm: 'demo' }), h.deps, config)),
      'region',
    );
    expect(p.fix).toMatch(/no such AWS region/);
    // S3: at most the fabric record's read (upgrades, protection, leases need it); no write.
    expect([...h.s3.values()].flatMap((fake) => fake.writes())).toEqual([]);
  });
});

describe('validateSpec: git source', () => {
  test('GIVEN a CodeCommit push without a spec WHEN validated THEN fabric.json at the commit is loaded and validated', async () => {
    const h = harness({ fabricJson: JSON.stringify({ name: 'demo', domain: 'example.com', zoneCount: 5 }) });
    const fabric = await validateSpec(event({ source }), h.deps, config);
    expect(h.loaded).toEqual([source]);
    expect(fabric.spec.zoneCount).toBe(5);
    expect(fabric.source).toEqual(source);
  });

  test('GIVEN a push with the spec in the input WHEN validated THEN nothing is loaded from the repository', async () => {
    const h = harness({ fabricJson: '{}' });
    await validateSpec(event({ spec, source }), h.deps, config);
    expect(h.loaded).toEqual([]);
  });

  test('GIVEN a full ref name refs/heads/fabric/demo WHEN validated THEN the branch matches', async () => {
    const fabric = await validateSpec(event({ spec, source: { ...source, branch: 'refs/heads/fabric/demo' } }), harness().deps, config);
    expect(fabric.name).toBe('demo');
  });

  test('fails when the branch is not fabric/<normalised name>, naming the branch', async () => {
    const p = field(
      await problemsOf(validateSpec(event({ spec, source: { ...source, branch: 'fabric/Demo' } }), harness().deps, config)),
      'name',
    );
    expect(p.fix).toMatch(/branch fabric\/Demo does not hold this fabric: .* lives on branch fabric\/demo/);
  });

  test('fails when a GitHub source comes without a spec', async () => {
    const p = field(
      await problemsOf(
        validateSpec(event({ source: { ...source, provider: 'github', repository: 'acme/fabrics' } }), harness().deps, config),
      ),
      'spec',
    );
    expect(p.fix).toMatch(/GitHub/);
  });

  test('fails when the commit has no fabric.json', async () => {
    const p = field(await problemsOf(validateSpec(event({ source }), harness().deps, config)), 'source.commit');
    expect(p.fix).toMatch(/no fabric.json/);
  });

  test('fails when fabric.json is not JSON', async () => {
    expect(field(await problemsOf(validateSpec(event({ source }), harness({ fabricJson: '{name:' }).deps, config)), 'spec').fix).toMatch(
      /not JSON/,
    );
  });

  test('fails when fabric.json is invalid, with the fields under spec.', async () => {
    const h = harness({ fabricJson: JSON.stringify({ name: 'demo', domain: 'example.com', network: { cidr: '8.8.0.0/16' } }) });
    expect(field(await problemsOf(validateSpec(event({ source }), h.deps, config)), 'spec.network.cidr').received).toBe('"8.8.0.0/16"');
  });

  test('fails when the source is incomplete', async () => {
    expect(
      field(await problemsOf(validateSpec(event({ spec, source: { ...source, commit: 'HEAD' } }), harness().deps, config)), 'source.commit')
        .received,
    ).toBe('"HEAD"');
  });
});

describe('executionInputSchema', () => {
  test('GIVEN a nested spec problem WHEN the whole input is parsed THEN the path starts with spec.', () => {
    const result = executionInputSchema.safeParse({ spec: { ...spec, network: { cidr: '8.8.0.0/16' } } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['spec', 'network', 'cidr']);
  });

  test('GIVEN an unknown field WHEN parsed THEN it is rejected', () => {
    expect(executionInputSchema.safeParse({ spec, dryRun: true }).success).toBe(false);
  });
});

describe('validateSpec: input the jobs cannot build fails here, before anything exists', () => {
  const readsOnly = ['DescribeRegionsCommand', 'GetCallerIdentityCommand'];

  test.each([
    [
      'a reserved tag key',
      { tags: { Name: 'web' } },
      'spec.tags.Name',
      '"Name"',
      'rename the key, e.g. "team" or "cost-center": fabricctl and kops set Name on every resource they create',
    ],
    [
      'a tag value kops cannot carry',
      { tags: { team: 'a,b' } },
      'spec.tags.team',
      '"a,b"',
      'remove "," from the value: kops takes tags as --cloud-labels key=value,key=value, so neither , nor = can be carried; ' +
        'AWS tags (IAM roles, load balancers, secrets) allow only letters, digits, spaces and _ . : / + - @',
    ],
    [
      'a zone of another region',
      { zones: ['us-east-2a', 'us-east-2b', 'us-east-21a'] },
      'spec.zones.2',
      '"us-east-21a"',
      'use a zone of region us-east-2: us-east-2 and one letter, such as us-east-2a',
    ],
    [
      'SSH open to everyone',
      { access: { ssh: ['0.0.0.0/0'] } },
      'spec.access.ssh.0',
      '"0.0.0.0/0"',
      'list only the ranges that need SSH, e.g. your office or VPN range 203.0.113.0/24, or leave access.ssh empty to keep SSH closed: ' +
        'SSH must not be open to the whole internet',
    ],
    [
      'an API CIDR with host bits',
      { access: { api: ['0.0.0.0/0', '10.0.0.1/16'] } },
      'spec.access.api.1',
      '"10.0.0.1/16"',
      'use 10.0.0.0/16, the network of this CIDR: the AWS provider refuses a CIDR with host bits set',
    ],
    [
      'a small control plane',
      { kubernetes: { controlPlaneSize: 't3.small' } },
      'spec.kubernetes.controlPlaneSize',
      '"t3.small"',
      'use size medium or larger for the control plane, e.g. t3.medium: ' +
        "each control-plane node runs etcd, the API server and kops's controllers, which do not fit in the 2 GiB or less of a small type",
    ],
    [
      'an unpublished Kubernetes patch',
      { kubernetes: { version: '1.35.99' } },
      'spec.kubernetes.version',
      '"1.35.99"',
      'use 1.35.0 to 1.35.9: 1.35.99 is not a Kubernetes release kops 1.36 is known to build ' +
        '(kops fetches its binaries when it builds the cluster)',
    ],
  ])('fails when the spec has %s, with only reads made', async (_, change, fieldName, received, fix) => {
    const h = harness();
    const problems = await problemsOf(validateSpec(event({ spec: { ...spec, ...change } }), h.deps, config));
    expect(problems).toEqual([{ field: fieldName, received, fix }]);
    expect(h.sent.map((c) => (c as object).constructor.name).every((n) => readsOnly.includes(n))).toBe(true);
    // S3: at most the fabric record's read (upgrades, protection, leases need it); no write.
    expect([...h.s3.values()].flatMap((fake) => fake.writes())).toEqual([]);
  });

  test('fails when a tag key is __proto__, which JSON.parse keeps and a record would drop', async () => {
    const input = JSON.parse('{"spec": {"name": "demo", "domain": "example.com", "tags": {"__proto__": "x"}}}') as unknown;
    expect(field(await problemsOf(validateSpec(event(input), harness().deps, config)), 'spec.tags.__proto__').received).toBe('"__proto__"');
  });

  test('fails when the execution input nests deeper than any spec, with a problem instead of a RangeError', async () => {
    const input = JSON.parse(
      `{"spec": {"name": "demo", "domain": "example.com", "tags": {"a": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}}`,
    ) as unknown;
    expect(await problemsOf(validateSpec(event(input), harness().deps, config))).toEqual([
      {
        field: 'spec.tags.a.0.0.0.0.0.0.0',
        received: 'a value nested more than 10 levels deep',
        fix: 'remove the nesting: a fabric spec nests at most 3 levels (kubernetes.nodes.min), see the spec reference in README.md',
      },
    ]);
  });

  test('fails when fabric.json at the commit nests deeper than any spec', async () => {
    const h = harness({ fabricJson: `{"name": "demo", "domain": "example.com", "extra": ${'['.repeat(100_000)}${']'.repeat(100_000)}}` });
    expect(field(await problemsOf(validateSpec(event({ source }), h.deps, config)), 'spec.extra.0.0.0.0.0.0.0.0.0').received).toBe(
      'a value nested more than 10 levels deep',
    );
  });

  test('GIVEN fabric.json with a UTF-8 byte order mark WHEN loaded from the commit THEN it is accepted', async () => {
    const h = harness({ fabricJson: `\ufeff${JSON.stringify({ name: 'demo', domain: 'example.com' })}` });
    expect((await validateSpec(event({ source }), h.deps, config)).name).toBe('demo');
  });

  test('fails when the name has non-ASCII letters, suggesting the ASCII name and not misreading the branch', async () => {
    const problems = await problemsOf(validateSpec(event({ spec: { ...spec, name: 'démo' }, source }), harness().deps, config));
    expect(problems).toEqual([
      {
        field: 'spec.name',
        received: '"démo"',
        fix: 'write the name in ASCII: "demo" ("é" would otherwise be dropped, naming another fabric)',
      },
    ]);
  });

  test('fails when destroy by name is given non-ASCII letters, instead of destroying another fabric', async () => {
    const h = harness();
    const problems = await problemsOf(validateSpec(event({ action: 'destroy', name: 'démo', confirm: 'dmo' }), h.deps, config));
    expect(problems).toEqual([
      { field: 'name', received: '"démo"', fix: 'write the name in ASCII: "demo" ("é" would otherwise be dropped, naming another fabric)' },
    ]);
    // S3: at most the fabric record's read (upgrades, protection, leases need it); no write.
    expect([...h.s3.values()].flatMap((fake) => fake.writes())).toEqual([]);
  });

  test('GIVEN a record whose spec older rules accepted WHEN destroyed by name THEN it is validated as recorded', async () => {
    const h = harness();
    const recorded = fabricOf({ name: 'demo' });
    const olderSpec = { ...recorded.spec, access: { api: ['10.0.0.1/16'], ssh: ['0.0.0.0/0'] }, tags: { Name: 'web' } };
    const s3 = new FakeS3('us-east-2');
    s3.addBucket(recorded.stateBucket).objects.set(
      stateKeys.record('demo'),
      JSON.stringify({ ...recordOf(recorded, ['us-east-2a', 'us-east-2b', 'us-east-2c']), spec: olderSpec }),
    );
    h.s3.set('us-east-2', s3);

    const fabric = await validateSpec(event({ action: 'destroy', name: 'demo', confirm: 'demo' }), h.deps, config);

    expect(fabric.spec.access).toEqual({ api: ['10.0.0.1/16'], ssh: ['0.0.0.0/0'] });
    expect(fabric.buildEnv.TAGS_JSON).toBe('{"Name":"web"}');
  });

  test.each([
    ['confirm', { action: 'destroy', name: 'demo', confirm: 5 }, '5', 'repeat the fabric\'s name as text, e.g. "confirm": "demo"'],
    ['name', { action: 'destroy', name: 5, confirm: 'demo' }, '5', 'name the fabric to destroy or extend as text, e.g. "demo"'],
    ['source.commit', { spec, source: { ...source, commit: 7 } }, '7', 'give the commit id, e.g. "a1b2c3d4e5f6"'],
  ])('fails when the envelope field %s has the wrong type, saying what to write', async (fieldName, input, received, fix) => {
    expect(field(await problemsOf(validateSpec(event(input), harness().deps, config)), fieldName)).toEqual({
      field: fieldName,
      received,
      fix,
    });
  });
});

describe('validateSpec: day 2 (protection, approvals, leases)', () => {
  /** A harness whose us-east-2 state bucket holds the record of `recorded` (spec overrides, record overrides). */
  function withRecord(specOverrides: Record<string, unknown>, recordOverrides: Record<string, unknown> = {}) {
    const h = harness();
    const recorded = fabricOf({ name: 'demo', ...specOverrides });
    const s3 = new FakeS3('us-east-2');
    s3.addBucket(recorded.stateBucket).objects.set(
      stateKeys.record('demo'),
      JSON.stringify({ ...recordOf(recorded, ['us-east-2a', 'us-east-2b', 'us-east-2c']), ...recordOverrides }),
    );
    h.s3.set('us-east-2', s3);
    return { h, s3 };
  }

  test('fails when a protected fabric is destroyed by name, saying to provision "protected": false first; nothing is written', async () => {
    const { h, s3 } = withRecord({ protected: true });
    const p = field(
      await problemsOf(validateSpec(event({ action: 'destroy', name: 'demo', confirm: 'demo' }), h.deps, config)),
      'spec.protected',
    );
    expect(p.fix).toBe(
      'fabric demo is protected: set "protected": false in its fabric.json and provision it (that run records the change), then destroy it',
    );
    expect(s3.writes()).toEqual([]);
  });

  test('fails when destroy sends an unprotected spec for a fabric recorded as protected (the record decides)', async () => {
    const { h } = withRecord({ protected: true });
    const p = field(await problemsOf(validateSpec(event({ action: 'destroy', spec, confirm: 'demo' }), h.deps, config)), 'spec.protected');
    expect(p.received).toBe('true');
  });

  test(
    'GIVEN a protected fabric WHEN provisioned ' +
      'THEN approval is required by default; "approve": "auto" in the spec lifts it, the input\'s "approve": "required" sets it',
    async () => {
      expect((await validateSpec(event({ spec: { ...spec, protected: true } }), harness().deps, config)).approval).toEqual({
        required: true,
        timeoutSeconds: 3600,
      });
      expect(
        (await validateSpec(event({ spec: { ...spec, protected: true, approve: 'auto' } }), harness().deps, config)).approval.required,
      ).toBe(false);
      expect((await validateSpec(event({ spec, approve: 'required' }), harness().deps, config)).approval.required).toBe(true);
      expect((await validateSpec(event({ spec }), harness().deps, config)).approval.required).toBe(false);
    },
  );

  test("GIVEN an approvalTimeout WHEN within the stack's THEN the run waits that long; fails when longer, naming the ceiling", async () => {
    const ceiling = { ...config, approvalTimeoutSeconds: 7200 };
    expect(
      (await validateSpec(event({ spec, approve: 'required', approvalTimeout: '30m' }), harness().deps, ceiling)).approval.timeoutSeconds,
    ).toBe(1800);
    const p = field(
      await problemsOf(validateSpec(event({ spec, approve: 'required', approvalTimeout: '3h' }), harness().deps, ceiling)),
      'approvalTimeout',
    );
    expect(p.fix).toBe("wait at most 2h (the stack's approvalTimeout; raise it there for longer waits)");
  });

  test.each([
    ['extendBy', { spec, extendBy: '24h' }, 'extendBy is only for extend; drop it for provision'],
    ['check', { action: 'destroy', name: 'demo', confirm: 'demo', check: 'drift' }, 'check is only for plan; drop it for destroy'],
    ['approve', { action: 'plan', spec, approve: 'required' }, 'approve is only for provision; drop it for plan'],
    ['confirm', { action: 'extend', name: 'demo', extendBy: '1h', confirm: 'demo' }, 'confirm is only for destroy; drop it for extend'],
  ])('fails when %s is given to another action, naming the action it belongs to', async (fieldName, input, fix) => {
    const { h } = withRecord({ expiresAfter: '72h' }, { lease: { expiresAt: '2030-01-02T00:00:00.000Z', expiresAfter: '72h' } });
    expect(field(await problemsOf(validateSpec(event(input), h.deps, config)), fieldName).fix).toBe(fix);
  });

  test(
    'GIVEN a provision with expiresAfter WHEN no lease is recorded ' +
      'THEN the lease ends that long after the start; a recorded lease with the same expiresAfter is kept',
    async () => {
      expect((await validateSpec(event({ spec: { ...spec, expiresAfter: '72h' } }), harness().deps, config)).lease).toEqual({
        expiresAt: '2030-01-04T00:00:00.000Z',
        expiresAfter: '72h',
      });
      const kept = { expiresAt: '2030-01-02T06:00:00.000Z', expiresAfter: '72h' };
      const { h } = withRecord({ expiresAfter: '72h' }, { lease: kept });
      expect((await validateSpec(event({ spec: { ...spec, expiresAfter: '72h' } }), h.deps, config)).lease).toEqual(kept);
      const { h: changed } = withRecord({ expiresAfter: '72h' }, { lease: kept });
      expect((await validateSpec(event({ spec: { ...spec, expiresAfter: '14d' } }), changed.deps, config)).lease).toEqual({
        expiresAt: '2030-01-15T00:00:00.000Z',
        expiresAfter: '14d',
      });
    },
  );

  test(
    'GIVEN extend by name WHEN the fabric has a lease ' + 'THEN it moves from its end (or from now, if past), with the recorded spec',
    async () => {
      const { h } = withRecord({ expiresAfter: '72h' }, { lease: { expiresAt: '2030-01-02T00:00:00.000Z', expiresAfter: '72h' } });
      const fabric = await validateSpec(event({ action: 'extend', name: 'demo', extendBy: '24h' }), h.deps, config);
      expect({ action: fabric.action, lease: fabric.lease, expiresAfter: fabric.spec.expiresAfter }).toEqual({
        action: 'extend',
        lease: { expiresAt: '2030-01-03T00:00:00.000Z', expiresAfter: '72h' },
        expiresAfter: '72h',
      });
      const { h: past } = withRecord({ expiresAfter: '72h' }, { lease: { expiresAt: '2029-12-31T00:00:00.000Z', expiresAfter: '72h' } });
      expect((await validateSpec(event({ action: 'extend', name: 'demo', extendBy: '2h' }), past.deps, config)).lease?.expiresAt).toBe(
        '2030-01-01T02:00:00.000Z',
      );
    },
  );

  test('fails when extend has no lease to move, no extendBy, or a spec instead of a name', async () => {
    const { h } = withRecord({});
    expect(
      field(await problemsOf(validateSpec(event({ action: 'extend', name: 'demo', extendBy: '24h' }), h.deps, config)), 'name').fix,
    ).toMatch(/has no lease \(no "expiresAfter" in its spec\)/);
    expect(field(await problemsOf(validateSpec(event({ action: 'extend', name: 'demo' }), h.deps, config)), 'extendBy').fix).toBe(
      'say how much longer the fabric may live, e.g. "extendBy": "24h"',
    );
    expect(field(await problemsOf(validateSpec(event({ action: 'extend', spec, extendBy: '1h' }), h.deps, config)), 'spec').fix).toMatch(
      /extend takes the fabric by name/,
    );
  });
});
