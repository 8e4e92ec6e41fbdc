import { FabricSpecInvalid, Problem } from '../../lib/domain/errors';
import {
  clusterNameOf,
  DEFAULT_KUBERNETES_VERSION,
  KUBERNETES_RELEASES,
  MAX_TAGS,
  nameProblem,
  normaliseName,
  parseFabricSpec,
  recordedSpecSchema,
} from '../../lib/domain/spec';
import { MAX_SPEC_DEPTH, nestingProblem, parseSpecJson } from '../../lib/domain/spec-document';

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

/** Texts zod writes when a schema gives none: a message must never be one of these. */
const ZOD_DEFAULT_TEXT = /Invalid input|Invalid option|expected \w+, received|Too (big|small)|Invalid key|Unrecognized key/;

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
    expect(problemAt({ ...base, name: 'a'.repeat(33) }, 'name')).toEqual({
      field: 'name',
      received: `"${'a'.repeat(33)}"`,
      fix: 'shorten the name to at most 32 letters and digits (it has 33 after lowercasing and dropping everything but a-z and 0-9)',
    });
  });

  test('fails when nothing is left of the name after normalising', () => {
    expect(problemAt({ ...base, name: '__--' }, 'name')).toEqual({
      field: 'name',
      received: '"__--"',
      fix: 'use at least one letter a-z, e.g. "demo" (a name keeps only a-z and 0-9 after lowercasing)',
    });
  });

  test('fails when the normalised name starts with a digit', () => {
    expect(problemAt({ ...base, name: '1fabric' }, 'name').fix).toBe(
      'start the name with a letter a-z (after normalising it is "1fabric")',
    );
  });

  test('fails when the name is sg (or S-G): its security group, sg-cluster, is a name AWS refuses', () => {
    for (const name of ['sg', 'S-G'])
      expect(problemAt({ ...base, name }, 'name').fix).toBe(
        'pick another name: the fabric\'s security group would be "sg-cluster", and AWS refuses group names starting with "sg-"',
      );
    expect(parseFabricSpec({ ...base, name: 'sgx' }).name).toBe('sgx');
  });

  test('fails when the name is not a string', () => {
    expect(problemAt({ ...base, name: 42 }, 'name')).toEqual({ field: 'name', received: '42', fix: 'write the name as text, e.g. "demo"' });
  });

  test('GIVEN normaliseName WHEN given digits THEN they are kept', () => {
    expect(normaliseName('K736.Net')).toBe('k736net');
  });

  // Each is refused with its ASCII spelling instead of losing letters (démo is not dmo).
  test.each([
    ['démo', 'demo', '"é"'],
    ['de\u0301mo', 'demo', '"é"'],
    ['Straße-1', 'strasse1', '"ß"'],
    ['Øresund', 'oresund', '"Ø"'],
    ['Ｄemo', 'demo', '"Ｄ"'],
    ['café_prod', 'cafeprod', '"é"'],
  ])('fails when the name %j has non-ASCII letters, suggesting %j', (raw, suggestion, letters) => {
    expect(problemAt({ ...base, name: raw }, 'name')).toEqual({
      field: 'name',
      received: JSON.stringify(raw),
      fix: `write the name in ASCII: "${suggestion}" (${letters} would otherwise be dropped, naming another fabric)`,
    });
  });

  test('fails when the name has letters with no ASCII spelling, saying which', () => {
    expect(problemAt({ ...base, name: 'кластер' }, 'name').fix).toBe(
      'write the name in ASCII letters a-z and digits 0-9 ("к", "л", "а", "с", "т", "е", "р" cannot be part of a fabric name)',
    );
  });

  test('GIVEN an ASCII name WHEN nameProblem checks it THEN there is nothing to fix', () => {
    expect(nameProblem('Demo-1')).toBeUndefined();
  });
});

