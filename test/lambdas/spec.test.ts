import { FabricSpecInvalid, Problem } from '../../lambdas/shared/errors';
import { clusterNameOf, DEFAULT_KUBERNETES_VERSION, normaliseName, parseFabricSpec } from '../../lambdas/shared/spec';

const base = { name: 'demo', domain: 'example.com' };

/** The problems of a spec that must be rejected. */
function problemsOf(input: unknown): readonly Problem[] {
  try {
    parseFabricSpec(input);
  } catch (error) {
    expect(error).toBeInstanceOf(FabricSpecInvalid);
    return (error as FabricSpecInvalid).problems;
  }
  throw new Error('expected the spec to be rejected');
}

function problemAt(input: unknown, field: string): Problem {
  const found = problemsOf(input).find((p) => p.field === field);
  if (!found) throw new Error(`no problem for ${field} in ${JSON.stringify(problemsOf(input))}`);
  return found;
}

describe('fabric spec: name', () => {
  test('GIVEN a mixed-case name with symbols WHEN parsed THEN it is lowercase a-z0-9 only', () => {
    expect(parseFabricSpec({ ...base, name: 'My_Fabric-1.Prod' }).name).toBe('myfabric1prod');
  });

  test('GIVEN a name and a domain WHEN parsed THEN the cluster name is <name>.<domain>', () => {
    expect(clusterNameOf(parseFabricSpec({ ...base, name: 'Demo' }))).toBe('demo.example.com');
  });

  test('GIVEN a name of exactly 32 characters after normalising WHEN parsed THEN it is accepted', () => {
    expect(parseFabricSpec({ ...base, name: `a${'-b'.repeat(31)}` }).name).toHaveLength(32);
  });

  test('fails when the name is longer than 32 characters after normalising', () => {
    expect(problemAt({ ...base, name: 'a'.repeat(33) }, 'name').fix).toMatch(/at most 32/);
  });

  test('fails when nothing is left of the name after normalising', () => {
    const p = problemAt({ ...base, name: '__--' }, 'name');
    expect(p.received).toBe('"__--"');
    expect(p.fix).toMatch(/at least one letter or digit/);
  });

  test('fails when the normalised name starts with a digit', () => {
    expect(problemAt({ ...base, name: '1fabric' }, 'name').fix).toMatch(/start with a letter/);
  });

  test('fails when the name is not a string', () => {
    expect(problemAt({ ...base, name: 42 }, 'name').received).toBe('42');
  });

  test('GIVEN normaliseName WHEN given digits THEN they are kept', () => {
    expect(normaliseName('K736.Net')).toBe('k736net');
  });
});

describe('fabric spec: domain and region', () => {
  test('GIVEN an upper-case domain with a trailing dot WHEN parsed THEN it is lowercase without the dot', () => {
    expect(parseFabricSpec({ ...base, domain: 'Example.COM.' }).domain).toBe('example.com');
  });

  test('fails when the domain is not a DNS name', () => {
    expect(problemAt({ ...base, domain: 'not a domain' }, 'domain').fix).toMatch(/Route 53 hosted zone/);
  });

  test('fails when the domain is missing', () => {
    expect(problemAt({ name: 'demo' }, 'domain').received).toBe('nothing');
  });

  test('fails when the region is not shaped like an AWS region', () => {
    expect(problemAt({ ...base, region: 'ohio' }, 'region').fix).toMatch(/us-east-2/);
  });
});

