import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KopsError, loadReference, parseCommandLine } from '../../lib/local/standins/kops/src/cli';
import { GoldenUnsupported, readGolden, renderSharedSubnets, RenderOptions } from '../../lib/local/standins/kops/src/golden';

/** The kops stand-in's command line (read from the vendored kops reference) and its golden output. */
const STANDIN = resolve(__dirname, '../../lib/local/standins/kops');
const CLUSTER_SH = resolve(__dirname, '../../buildspecs/scripts/cluster.sh');
const reference = loadReference(join(STANDIN, 'reference'));
const parse = (argv: string[]) => parseCommandLine(argv, reference);

const options: RenderOptions = {
  clusterName: 'demo.example.org',
  region: 'us-east-2',
  zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'],
  vpcId: 'vpc-0abc',
  subnetIds: ['subnet-0aaa', 'subnet-0bbb', 'subnet-0ccc'],
  stateBucket: 'fabricctl-state-210987654321-us-east-2',
  statePrefix: 'fabrics/demo/kops',
  accountId: '210987654321',
  hostedZoneId: 'Z0DEMOZONE',
  sshPublicKey: readFileSync(join(STANDIN, 'golden/ha/id_rsa.pub'), 'utf8'),
  sshFingerprint: 'c4:a6:ed:9a:a8:89:b9:e2:c3:9c:d6:63:eb:9c:71:57',
  controlPlaneSize: 't3.medium',
  nodeSize: 't3.large',
  nodeCount: 3,
  adminAccess: ['203.0.113.0/24', '198.51.100.0/24'],
  sshAccess: [],
};

/** The kops flags cluster.sh passes, per command: from the script's own text. */
function flagsUsedByClusterScript(): Map<string, Set<string>> {
  const text = readFileSync(CLUSTER_SH, 'utf8');
  const common = /kops_common=\(([^)]*)\)/.exec(text)?.[1] ?? '';
  const commonFlags = [...common.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1] ?? '');
  const used = new Map<string, Set<string>>();
  for (const command of ['create cluster', 'update cluster', 'rolling-update cluster', 'export kubeconfig', 'delete cluster']) {
    const flags = new Set<string>(commonFlags);
    // A kops command line, with its backslash continuations.
    for (const match of text.matchAll(new RegExp(`kops ${command}((?:[^\\n]*\\\\\\n)*[^\\n]*)`, 'g'))) {
      for (const flag of (match[1] ?? '').matchAll(/--([a-z][a-z-]*)/g)) flags.add(flag[1] ?? '');
    }
    used.set(command, flags);
  }
  // The create command is an array, extended after it is built; plan adds --dry-run and --output.
  const createExtras = [...text.matchAll(/create=\(([\s\S]*?)\n\s*\)|create\+=\(([^)]*)\)|"\$\{create\[@\]\}"([^>\n]*)/g)].flatMap((m) => [...`${m[1] ?? ''}${m[2] ?? ''}${m[3] ?? ''}`.matchAll(/--([a-z][a-z-]*)/g)].map((f) => f[1] ?? ''));
  for (const flag of createExtras) used.get('create cluster')?.add(flag);
  return used;
}