describe('fabric spec: domain and region', () => {
  test('GIVEN an upper-case domain with a trailing dot WHEN parsed THEN it is lowercase without the dot', () => {
    expect(parseFabricSpec({ ...base, domain: 'Example.COM.' }).domain).toBe('example.com');
  });

  test('fails when the domain is not a DNS name', () => {
    expect(problemAt({ ...base, domain: 'not a domain' }, 'domain').fix).toBe(
      'use a DNS domain such as example.com: the name of a public Route 53 hosted zone in this account',
    );
  });

  test('fails when the domain is missing', () => {
    expect(problemAt({ name: 'demo' }, 'domain')).toEqual({
      field: 'domain',
      received: 'nothing',
      fix: 'add "domain", e.g. "example.com": the public Route 53 hosted zone the cluster is named under',
    });
  });

  test('fails when the region is not shaped like an AWS region', () => {
    expect(problemAt({ ...base, region: 'ohio' }, 'region')).toEqual({
      field: 'region',
      received: '"ohio"',
      fix: 'use an AWS region name such as us-east-2',
    });
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
      protected: false,
    });
  });

  test('GIVEN a lease WHEN parsed THEN kept; one outside 1h..90d, bad text or on a protected fabric fails with the fix', () => {
    expect(parseFabricSpec({ ...base, expiresAfter: '72h' }).expiresAfter).toBe('72h');
    const fixOf = (extra: Record<string, unknown>) => {
      try {
        parseFabricSpec({ ...base, ...extra });
      } catch (error) {
        return (error as { problems: Array<{ field: string; fix: string }> }).problems.map((p) => `${p.field}: ${p.fix}`);
      }
      return [];
    };
    expect(fixOf({ expiresAfter: '30m' })).toEqual(['expiresAfter: use a lease from 1h to 90d']);
    expect(fixOf({ expiresAfter: '3 days' })).toEqual([
      'expiresAfter: write a whole number and a unit (m, h or d), such as "72h" or "14d"',
    ]);
    expect(fixOf({ protected: true, expiresAfter: '72h' })).toEqual([
      'expiresAfter: drop expiresAfter or set protected to false: a protected fabric is never destroyed automatically',
    ]);
    expect(fixOf({ approve: 'maybe' })).toEqual(['approve: use "required" (stop after the plan for approval) or "auto"']);
  });

  test('GIVEN no access.ssh WHEN parsed THEN SSH is closed (empty list)', () => {
    expect(parseFabricSpec({ ...base, access: { api: ['0.0.0.0/0', '::/0'] } }).access.ssh).toEqual([]);
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
    expect(problemAt({ ...base, network: { cidr: '8.8.0.0/16' } }, 'network.cidr').fix).toBe(
      'use a private range (RFC 1918): inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16',
    );
  });

  test('fails when the CIDR runs past a private range (172.31.0.0/16 is private, 172.32.0.0/16 is not)', () => {
    expect(parseFabricSpec({ ...base, network: { cidr: '172.31.0.0/16' } }).network.cidr).toBe('172.31.0.0/16');
    expect(problemAt({ ...base, network: { cidr: '172.32.0.0/16' } }, 'network.cidr').fix).toMatch(/^use a private range/);
  });

  test('fails when the prefix is wider than /16', () => {
    expect(problemAt({ ...base, network: { cidr: '10.0.0.0/15' } }, 'network.cidr').fix).toBe(
      'use a prefix from /16 to /22 (room for one subnet per zone, and growth); got /15',
    );
  });

  test('fails when the prefix is narrower than /22', () => {
    expect(problemAt({ ...base, network: { cidr: '10.0.0.0/23' } }, 'network.cidr').fix).toBe(
      'use a prefix from /16 to /22 (room for one subnet per zone, and growth); got /23',
    );
  });

  test('fails when host bits are set, and the fix names the aligned CIDR', () => {
    expect(problemAt({ ...base, network: { cidr: '10.10.5.0/16' } }, 'network.cidr')).toEqual({
      field: 'network.cidr',
      received: '"10.10.5.0/16"',
      fix: 'use 10.10.0.0/16: the host bits of 10.10.5.0/16 are set',
    });
  });

  test('fails when the CIDR is not a CIDR, with one problem and no misleading prefix complaint', () => {
    expect(problemsOf({ ...base, network: { cidr: '10.10.0.0' } })).toEqual([
      { field: 'network.cidr', received: '"10.10.0.0"', fix: 'use a private IPv4 CIDR such as 10.10.0.0/16' },
    ]);
  });
});