describe('fabric spec: defaults', () => {
  test('GIVEN only name and domain WHEN parsed THEN every default is filled in', () => {
    expect(parseFabricSpec(base)).toEqual({
      name: 'demo',
      domain: 'example.com',
      region: 'us-east-2',
      zoneCount: 3,
      network: { cidr: '10.10.0.0/16' },
      kubernetes: {
        version: DEFAULT_KUBERNETES_VERSION,
        networking: 'cilium',
        controlPlaneSize: 't3.medium',
        nodeSize: 't3.medium',
        nodes: { min: 3, max: 6 },
      },
      access: { api: ['0.0.0.0/0'], ssh: [] },
      tags: {},
    });
  });

  test('GIVEN no access.ssh WHEN parsed THEN SSH is closed (empty list)', () => {
    expect(parseFabricSpec({ ...base, access: { api: ['203.0.113.0/24'] } }).access.ssh).toEqual([]);
  });

  test('GIVEN a version with a v prefix WHEN parsed THEN the prefix is dropped', () => {
    expect(parseFabricSpec({ ...base, kubernetes: { version: 'v1.34.2' } }).kubernetes.version).toBe('1.34.2');
  });
});

describe('fabric spec: network CIDR', () => {
  test.each(['10.0.0.0/16', '172.16.0.0/20', '192.168.0.0/22', '10.200.4.0/22'])('GIVEN private %s WHEN parsed THEN accepted', (cidr) => {
    expect(parseFabricSpec({ ...base, network: { cidr } }).network.cidr).toBe(cidr);
  });

  test('fails when the CIDR is public', () => {
    expect(problemAt({ ...base, network: { cidr: '8.8.0.0/16' } }, 'network.cidr').fix).toMatch(/RFC 1918/);
  });

  test('fails when the CIDR runs past a private range (172.31.0.0/16 is private, 172.32.0.0/16 is not)', () => {
    expect(parseFabricSpec({ ...base, network: { cidr: '172.31.0.0/16' } }).network.cidr).toBe('172.31.0.0/16');
    expect(problemAt({ ...base, network: { cidr: '172.32.0.0/16' } }, 'network.cidr').fix).toMatch(/private/);
  });

  test('fails when the prefix is wider than /16', () => {
    expect(problemAt({ ...base, network: { cidr: '10.0.0.0/15' } }, 'network.cidr').fix).toMatch(/\/16 to \/22/);
  });

  test('fails when the prefix is narrower than /22', () => {
    expect(problemAt({ ...base, network: { cidr: '10.0.0.0/23' } }, 'network.cidr').fix).toMatch(/\/16 to \/22/);
  });

  test('fails when host bits are set, and the fix names the aligned CIDR', () => {
    const p = problemAt({ ...base, network: { cidr: '10.10.5.0/16' } }, 'network.cidr');
    expect(p.received).toBe('"10.10.5.0/16"');
    expect(p.fix).toMatch(/use 10\.10\.0\.0\/16/);
  });

  test('fails when the CIDR is not a CIDR, with one problem and no misleading prefix complaint', () => {
    const problems = problemsOf({ ...base, network: { cidr: '10.10.0.0' } });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.fix).toMatch(/IPv4 CIDR/);
  });

  test('fails when an access CIDR is invalid', () => {
    expect(problemAt({ ...base, access: { api: ['300.0.0.0/8'] } }, 'access.api.0').received).toBe('"300.0.0.0/8"');
  });

  test('fails when the API access list is empty', () => {
    expect(problemAt({ ...base, access: { api: [] } }, 'access.api').fix).toMatch(/at least one CIDR/);
  });
});