describe('kops stand-in command line (flags read from the vendored kops 1.36.2 reference)', () => {
  test('fails when a flag is unknown to kops, as kops reports it', () => {
    expect(() => parse(['create', 'cluster', '--name=x', '--vpc=vpc-1'])).toThrow(new KopsError('unknown flag: --vpc'));
    expect(() => parse(['update', 'cluster', '-q'])).toThrow(new KopsError("unknown shorthand flag: 'q' in -q"));
  });

  test('fails when a flag belongs to another kops command', () => {
    expect(() => parse(['update', 'cluster', '--zones=us-east-2a'])).toThrow(new KopsError('unknown flag: --zones'));
    expect(() => parse(['delete', 'cluster', '--target=terraform'])).toThrow(new KopsError('unknown flag: --target'));
  });

  test('fails when a command is not one kops documents here, or a value has the wrong type', () => {
    expect(() => parse(['get', 'clusters'])).toThrow(/unknown command "get" for "kops"/);
    expect(() => parse(['create', 'cluster', '--node-count=three'])).toThrow(/invalid argument "three" for "--node-count" flag/);
    expect(() => parse(['update', 'cluster', '--target=cloudformation'])).toThrow(/invalid target/);
    expect(() => parse(['create', 'cluster', '--zones'])).toThrow(new KopsError('flag needs an argument: --zones'));
  });

  test('GIVEN the flags cluster.sh passes WHEN each command is parsed THEN every one is accepted', () => {
    const used = flagsUsedByClusterScript();
    expect([...(used.get('create cluster') ?? [])]).toEqual(expect.arrayContaining(['control-plane-zones', 'network-id', 'subnets', 'ssh-public-key', 'unset', 'dry-run']));
    for (const [command, flags] of used) {
      expect(flags.size).toBeGreaterThan(1);
      for (const flag of flags) {
        const spec = reference.get(command)?.flags.get(flag);
        expect({ command, flag, known: spec !== undefined }).toEqual({ command, flag, known: true });
        const argv = [...command.split(' '), spec?.type === 'bool' ? `--${flag}` : `--${flag}=${spec?.type.startsWith('int') ? '1' : spec?.type === 'duration' ? '15m' : spec?.type === 'target' ? 'terraform' : 'x'}`];
        expect(() => parse(argv)).not.toThrow();
      }
    }
  });

  test('GIVEN --admin without a value and repeated string lists WHEN parsed THEN kops defaults and CSV splitting apply', () => {
    const exported = parse(['export', 'kubeconfig', 'demo.example.org', '--admin', '--kubeconfig', '/tmp/k']);
    expect(exported.flags.get('admin')).toEqual(['18h0m0s']);
    expect(exported.positionals).toEqual(['demo.example.org']);
    const created = parse(['create', 'cluster', '--zones=a,b', '--zones', 'c', '-y', '--ssh-access=']);
    expect(created.flags.get('zones')).toEqual(['a', 'b', 'c']);
    expect(created.flags.get('yes')).toEqual(['true']);
    expect(created.flags.get('ssh-access')).toEqual([]);
  });

  test('GIVEN any invocation WHEN bin/kops runs THEN it says on stderr that it is a stand-in', () => {
    const version = spawnSync(join(STANDIN, 'bin/kops'), ['version'], { encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout).toBe('Client version: 1.36.2 (kops stand-in, kops is not installed)\n');
    expect(version.stderr).toContain('kops stand-in (kops is not installed)');
    const wrong = spawnSync(join(STANDIN, 'bin/kops'), ['update', 'cluster', '--zones=a'], { encoding: 'utf8' });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toBe('kops stand-in (kops is not installed)\nError: unknown flag: --zones\n');
  });

  test('fails when a command runs without a state store, as kops does (no --state, KOPS_STATE_STORE empty)', () => {
    const env = { ...process.env, KOPS_STATE_STORE: '' };
    const run = spawnSync(join(STANDIN, 'bin/kops'), ['delete', 'cluster', '--name=demo.example.org'], { encoding: 'utf8', env });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Error: Please set the --state flag or export KOPS_STATE_STORE.');
  });
});

describe('kops stand-in output (kops golden "ha" output, reshaped as kops does for existing subnets)', () => {
  const golden = readGolden(join(STANDIN, 'golden/ha'));
  const rendered = renderSharedSubnets(golden, options);
  const everything = [rendered.tf, ...rendered.data.keys(), ...rendered.data.values()].join('\n');

  test('GIVEN three zones WHEN rendered THEN there is one control-plane group per zone, in that zone\'s subnet', () => {
    const groups = [...rendered.tf.matchAll(/resource "aws_autoscaling_group" "(master-[^"]+)" \{[\s\S]*?vpc_zone_identifier = \[([^\]]*)\]/g)].map((m) => [m[1], m[2]]);
    expect(groups).toEqual([
      ['master-us-east-2a-masters-demo-example-org', '"subnet-0aaa"'],
      ['master-us-east-2b-masters-demo-example-org', '"subnet-0bbb"'],
      ['master-us-east-2c-masters-demo-example-org', '"subnet-0ccc"'],
    ]);
    expect(rendered.tf).toMatch(/name += "master-us-east-2b\.masters\.demo\.example\.org"/);
  });

  test('GIVEN an existing VPC and subnets WHEN rendered THEN, as in golden/shared_subnet, kops creates no network and reads the VPC', () => {
    expect(rendered.tf).not.toMatch(/resource "aws_(vpc|subnet|internet_gateway|route|route_table|route_table_association|vpc_dhcp_options|vpc_dhcp_options_association)" /);
    expect(rendered.tf).toContain('data "aws_vpc" "demo-example-org" {\n  id = "vpc-0abc"\n}');
    expect(rendered.tf).toMatch(/vpc_id += "vpc-0abc"/);
    expect(rendered.tf).toMatch(/subnet_ids += \["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"\]/);
    expect(rendered.tf).not.toContain('route_table_public_id');
  });

  test('GIVEN the fabric\'s names WHEN rendered THEN none of the kops test cluster\'s names, region, zones or buckets are left', () => {
    for (const golden of ['ha.example.com', 'ha-example-com', 'us-test-1', 'testingBucket', 'placeholder-', 'memfs://', 'arn:aws-test:', 'Z1AFAKE1ZON3YO', '123456789012']) {
      expect({ golden, left: everything.includes(golden) }).toEqual({ golden, left: false });
    }
    expect(rendered.tf).toContain('key                    = "fabrics/demo/kops/demo.example.org/cluster-completed.spec"');
    expect(rendered.tf).toContain(`bucket                 = "${options.stateBucket}"`);
    expect(rendered.data.get('aws_s3_object_cluster-completed.spec_content')).toContain('configBase: s3://fabricctl-state-210987654321-us-east-2/fabrics/demo/kops/demo.example.org');
  });

  test('GIVEN access CIDRs and closed SSH WHEN rendered THEN one 443 rule per API CIDR and no port 22 rule', () => {
    const rules = [...rendered.tf.matchAll(/resource "aws_security_group_rule" "([^"]*-ingress-tcp-(?:22to22|443to443)-[^"]*)"/g)].map((m) => m[1]);
    expect(rules).toEqual([
      'from-198-51-100-0--24-ingress-tcp-443to443-masters-demo-example-org',
      'from-203-0-113-0--24-ingress-tcp-443to443-masters-demo-example-org',
    ]);
    expect(rendered.tf).toContain('cidr_blocks       = ["198.51.100.0/24"]');
  });

  test('GIVEN sizes WHEN rendered THEN control-plane and node machine types and the node count are the fabric\'s', () => {
    expect(rendered.tf.match(/instance_type = "t3\.medium"/g)).toHaveLength(3);
    expect(rendered.tf.match(/instance_type = "t3\.large"/g)).toHaveLength(1);
    const nodes = /resource "aws_autoscaling_group" "nodes-demo-example-org" \{[\s\S]*?\n\}/.exec(rendered.tf)?.[0] ?? '';
    expect(nodes).toMatch(/max_size += 3/);
    expect(nodes).toMatch(/min_size += 3/);
  });

  test('fails when the control plane has other than three zones: there is golden output for three only', () => {
    expect(() => renderSharedSubnets(golden, { ...options, zones: ['us-east-2a'], subnetIds: ['subnet-0aaa'] })).toThrow(
      new GoldenUnsupported('the stand-in has golden output for 3 control-plane zones only, got 1 (us-east-2a)'),
    );
  });
});