describe('fabric spec: access CIDRs', () => {
  test('GIVEN IPv4 and IPv6 networks WHEN parsed THEN accepted as written', () => {
    const access = { api: ['203.0.113.0/24', '2001:db8::/32', '0.0.0.0/0'], ssh: ['198.51.100.7/32', '2001:db8:0:1::/64'] };
    expect(parseFabricSpec({ ...base, access }).access).toEqual(access);
  });

  test.each([
    ['api', '10.0.0.1/16', 'use 10.0.0.0/16, the network of this CIDR: the AWS provider refuses a CIDR with host bits set'],
    ['api', '203.0.113.7/24', 'use 203.0.113.0/24, the network of this CIDR: the AWS provider refuses a CIDR with host bits set'],
    ['ssh', '2001:db8::1/32', 'use 2001:db8::/32, the network of this CIDR: the AWS provider refuses a CIDR with host bits set'],
    ['api', '2001:DB8::/32', 'write it as 2001:db8::/32: the AWS provider accepts a CIDR only in that spelling'],
    ['api', '2001:0db8:0:0:0:0:0:0/64', 'write it as 2001:db8::/64: the AWS provider accepts a CIDR only in that spelling'],
    ['api', '300.0.0.0/8', 'use a CIDR such as 203.0.113.0/24 or 2001:db8::/32'],
    ['api', '10.0.0.0', 'use a CIDR such as 203.0.113.0/24 or 2001:db8::/32'],
    ['api', '10.0.0.0/33', 'use a CIDR such as 203.0.113.0/24 or 2001:db8::/32'],
    ['api', '::ffff:10.0.0.0/104', 'use a CIDR such as 203.0.113.0/24 or 2001:db8::/32'],
  ])('fails when access.%s lists %s', (list, cidr, fix) => {
    expect(problemAt({ ...base, access: { [list]: [cidr] } }, `access.${list}.0`)).toEqual({
      field: `access.${list}.0`,
      received: JSON.stringify(cidr),
      fix,
    });
  });

  test.each(['0.0.0.0/0', '::/0'])('fails when SSH is open to the whole internet (%s)', (cidr) => {
    expect(problemAt({ ...base, access: { ssh: [cidr] } }, 'access.ssh.0')).toEqual({
      field: 'access.ssh.0',
      received: JSON.stringify(cidr),
      fix:
        'list only the ranges that need SSH, e.g. your office or VPN range 203.0.113.0/24, ' +
        'or leave access.ssh empty to keep SSH closed: SSH must not be open to the whole internet',
    });
  });

  test.each(['api', 'ssh'])('fails when access.%s lists a CIDR twice, naming the first', (list) => {
    expect(problemAt({ ...base, access: { [list]: ['203.0.113.0/24', '198.51.100.0/24', '203.0.113.0/24'] } }, `access.${list}.2`)).toEqual(
      {
        field: `access.${list}.2`,
        received: '"203.0.113.0/24"',
        fix: `remove the duplicate: 203.0.113.0/24 is already access.${list}.0 (AWS refuses a duplicate security group rule)`,
      },
    );
  });

  test('fails when the API access list leaves out 0.0.0.0/0 (empty or narrowed): the orchestrator could not reach the API', () => {
    const keep =
      "keep 0.0.0.0/0 in access.api: fabricctl's readiness check and kops's rolling-update validation reach the API from AWS " +
      "addresses outside the fabric's VPC, which change, so a narrower list stalls every provision; " +
      'the API still authenticates every request';
    expect(problemAt({ ...base, access: { api: [] } }, 'access.api').fix).toBe(keep);
    expect(problemAt({ ...base, access: { api: ['203.0.113.0/24'] } }, 'access.api').fix).toBe(keep);
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
    expect(problemAt({ ...base, zoneCount: 4 }, 'zoneCount').fix).toBe(
      'use 3 or 5: an odd number of control-plane nodes keeps etcd quorum',
    );
  });

  test('fails when the number of pinned zones is not 3 or 5', () => {
    expect(problemAt({ ...base, zones: ['us-east-2a', 'us-east-2b'] }, 'zones').fix).toBe(
      'list 3 or 5 zones (an odd count keeps etcd quorum); got 2',
    );
  });

  test('fails when a pinned zone repeats, naming the first', () => {
    expect(problemAt({ ...base, zones: ['us-east-2a', 'us-east-2a', 'us-east-2b'] }, 'zones.1')).toEqual({
      field: 'zones.1',
      received: '"us-east-2a"',
      fix: 'remove the repeated zone: us-east-2a is already zones.0',
    });
  });

  // A zone is its region and one letter: us-east-21a starts with "us-east-2" but is not one of its zones.
  test.each([
    ['us-east-2', 'us-east-21a'],
    ['us-east-2', 'us-west-2c'],
    ['us-east-2', 'us-east-1a'],
    ['eu-west-1', 'eu-west-12b'],
  ])('fails when region %s is given zone %s', (region, zone) => {
    const zones = [`${region}a`, `${region}b`, zone];
    expect(problemAt({ ...base, region, zones }, 'zones.2')).toEqual({
      field: 'zones.2',
      received: JSON.stringify(zone),
      fix: `use a zone of region ${region}: ${region} and one letter, such as ${region}a`,
    });
  });

  test('fails when zoneCount disagrees with the pinned zones', () => {
    expect(problemAt({ ...base, zoneCount: 5, zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'] }, 'zoneCount').fix).toBe(
      'drop zoneCount or the pinned zones: zoneCount 5 disagrees with the 3 zones listed',
    );
  });

  // Local Zones and Wavelength Zones are not supported: only the region's availability zones.
  test.each(['us-east-2', 'us-east-2-lax-1a', 'us-east-2-wl1-chi-wlz-1', 'US-EAST-2A', 'use2-az1'])(
    'fails when a zone name is %s, not an availability zone name',
    (zone) => {
      expect(problemAt({ ...base, zones: [zone, 'us-east-2b', 'us-east-2c'] }, 'zones.0')).toEqual({
        field: 'zones.0',
        received: JSON.stringify(zone),
        fix: 'use an availability zone name: the region and one letter, such as us-east-2a',
      });
    },
  );
});

describe('fabric spec: Kubernetes version', () => {
  const releases = Object.entries(KUBERNETES_RELEASES).flatMap(([minor, patch]) => [`1.${minor}.0`, `1.${minor}.${patch}`]);

  test.each(releases)('GIVEN %s, a release kops 1.36 builds, WHEN parsed THEN accepted', (version) => {
    expect(parseFabricSpec({ ...base, kubernetes: { version } }).kubernetes.version).toBe(version);
  });

  test('GIVEN the releases table WHEN read THEN it holds exactly the minors 1.30 to 1.36', () => {
    expect(Object.keys(KUBERNETES_RELEASES).map(Number)).toEqual([30, 31, 32, 33, 34, 35, 36]);
  });

  test.each([
    [
      '1.35.10',
      'use 1.35.0 to 1.35.9: 1.35.10 is not a Kubernetes release kops 1.36 is known to build ' +
        '(kops fetches its binaries when it builds the cluster)',
    ],
    [
      '1.30.15',
      'use 1.30.0 to 1.30.14: 1.30.15 is not a Kubernetes release kops 1.36 is known to build ' +
        '(kops fetches its binaries when it builds the cluster)',
    ],
    [
      '1.29.0',
      'use a release kops 1.36 builds (Kubernetes 1.30 to 1.36): 1.30.0 to 1.30.14, 1.31.0 to 1.31.14, 1.32.0 to 1.32.13, ' +
        '1.33.0 to 1.33.10, 1.34.0 to 1.34.9, 1.35.0 to 1.35.9, 1.36.0 to 1.36.4; e.g. 1.36.4',
    ],
    [
      '1.37.0',
      'use a release kops 1.36 builds (Kubernetes 1.30 to 1.36): 1.30.0 to 1.30.14, 1.31.0 to 1.31.14, 1.32.0 to 1.32.13, ' +
        '1.33.0 to 1.33.10, 1.34.0 to 1.34.9, 1.35.0 to 1.35.9, 1.36.0 to 1.36.4; e.g. 1.36.4',
    ],
    ['1.35', 'use a Kubernetes release, major.minor.patch, such as 1.35.0'],
    ['1.35.0-rc.1', 'use a Kubernetes release, major.minor.patch, such as 1.35.0'],
    ['1.35.01', 'use a Kubernetes release, major.minor.patch, such as 1.35.0'],
    ['latest', 'use a Kubernetes release, major.minor.patch, such as 1.35.0'],
  ])('fails when the Kubernetes version is %s', (version, fix) => {
    expect(problemAt({ ...base, kubernetes: { version } }, 'kubernetes.version')).toEqual({
      field: 'kubernetes.version',
      received: JSON.stringify(version),
      fix,
    });
  });
});

describe('fabric spec: instance types and nodes', () => {
  test.each([
    't3.medium',
    'm7g.large',
    'c6in.2xlarge',
    'c7i-flex.large',
    'x2iedn.16xlarge',
    'm7i.metal-24xl',
    'u-6tb1.112xlarge',
    'mac2-m2pro.metal',
  ])('GIVEN %s WHEN used for both roles THEN accepted', (type) => {
    expect(parseFabricSpec({ ...base, kubernetes: { controlPlaneSize: type, nodeSize: type } }).kubernetes).toMatchObject({
      controlPlaneSize: type,
      nodeSize: type,
    });
  });

  test.each(['t3.nano', 't4g.micro', 't3a.small'])('GIVEN %s WHEN used for the nodes THEN accepted', (type) => {
    expect(parseFabricSpec({ ...base, kubernetes: { nodeSize: type } }).kubernetes.nodeSize).toBe(type);
  });

  test.each(['t3', 'T3.medium', 't3.huge', 't3.Large', 'medium', 't3.2large', 'm5..large'])('fails when the node size is %s', (type) => {
    expect(problemAt({ ...base, kubernetes: { nodeSize: type } }, 'kubernetes.nodeSize')).toEqual({
      field: 'kubernetes.nodeSize',
      received: JSON.stringify(type),
      fix: 'use an EC2 instance type, family.size, such as t3.medium, m7g.large or c6in.2xlarge',
    });
  });

  test.each([
    ['t3.nano', 'nano'],
    ['t3.micro', 'micro'],
    ['t3.small', 'small'],
    ['t4g.small', 'small'],
  ])('fails when the control plane is %s', (type, size) => {
    expect(problemAt({ ...base, kubernetes: { controlPlaneSize: type } }, 'kubernetes.controlPlaneSize')).toEqual({
      field: 'kubernetes.controlPlaneSize',
      received: JSON.stringify(type),
      fix:
        `use size medium or larger for the control plane, e.g. t3.medium: ` +
        `each control-plane node runs etcd, the API server and kops's controllers, ` +
        `which do not fit in the 2 GiB or less of a ${size} type`,
    });
  });

  test('fails when the networking is not a kops networking', () => {
    expect(problemAt({ ...base, kubernetes: { networking: 'weave' } }, 'kubernetes.networking')).toEqual({
      field: 'kubernetes.networking',
      received: '"weave"',
      fix:
        'use one of the networking options kops 1.36 offers: ' +
        'kubenet, external, flannel-vxlan, flannel, flannel-udp, calico, kube-router, ' +
        'amazonvpc, cilium, cilium-etcd, kindnet, cni (cilium when left out)',
    });
  });

  test('fails when nodes.min exceeds nodes.max', () => {
    expect(problemAt({ ...base, kubernetes: { nodes: { min: 5, max: 2 } } }, 'kubernetes.nodes.min')).toEqual({
      field: 'kubernetes.nodes.min',
      received: '5',
      fix: 'lower nodes.min to nodes.max (2) or less, or raise nodes.max to 5 or more',
    });
  });
});

describe('fabric spec: tags', () => {
  test('GIVEN tags with spaces, Unicode letters and every allowed symbol WHEN parsed THEN kept as written', () => {
    const tags = { team: 'platform', 'cost-center': 'k8s 1', Équipe: 'Données', 'a_b.c:d/e+f@g': 'x-y_z.1:2/3+4@5', empty: '' };
    expect(parseFabricSpec({ ...base, tags }).tags).toEqual(tags);
  });

  test(`GIVEN ${MAX_TAGS} tags WHEN parsed THEN accepted`, () => {
    const tags = Object.fromEntries(Array.from({ length: MAX_TAGS }, (_, i) => [`tag${i}`, 'x']));
    expect(Object.keys(parseFabricSpec({ ...base, tags }).tags)).toHaveLength(MAX_TAGS);
  });

  test('GIVEN a key of 128 and a value of 256 characters, counted as code points WHEN parsed THEN accepted', () => {
    const tags = { ['𝒜'.repeat(128)]: '𝒜'.repeat(256) };
    expect(parseFabricSpec({ ...base, tags }).tags).toEqual(tags);
  });

  const rename = 'rename the key, e.g. "team" or "cost-center": ';
  const carriedByAws = 'AWS tags (IAM roles, load balancers, secrets) allow only letters, digits, spaces and _ . : / + - @';
  const cloudLabels = 'kops takes tags as --cloud-labels key=value,key=value, so neither , nor = can be carried; ';
  test.each([
    ['Name', `${rename}fabricctl and kops set Name on every resource they create`],
    ['name', `${rename}fabricctl and kops set Name on every resource they create (IAM treats "name" and "Name" as one key)`],
    ['KubernetesCluster', `${rename}kops sets KubernetesCluster to the cluster name`],
    [
      'kubernetes.io/cluster/demo.example.com',
      'rename the key so it does not start with "kubernetes.io/": ' +
        "kops and Kubernetes tag the cluster's resources with kubernetes.io/cluster/<cluster> and kubernetes.io/role/...",
    ],
    [
      'Kubernetes.io/role/elb',
      'rename the key so it does not start with "kubernetes.io/": ' +
        "kops and Kubernetes tag the cluster's resources with kubernetes.io/cluster/<cluster> and kubernetes.io/role/...",
    ],
    [
      'k8s.io/role/node',
      'rename the key so it does not start with "k8s.io/": ' +
        'kops tags instance groups with k8s.io/role/... and k8s.io/cluster-autoscaler/...',
    ],
    [
      'kops.k8s.io/instancegroup',
      'rename the key so it does not start with "kops.k8s.io/": kops tags instance groups with kops.k8s.io/instancegroup',
    ],
    [
      'aws-node-termination-handler/managed',
      'rename the key so it does not start with "aws-node-termination-handler/": ' +
        'kops sets aws-node-termination-handler/managed on instance groups',
    ],
    ['fabricctl:fabric', 'rename the key so it does not start with "fabricctl:": fabricctl tags its resources with fabricctl:fabric'],
    ['aws:owner', 'rename the key so it does not start with "aws:": AWS reserves the prefix, in any case'],
    ['AWS:owner', 'rename the key so it does not start with "aws:": AWS reserves the prefix, in any case'],
    ['a,b', `remove "," from the key: ${cloudLabels}${carriedByAws}`],
    ['a=b', `remove "=" from the key: ${cloudLabels}${carriedByAws}`],
    ['cost#center', `remove "#" from the key: ${carriedByAws}`],
    ['owner!', `remove "!" from the key: ${carriedByAws}`],
    ['say "hi"', `remove "\\"" from the key: ${carriedByAws}`],
    ['two\nlines', `remove "\\n" from the key: ${carriedByAws}`],
    [
      ' team',
      "remove the leading space from the key: kops drops it from --cloud-labels, so the cluster's tags would differ from the network's",
    ],
    [
      '\u00a0team',
      "remove the leading space from the key: kops drops it from --cloud-labels, so the cluster's tags would differ from the network's",
    ],
    ['', 'give the tag a key of 1 to 128 characters, e.g. "team"'],
  ])('fails when a tag key is %j', (key, fix) => {
    expect(problemAt({ ...base, tags: { [key]: 'x' } }, `tags.${key}`)).toEqual({
      field: `tags.${key}`,
      received: JSON.stringify(key),
      fix,
    });
  });

  test('fails when a tag key is longer than 128 characters', () => {
    const key = 'k'.repeat(129);
    expect(problemAt({ ...base, tags: { [key]: 'x' } }, `tags.${key}`).fix).toBe(
      "shorten the key to at most 128 characters (AWS's limit); it has 129",
    );
  });

  test('fails when a tag value is longer than 256 characters', () => {
    expect(problemAt({ ...base, tags: { team: 'v'.repeat(257) } }, 'tags.team').fix).toBe(
      "shorten the value to at most 256 characters (AWS's limit); it has 257",
    );
  });

  test.each([
    ['a,b', `remove "," from the value: ${cloudLabels}${carriedByAws}`],
    ['v=1', `remove "=" from the value: ${cloudLabels}${carriedByAws}`],
    ['#1', `remove "#" from the value: ${carriedByAws}`],
    ['yes!', `remove "!" from the value: ${carriedByAws}`],
    [
      ' platform',
      "remove the leading space from the value: kops drops it from --cloud-labels, so the cluster's tags would differ from the network's",
    ],
    ['aws:x', 'change the value so it does not start with aws: (AWS reserves that prefix for keys and values)'],
    ['AWS:x', 'change the value so it does not start with aws: (AWS reserves that prefix for keys and values)'],
  ])('fails when a tag value is %j', (value, fix) => {
    expect(problemAt({ ...base, tags: { team: value } }, 'tags.team')).toEqual({
      field: 'tags.team',
      received: JSON.stringify(value),
      fix,
    });
  });

  test('fails when a tag value is not text', () => {
    expect(problemAt({ ...base, tags: { replicas: 3 } }, 'tags.replicas')).toEqual({
      field: 'tags.replicas',
      received: '3',
      fix: 'write the value as text, e.g. "3" (AWS tag values are strings)',
    });
  });

  test('fails when two keys differ only in case, naming both', () => {
    expect(problemAt({ ...base, tags: { Team: 'a', team: 'b' } }, 'tags.team')).toEqual({
      field: 'tags.team',
      received: '"team"',
      fix: 'keep one of "Team" and "team": IAM, where kops also puts these tags, treats keys that differ only in case as one key',
    });
  });

  test(`fails when there are more than ${MAX_TAGS} tags`, () => {
    const tags = Object.fromEntries(Array.from({ length: MAX_TAGS + 2 }, (_, i) => [`tag${i}`, 'x']));
    expect(problemAt({ ...base, tags }, 'tags')).toEqual({
      field: 'tags',
      received: `"${MAX_TAGS + 2} tags"`,
      fix: `remove 2 tag(s): at most ${MAX_TAGS} (AWS allows 50 a resource and kops adds 10 of its own to the control-plane instances)`,
    });
  });

  test.each([
    ['a text value', '{"__proto__": "x", "team": "a"}'],
    ['an object value', '{"__proto__": {"polluted": "yes"}}'],
  ])('fails when a tag key is __proto__ with %s, instead of dropping it', (_, tags) => {
    const p = problemsOf(JSON.parse(`{"name": "demo", "domain": "example.com", "tags": ${tags}}`)).find(
      (q) => q.received === '"__proto__"',
    );
    expect(p).toEqual({
      field: 'tags.__proto__',
      received: '"__proto__"',
      fix: 'rename the key, e.g. "proto": JavaScript readers of the spec drop a __proto__ key or take it for the object\'s prototype',
    });
  });

  test('GIVEN tag keys constructor and prototype WHEN parsed THEN they are plain own text values and nothing is polluted', () => {
    const tags = parseFabricSpec(
      JSON.parse('{"name": "demo", "domain": "example.com", "tags": {"constructor": "c", "prototype": "p"}}'),
    ).tags;
    expect(Object.entries(tags)).toEqual([
      ['constructor', 'c'],
      ['prototype', 'p'],
    ]);
    expect(Object.getPrototypeOf(tags)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(typeof {}.constructor).toBe('function');
  });

  test('fails when the tags are not an object', () => {
    expect(problemAt({ ...base, tags: ['team=platform'] }, 'tags')).toEqual({
      field: 'tags',
      received: '["team=platform"]',
      fix: 'write tags as an object of text values, e.g. {"team": "platform"}',
    });
  });
});

describe('fabric spec: messages state the fix', () => {
  // Each field with a value of the wrong type: the message says what to write, never zod's default text.
  test.each([
    ['name', { name: 42 }, '42', 'write the name as text, e.g. "demo"'],
    ['name', { name: undefined }, 'nothing', 'add "name", e.g. "demo": the fabric\'s name (its branch is fabric/<name>)'],
    ['domain', { domain: ['example.com'] }, '["example.com"]', 'write the domain as text, e.g. "example.com"'],
    ['region', { region: 42 }, '42', 'use an AWS region name such as us-east-2'],
    ['zones', { zones: 'us-east-2a' }, '"us-east-2a"', 'list the zones, e.g. ["us-east-2a", "us-east-2b", "us-east-2c"]'],
    [
      'zones.0',
      { zones: [1, 'us-east-2b', 'us-east-2c'] },
      '1',
      'use an availability zone name: the region and one letter, such as us-east-2a',
    ],
    ['zoneCount', { zoneCount: '3' }, '"3"', 'use 3 or 5: an odd number of control-plane nodes keeps etcd quorum'],
    ['network', { network: '10.10.0.0/16' }, '"10.10.0.0/16"', 'write network as an object, e.g. {"cidr": "10.10.0.0/16"}'],
    ['network.cidr', { network: { cidr: 10 } }, '10', 'use a private IPv4 CIDR such as 10.10.0.0/16'],
    ['kubernetes', { kubernetes: true }, 'true', 'write kubernetes as an object, e.g. {"version": "1.35.0"}'],
    ['kubernetes.version', { kubernetes: { version: 1.35 } }, '1.35', 'use a Kubernetes version such as 1.35.0'],
    [
      'kubernetes.networking',
      { kubernetes: { networking: 1 } },
      '1',
      'use one of the networking options kops 1.36 offers: ' +
        'kubenet, external, flannel-vxlan, flannel, flannel-udp, calico, kube-router, ' +
        'amazonvpc, cilium, cilium-etcd, kindnet, cni (cilium when left out)',
    ],
    [
      'kubernetes.controlPlaneSize',
      { kubernetes: { controlPlaneSize: null } },
      'null',
      'use an EC2 instance type, family.size, such as t3.medium, m7g.large or c6in.2xlarge',
    ],
    ['kubernetes.nodes', { kubernetes: { nodes: 3 } }, '3', 'write kubernetes.nodes as an object, e.g. {"min": 3, "max": 6}'],
    ['kubernetes.nodes.min', { kubernetes: { nodes: { min: 'three' } } }, '"three"', 'set nodes.min to a whole number from 1 to 100'],
    ['kubernetes.nodes.max', { kubernetes: { nodes: { max: 2.5 } } }, '2.5', 'set nodes.max to a whole number from 1 to 100'],
    ['kubernetes.nodes.max', { kubernetes: { nodes: { max: 101 } } }, '101', 'set nodes.max to a whole number from 1 to 100'],
    ['access', { access: [] }, '[]', 'write access as an object, e.g. {"api": ["0.0.0.0/0"], "ssh": ["203.0.113.0/24"]}'],
    ['access.api', { access: { api: '0.0.0.0/0' } }, '"0.0.0.0/0"', 'write access.api as a list of CIDRs, e.g. ["0.0.0.0/0"]'],
    ['access.ssh.0', { access: { ssh: [22] } }, '22', 'write each CIDR as text, such as 203.0.113.0/24 or 2001:db8::/32'],
    ['tags', { tags: 'team=platform' }, '"team=platform"', 'write tags as an object of text values, e.g. {"team": "platform"}'],
  ])('fails when %s has the wrong type, saying what to write', (field, change, received, fix) => {
    const problems = problemsOf({ ...base, ...change });
    expect(problems).toContainEqual({ field, received, fix });
    for (const p of problems) expect(p.fix).not.toMatch(ZOD_DEFAULT_TEXT);
  });

  test('fails when the spec is not an object, saying what to write', () => {
    expect(problemsOf('demo')).toEqual([
      { field: '(spec)', received: '"demo"', fix: 'write the spec as an object, e.g. {"name": "demo", "domain": "example.com"}' },
    ]);
  });

  test('fails when a top-level field is unknown, naming it', () => {
    expect(problemAt({ ...base, zonecount: 3 }, 'zonecount')).toEqual({
      field: 'zonecount',
      received: '3',
      fix: 'remove this unknown field or correct its spelling (see the spec reference in README.md)',
    });
  });

  test('fails when a nested field is unknown, naming its path', () => {
    expect(problemAt({ ...base, network: { cidr: '10.10.0.0/16', nat: true } }, 'network.nat').fix).toBe(
      'remove this unknown field or correct its spelling (see the spec reference in README.md)',
    );
  });

  test('fails when a top-level field is __proto__, reporting it as unknown', () => {
    expect(problemAt(JSON.parse('{"name": "demo", "domain": "example.com", "__proto__": {"region": "x"}}'), '__proto__').received).toBe(
      '{"region":"x"}',
    );
  });

  test('GIVEN a spec with many problems WHEN parsed THEN each problem names the field, the value received and the fix', () => {
    const problems = problemsOf({ name: '9', domain: 'x', region: 'mars', zoneCount: 2, network: { cidr: '8.8.8.0/24' }, extra: 1 });
    expect(problems.map((p) => p.field).sort()).toEqual(['domain', 'extra', 'name', 'network.cidr', 'region', 'zoneCount']);
    for (const p of problems) {
      expect(p.received).not.toBe('');
      expect(p.fix).not.toMatch(ZOD_DEFAULT_TEXT);
    }
  });

  test('GIVEN a rejected spec WHEN the error is raised THEN its name is FabricSpecInvalid and the message lists every field', () => {
    try {
      parseFabricSpec({ name: '', domain: 'x' });
      throw new Error('expected a rejection');
    } catch (error) {
      expect((error as Error).name).toBe('FabricSpecInvalid');
      expect((error as Error).message).toMatch(/^name: received ""; use at least one letter/m);
      expect((error as Error).message).toMatch(/^domain: received "x"; use a DNS domain/m);
    }
  });
});

describe('fabric spec: the document', () => {
  const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

  test('fails when a value nests far deeper than the stack, with a problem instead of a RangeError', () => {
    const input = JSON.parse(`{"name": "demo", "domain": "example.com", "tags": {"team": ${deep(200_000)}}}`) as unknown;
    expect(problemsOf(input)).toEqual([
      {
        field: 'tags.team.0.0.0.0.0.0.0.0',
        received: `a value nested more than ${MAX_SPEC_DEPTH} levels deep`,
        fix: 'remove the nesting: a fabric spec nests at most 3 levels (kubernetes.nodes.min), see the spec reference in README.md',
      },
    ]);
  });

  test('GIVEN a field path prefix WHEN a document nests too deeply THEN the problem names the full path', () => {
    expect(nestingProblem({ extra: JSON.parse(deep(50)) as unknown }, 'spec.')?.field).toBe('spec.extra.0.0.0.0.0.0.0.0.0');
  });

  test('GIVEN an unknown field nested a few levels WHEN parsed THEN it is reported as unknown, not as too deep', () => {
    expect(problemAt({ ...base, extra: { a: { b: { c: 1 } } } }, 'extra').fix).toMatch(/^remove this unknown field/);
  });

  test('GIVEN spec text with a UTF-8 byte order mark WHEN parsed THEN the mark is ignored', () => {
    expect(parseFabricSpec(parseSpecJson('\ufeff{"name": "demo", "domain": "example.com"}')).name).toBe('demo');
  });

  test("fails when the spec text is not JSON, with JSON's own error", () => {
    expect(() => parseSpecJson('\ufeff{"name":')).toThrow(SyntaxError);
  });
});

describe('recorded spec (destroy by name)', () => {
  // Values the rules now refuse, as an earlier run may have recorded them (its run then failed late).
  const recorded = {
    ...parseFabricSpec(base),
    kubernetes: { version: '1.35.12', networking: 'cilium', controlPlaneSize: 't3.small', nodeSize: 'x9.huge', nodes: { min: 3, max: 6 } },
    access: { api: ['10.0.0.1/16', '10.0.0.1/16'], ssh: ['0.0.0.0/0'] },
    tags: { Name: 'x', 'a=b': 'c,d' },
  };

  test('GIVEN a recorded spec that older rules accepted WHEN read as a record THEN it parses unchanged', () => {
    const result = recordedSpecSchema.safeParse(recorded);
    expect(result.success).toBe(true);
    expect(result.data?.tags).toEqual({ Name: 'x', 'a=b': 'c,d' });
  });

  test('fails when the same recorded values come in a new spec', () => {
    expect(
      problemsOf(recorded)
        .map((p) => p.field)
        .sort(),
    ).toEqual([
      'access.api',
      'access.api.0',
      'access.api.1',
      'access.api.1',
      'access.ssh.0',
      'kubernetes.controlPlaneSize',
      'kubernetes.nodeSize',
      'kubernetes.version',
      'tags.Name',
      'tags.a=b',
      'tags.a=b',
    ]);
  });

  test('fails when a recorded spec has the wrong shape', () => {
    expect(recordedSpecSchema.safeParse({ ...recorded, tags: { team: 3 } }).success).toBe(false);
  });
});