describe('fabric spec: zones', () => {
  test('GIVEN three pinned zones WHEN parsed THEN zoneCount is 3', () => {
    const spec = parseFabricSpec({ ...base, zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'] });
    expect(spec.zoneCount).toBe(3);
    expect(spec.zones).toEqual(['us-east-2a', 'us-east-2b', 'us-east-2c']);
  });

  test('GIVEN zoneCount 5 WHEN parsed THEN it is kept', () => {
    expect(parseFabricSpec({ ...base, zoneCount: 5 }).zoneCount).toBe(5);
  });

  test('fails when zoneCount is even (etcd quorum)', () => {
    expect(problemAt({ ...base, zoneCount: 4 }, 'zoneCount').fix).toMatch(/3 or 5/);
  });

  test('fails when the number of pinned zones is not 3 or 5', () => {
    expect(problemAt({ ...base, zones: ['us-east-2a', 'us-east-2b'] }, 'zones').fix).toMatch(/3 or 5/);
  });

  test('fails when a pinned zone repeats', () => {
    expect(problemAt({ ...base, zones: ['us-east-2a', 'us-east-2a', 'us-east-2b'] }, 'zones').fix).toMatch(/must not repeat/);
  });

  test('fails when a pinned zone is in another region', () => {
    expect(problemAt({ ...base, zones: ['us-east-2a', 'us-east-2b', 'us-west-2c'] }, 'zones').fix).toMatch(/us-west-2c is not in region us-east-2/);
  });

  test('fails when zoneCount disagrees with the pinned zones', () => {
    expect(problemAt({ ...base, zoneCount: 5, zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'] }, 'zoneCount').fix).toMatch(/disagrees/);
  });

  test('fails when a zone name is not shaped like a zone', () => {
    expect(problemAt({ ...base, zones: ['us-east-2', 'us-east-2b', 'us-east-2c'] }, 'zones.0').fix).toMatch(/us-east-2a/);
  });
});

describe('fabric spec: kubernetes, tags and unknown fields', () => {
  test('fails when the Kubernetes minor version is outside what kops 1.36 builds', () => {
    expect(problemAt({ ...base, kubernetes: { version: '1.20.0' } }, 'kubernetes.version').fix).toMatch(/1\.30\.x to 1\.36\.x/);
  });

  test('fails when the networking is not a kops networking', () => {
    expect(problemAt({ ...base, kubernetes: { networking: 'weave' } }, 'kubernetes.networking').received).toBe('"weave"');
  });

  test('fails when nodes.min exceeds nodes.max', () => {
    expect(problemAt({ ...base, kubernetes: { nodes: { min: 5, max: 2 } } }, 'kubernetes.nodes').fix).toMatch(/min must not exceed max/);
  });

  test('fails when a tag key uses the reserved aws: prefix', () => {
    const p = problemAt({ ...base, tags: { 'aws:owner': 'x' } }, 'tags.aws:owner');
    expect(p.received).toBe('"aws:owner"');
    expect(p.fix).toMatch(/reserved by AWS/);
  });

  test('fails when a top-level field is unknown, naming it', () => {
    const p = problemAt({ ...base, zonecount: 3 }, 'zonecount');
    expect(p.received).toBe('3');
    expect(p.fix).toMatch(/unknown field/);
  });

  test('fails when a nested field is unknown, naming its path', () => {
    expect(problemAt({ ...base, network: { cidr: '10.10.0.0/16', nat: true } }, 'network.nat').fix).toMatch(/unknown field/);
  });

  test('fails when a field has the wrong type', () => {
    expect(problemAt({ ...base, kubernetes: { nodes: { min: 'three' } } }, 'kubernetes.nodes.min').received).toBe('"three"');
  });

  test('fails when the spec is not an object', () => {
    expect(problemsOf('demo')).toHaveLength(1);
  });

  test('GIVEN a spec with many problems WHEN parsed THEN each problem names the field, the value received and the fix', () => {
    const problems = problemsOf({ name: '9', domain: 'x', region: 'mars', zoneCount: 2, network: { cidr: '8.8.8.0/24' }, extra: 1 });
    expect(problems.map((p) => p.field).sort()).toEqual(['domain', 'extra', 'name', 'network.cidr', 'region', 'zoneCount']);
    for (const p of problems) {
      expect(p.field).not.toBe('');
      expect(p.received).not.toBe('');
      expect(p.fix.length).toBeGreaterThan(10);
    }
  });

  test('GIVEN a rejected spec WHEN the error is raised THEN its name is FabricSpecInvalid and the message lists every field', () => {
    try {
      parseFabricSpec({ name: '', domain: 'x' });
      throw new Error('expected a rejection');
    } catch (error) {
      expect((error as Error).name).toBe('FabricSpecInvalid');
      expect((error as Error).message).toMatch(/^name: received ""; /m);
      expect((error as Error).message).toMatch(/^domain: received "x"; /m);
    }
  });
});
