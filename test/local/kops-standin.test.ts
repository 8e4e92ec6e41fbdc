import { spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { parse as parseYaml } from 'yaml';
import { clusterCaKey, parseClusterCaKeyset } from '../../lib/cli/cluster-ca';
import { CLUSTER_CA_KEYSET } from '../../lib/local/standins/contracts';
import { KopsError, loadReference, parseCommandLine } from '../../lib/local/standins/kops/src/cli';
import {
  expandZones,
  goldenKubernetesVersion,
  GoldenUnsupported,
  readGolden,
  renderSharedSubnets,
  RenderOptions,
  withKubernetesVersion,
} from '../../lib/local/standins/kops/src/golden';
import type { CallRecord } from '../../lib/local/standins/kops/src/main';
import { createTestCa } from '../../lib/local/standins/test-pki';
import { readKopsCalls } from '../support/kops-calls';
import { describeWithMoto, useMoto } from '../support/moto';
import { mirrorCliConfig, TERRAFORM_SKIP_REASON } from '../support/terraform';

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
  for (const command of [
    'create cluster',
    'update cluster',
    'set cluster',
    'rolling-update cluster',
    'export kubeconfig',
    'delete cluster',
  ]) {
    const flags = new Set<string>(commonFlags);
    // A kops command line, with its backslash continuations.
    for (const match of text.matchAll(new RegExp(`kops ${command}((?:[^\\n]*\\\\\\n)*[^\\n]*)`, 'g'))) {
      for (const flag of (match[1] ?? '').matchAll(/--([a-z][a-z-]*)/g)) flags.add(flag[1] ?? '');
    }
    used.set(command, flags);
  }
  // The create command is an array, extended after it is built; plan adds --dry-run and --output.
  const createExtras = [...text.matchAll(/create=\(([\s\S]*?)\n\s*\)|create\+=\(([^)]*)\)|"\$\{create\[@\]\}"([^>\n]*)/g)].flatMap((m) =>
    [...`${m[1] ?? ''}${m[2] ?? ''}${m[3] ?? ''}`.matchAll(/--([a-z][a-z-]*)/g)].map((f) => f[1] ?? ''),
  );
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
    expect([...(used.get('create cluster') ?? [])]).toEqual(
      expect.arrayContaining(['control-plane-zones', 'network-id', 'subnets', 'ssh-public-key', 'unset', 'dry-run']),
    );
    for (const [command, flags] of used) {
      expect(flags.size).toBeGreaterThan(1);
      for (const flag of flags) {
        const spec = reference.get(command)?.flags.get(flag);
        expect({ command, flag, known: spec !== undefined }).toEqual({ command, flag, known: true });
        const value = spec?.type.startsWith('int') ? '1' : spec?.type === 'duration' ? '15m' : spec?.type === 'target' ? 'terraform' : 'x';
        const argv = [...command.split(' '), spec?.type === 'bool' ? `--${flag}` : `--${flag}=${value}`];
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

  describe('bin/kops runs the stand-in as one bundle (lib/local/standins/kops/bundle.ts)', () => {
    // Under the repository, as the default one: the bundle requires its packages from node_modules.
    const cache = resolve(__dirname, '../../node_modules/.cache');
    mkdirSync(cache, { recursive: true });
    const folder = mkdtempSync(join(cache, 'kops-bundle-test-'));
    const bundle = join(folder, 'kops-standin.cjs');
    const kops = (...args: string[]) =>
      spawnSync(join(STANDIN, 'bin/kops'), args, { encoding: 'utf8', env: { ...process.env, FABRICCTL_KOPS_STANDIN_BUNDLE: bundle } });
    afterAll(() => rmSync(folder, { recursive: true, force: true }));

    test('GIVEN no bundle WHEN bin/kops runs THEN it makes one listing the sources it holds, and runs it; the next call reuses it', () => {
      expect(kops('version').stdout).toBe('Client version: 1.36.2 (kops stand-in, kops is not installed)\n');
      const inputs = readFileSync(`${bundle}.inputs`, 'utf8').trim().split('\n');
      expect(inputs).toEqual(expect.arrayContaining([join(STANDIN, 'src/main.ts'), resolve(STANDIN, '../contracts.ts')]));
      expect(inputs.every((file) => file.startsWith(resolve(__dirname, '../..')) && !file.includes('node_modules'))).toBe(true);
      const made = statSync(bundle).mtimeMs;
      expect(kops('version').status).toBe(0);
      expect(statSync(bundle).mtimeMs).toBe(made);
    });

    test('GIVEN a source newer than the bundle WHEN bin/kops runs THEN it bundles again before it runs', () => {
      // Older than any checkout of the sources.
      const old = new Date('2000-01-01T00:00:00Z');
      utimesSync(bundle, old, old);
      const started = Date.now();
      const wrong = kops('update', 'cluster', '--zones=a');
      expect(wrong.stderr).toBe('kops stand-in (kops is not installed)\nError: unknown flag: --zones\n');
      // Dated to the start of its build, which came after `started` (to the file system's second).
      expect(statSync(bundle).mtimeMs).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000);
    });
  });

  test('fails when create cluster asks for a control-plane zone count the stand-in does not render, or an even one as kops refuses', () => {
    const create = (zones: string[]) =>
      spawnSync(
        join(STANDIN, 'bin/kops'),
        [
          'create',
          'cluster',
          '--name=demo.example.org',
          '--state=s3://no-such-bucket',
          `--zones=${zones.join(',')}`,
          `--control-plane-zones=${zones.join(',')}`,
        ],
        {
          encoding: 'utf8',
        },
      );
    const seven = create(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((l) => `us-east-1${l}`));
    expect(seven.status).toBe(1);
    expect(seven.stderr).toContain(
      'Error: the stand-in renders 3 or 5 control-plane zones ' +
        "(the counts a fabric spec allows, generated from kops's golden three-zone output), got 7 (us-east-1a,",
    );
    const four = create(['a', 'b', 'c', 'd'].map((l) => `us-east-1${l}`));
    expect(four.status).toBe(1);
    expect(four.stderr).toContain('Error: there should be an odd number of control-plane-zones');
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

  test("GIVEN three zones WHEN rendered THEN there is one control-plane group per zone, in that zone's subnet", () => {
    const groups = [
      ...rendered.tf.matchAll(/resource "aws_autoscaling_group" "(master-[^"]+)" \{[\s\S]*?vpc_zone_identifier = \[([^\]]*)\]/g),
    ].map((m) => [m[1], m[2]]);
    expect(groups).toEqual([
      ['master-us-east-2a-masters-demo-example-org', '"subnet-0aaa"'],
      ['master-us-east-2b-masters-demo-example-org', '"subnet-0bbb"'],
      ['master-us-east-2c-masters-demo-example-org', '"subnet-0ccc"'],
    ]);
    expect(rendered.tf).toMatch(/name += "master-us-east-2b\.masters\.demo\.example\.org"/);
  });

  test('GIVEN an existing VPC and subnets WHEN rendered THEN, as in golden/shared_subnet, kops makes no network and reads the VPC', () => {
    const networkResources = [
      'vpc',
      'subnet',
      'internet_gateway',
      'route',
      'route_table',
      'route_table_association',
      'vpc_dhcp_options',
      'vpc_dhcp_options_association',
    ];
    expect(rendered.tf).not.toMatch(new RegExp(`resource "aws_(${networkResources.join('|')})" `));
    expect(rendered.tf).toContain('data "aws_vpc" "demo-example-org" {\n  id = "vpc-0abc"\n}');
    expect(rendered.tf).toMatch(/vpc_id += "vpc-0abc"/);
    expect(rendered.tf).toMatch(/subnet_ids += \["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"\]/);
    expect(rendered.tf).not.toContain('route_table_public_id');
  });

  test("GIVEN the fabric's names WHEN rendered THEN none of the kops test cluster's names, region, zones or buckets are left", () => {
    for (const golden of [
      'ha.example.com',
      'ha-example-com',
      'us-test-1',
      'testingBucket',
      'placeholder-',
      'memfs://',
      'arn:aws-test:',
      'Z1AFAKE1ZON3YO',
      '123456789012',
    ]) {
      expect({ golden, left: everything.includes(golden) }).toEqual({ golden, left: false });
    }
    expect(rendered.tf).toContain('key                    = "fabrics/demo/kops/demo.example.org/cluster-completed.spec"');
    expect(rendered.tf).toContain(`bucket                 = "${options.stateBucket}"`);
    expect(rendered.data.get('aws_s3_object_cluster-completed.spec_content')).toContain(
      'configBase: s3://fabricctl-state-210987654321-us-east-2/fabrics/demo/kops/demo.example.org',
    );
  });

  test('GIVEN access CIDRs and closed SSH WHEN rendered THEN one 443 rule per API CIDR and no port 22 rule', () => {
    const rules = [...rendered.tf.matchAll(/resource "aws_security_group_rule" "([^"]*-ingress-tcp-(?:22to22|443to443)-[^"]*)"/g)].map(
      (m) => m[1],
    );
    expect(rules).toEqual([
      'from-198-51-100-0--24-ingress-tcp-443to443-masters-demo-example-org',
      'from-203-0-113-0--24-ingress-tcp-443to443-masters-demo-example-org',
    ]);
    expect(rendered.tf).toContain('cidr_blocks       = ["198.51.100.0/24"]');
  });

  test("GIVEN sizes WHEN rendered THEN control-plane and node machine types and the node count are the fabric's", () => {
    expect(rendered.tf.match(/instance_type = "t3\.medium"/g)).toHaveLength(3);
    expect(rendered.tf.match(/instance_type = "t3\.large"/g)).toHaveLength(1);
    const nodes = /resource "aws_autoscaling_group" "nodes-demo-example-org" \{[\s\S]*?\n\}/.exec(rendered.tf)?.[0] ?? '';
    expect(nodes).toMatch(/max_size += 3/);
    expect(nodes).toMatch(/min_size += 3/);
  });

  test('fails when the control plane has other than 3 or 5 zones: the stand-in renders the counts a fabric spec allows', () => {
    expect(() => renderSharedSubnets(golden, { ...options, zones: ['us-east-2a'], subnetIds: ['subnet-0aaa'] })).toThrow(
      new GoldenUnsupported(
        'the stand-in renders 3 or 5 control-plane zones ' +
          "(the counts a fabric spec allows, generated from kops's golden three-zone output), got 1 (us-east-2a)",
      ),
    );
    const seven = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    expect(() =>
      renderSharedSubnets(golden, { ...options, zones: seven.map((l) => `us-east-1${l}`), subnetIds: seven.map((l) => `subnet-0${l}`) }),
    ).toThrow(/got 7 \(us-east-1a,/);
  });
});

/**
 * 3 and 5 control-plane zones: everything kops emits once per zone is generated from zone
 * us-test-1a's golden output (golden.ts, expandZones).
 */
describe('kops stand-in output for 3 and 5 control-plane zones (per-zone output generated from zone us-test-1a)', () => {
  const golden = readGolden(join(STANDIN, 'golden/ha'));
  const letters = ['a', 'b', 'c', 'd', 'e'];
  const inUsEast1 = (count: number): RenderOptions => ({
    ...options,
    region: 'us-east-1',
    zones: letters.slice(0, count).map((l) => `us-east-1${l}`),
    subnetIds: letters.slice(0, count).map((l) => `subnet-0${l}${l}${l}`),
    stateBucket: 'fabricctl-state-210987654321-us-east-1',
  });
  const three = renderSharedSubnets(golden, options);
  const five = renderSharedSubnets(golden, inUsEast1(5));
  const resources = (tf: string): string[] => [...tf.matchAll(/^resource "([^"]+)" "([^"]+)"/gm)].map((m) => `${m[1]} ${m[2]}`);

  test("GIVEN 3 zones WHEN kops's golden output is expanded THEN blocks and files made for b and c are kops's own, byte for byte", () => {
    const expanded = expandZones(golden, 3);
    expect(expanded.tf).toBe(golden.tf);
    expect([...expanded.data.keys()]).toEqual([...golden.data.keys()]);
    for (const [file, content] of golden.data) expect({ file, same: expanded.data.get(file) === content }).toEqual({ file, same: true });
  });

  test('GIVEN 3 zones WHEN rendered THEN the output is what the stand-in rendered before it could render 5', () => {
    expect(three.tf).toContain(
      '  master_autoscaling_group_ids = [aws_autoscaling_group.master-us-east-2a-masters-demo-example-org.id, ' +
        'aws_autoscaling_group.master-us-east-2b-masters-demo-example-org.id, ' +
        'aws_autoscaling_group.master-us-east-2c-masters-demo-example-org.id]\n',
    );
    expect(three.tf).toContain('    "k8s.io/etcd/main"                     = "c/a,b,c"\n');
    expect(three.tf).toContain('  vpc_zone_identifier = ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"]\n}');
    expect(three.data.get('aws_s3_object_etcd-cluster-spec-main_content')).toContain('"memberCount": 3,');
    expect(three.data.get('aws_s3_object_cluster-completed.spec_content')).toContain(
      '    etcdMembers:\n    - instanceGroup: master-us-east-2a\n      name: a\n' +
        '    - instanceGroup: master-us-east-2b\n      name: b\n' +
        '    - instanceGroup: master-us-east-2c\n      name: c\n    manager:\n',
    );
    // kops's own hash of zone b's nodeupconfig, kept as the golden output has it.
    expect(three.data.get('aws_launch_template_master-us-east-2b.masters.demo.example.org_user_data')).toContain(
      'NodeupConfigHash: C+IYcLKAMrAZI1mXHgJKAoW2AHsBBVwnMiv/r311y0M=\n',
    );
    expect([...three.data.keys()].filter((f) => f.includes('us-east-2'))).toEqual([
      'aws_launch_template_master-us-east-2a.masters.demo.example.org_user_data',
      'aws_launch_template_master-us-east-2b.masters.demo.example.org_user_data',
      'aws_launch_template_master-us-east-2c.masters.demo.example.org_user_data',
      'aws_s3_object_manifests-etcdmanager-events-master-us-east-2a_content',
      'aws_s3_object_manifests-etcdmanager-events-master-us-east-2b_content',
      'aws_s3_object_manifests-etcdmanager-events-master-us-east-2c_content',
      'aws_s3_object_manifests-etcdmanager-main-master-us-east-2a_content',
      'aws_s3_object_manifests-etcdmanager-main-master-us-east-2b_content',
      'aws_s3_object_manifests-etcdmanager-main-master-us-east-2c_content',
      'aws_s3_object_nodeupconfig-master-us-east-2a_content',
      'aws_s3_object_nodeupconfig-master-us-east-2b_content',
      'aws_s3_object_nodeupconfig-master-us-east-2c_content',
    ]);
  });

  test("GIVEN 5 zones WHEN rendered THEN 5 control-plane groups, each pinned to its zone's subnet, with its own launch template", () => {
    const groups = [
      ...five.tf.matchAll(
        new RegExp(
          String.raw`resource "aws_autoscaling_group" "(master-[^"]+)" \{[\s\S]*?id += aws_launch_template\.([^.]+)\.id` +
            String.raw`[\s\S]*?vpc_zone_identifier = \[([^\]]*)\]`,
          'g',
        ),
      ),
    ].map((m) => [m[1], m[2], m[3]]);
    expect(groups).toEqual(
      letters.map((l) => [
        `master-us-east-1${l}-masters-demo-example-org`,
        `master-us-east-1${l}-masters-demo-example-org`,
        `"subnet-0${l}${l}${l}"`,
      ]),
    );
    const groupIds = letters.map((l) => `aws_autoscaling_group.master-us-east-1${l}-masters-demo-example-org.id`).join(', ');
    expect(five.tf).toContain(`  master_autoscaling_group_ids = [${groupIds}]\n`);
    expect(five.tf).toContain('  vpc_zone_identifier = ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc", "subnet-0ddd", "subnet-0eee"]\n}');
    expect(five.tf).toContain('output "subnet_us-east-1e_id" {\n  value = "subnet-0eee"\n}');
  });

  test('GIVEN 5 zones WHEN rendered THEN 10 etcd volumes, main and events per zone, each tagged with its member and all 5 members', () => {
    const volumes = [
      ...five.tf.matchAll(
        /resource "aws_ebs_volume" "([^"]+)" \{\n {2}availability_zone = "([^"]+)"[\s\S]*?"k8s\.io\/etcd\/(main|events)" += "([^"]+)"/g,
      ),
    ].map((m) => [m[1], m[2], m[3], m[4]]);
    expect(volumes).toEqual(
      letters.flatMap((l) =>
        ['events', 'main'].map((cluster) => [`${l}-etcd-${cluster}-demo-example-org`, `us-east-1${l}`, cluster, `${l}/a,b,c,d,e`]),
      ),
    );
    expect(five.tf).toContain('"Name"                                 = "e.etcd-main.demo.example.org"');
  });

  test('GIVEN 5 zones WHEN rendered THEN the cluster spec lists 5 etcd members, 5 subnets; the etcd cluster specs count 5 members', () => {
    const spec = five.data.get('aws_s3_object_cluster-completed.spec_content') ?? '';
    const members = letters.map((l) => `    - instanceGroup: master-us-east-1${l}\n      name: ${l}\n`).join('');
    expect(spec.split(`    etcdMembers:\n${members}    manager:\n`)).toHaveLength(3);
    expect(spec).toContain(
      letters
        .map((l, i) => `  - cidr: 172.20.${32 * (i + 1)}.0/19\n    name: us-east-1${l}\n    type: Public\n    zone: us-east-1${l}\n`)
        .join(''),
    );
    for (const cluster of ['main', 'events'])
      expect(five.data.get(`aws_s3_object_etcd-cluster-spec-${cluster}_content`)).toContain('"memberCount": 5,');
  });

  test(
    'GIVEN 5 zones WHEN expanded ' +
      "THEN each new zone has its own user_data, etcd-manager manifests and nodeupconfig, and user_data carries its nodeupconfig's hash",
    () => {
      const expanded = expandZones(golden, 5);
      for (const l of ['d', 'e']) {
        const zone = `us-test-1${l}`;
        const nodeup = expanded.data.get(`aws_s3_object_nodeupconfig-master-${zone}_content`) ?? '';
        expect(nodeup).toContain(
          `- memfs://tests/ha.example.com/manifests/etcd/main-master-${zone}.yaml\n` +
            `- memfs://tests/ha.example.com/manifests/etcd/events-master-${zone}.yaml\n`,
        );
        const userData = expanded.data.get(`aws_launch_template_master-${zone}.masters.ha.example.com_user_data`) ?? '';
        expect(userData).toContain(`InstanceGroupName: master-${zone}\n`);
        expect(userData).toContain(`NodeupConfigHash: ${createHash('sha256').update(nodeup).digest('base64')}\n`);
        expect(expanded.data.get(`aws_s3_object_manifests-etcdmanager-main-master-${zone}_content`)).toBe(
          golden.data.get('aws_s3_object_manifests-etcdmanager-main-master-us-test-1a_content'),
        );
      }
      expect(five.tf).toContain(
        '  key                    = "fabrics/demo/kops/demo.example.org/igconfig/control-plane/master-us-east-1d/nodeupconfig.yaml"\n',
      );
      expect(five.data.get('aws_launch_template_master-us-east-1d.masters.demo.example.org_user_data')).toContain(
        'InstanceGroupName: master-us-east-1d\n',
      );
    },
  );

  test("GIVEN 5 zones WHEN rendered THEN no resource is added that kops's output for 3 zones lacks, per zone", () => {
    const threeInUsEast1 = resources(renderSharedSubnets(golden, inUsEast1(3)).tf);
    const fiveInUsEast1 = resources(five.tf);
    const asZoneA = (resource: string): string => resource.replace(/us-east-1[b-e]/g, 'us-east-1a').replace(/ [b-e]-etcd-/, ' a-etcd-');
    expect(new Set(fiveInUsEast1.map(asZoneA))).toEqual(new Set(threeInUsEast1.map(asZoneA)));
    const perZone = threeInUsEast1.filter((r) => r !== asZoneA(r)).length / 2;
    expect(perZone).toBe(8);
    expect(fiveInUsEast1.length - threeInUsEast1.length).toBe(2 * perZone);
    expect(five.data.size - three.data.size).toBe(2 * 4);
  });

  (TERRAFORM_SKIP_REASON ? test.skip : test)(
    'GIVEN 5 zones WHEN terraform validates the output offline (provider mirror) THEN it is valid',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'kops-standin-5-zones-'));
      try {
        mkdirSync(join(dir, 'data'));
        writeFileSync(join(dir, 'kubernetes.tf'), five.tf);
        for (const [file, content] of five.data) writeFileSync(join(dir, 'data', file), content);
        const env = { ...process.env, TF_CLI_CONFIG_FILE: mirrorCliConfig(), TF_IN_AUTOMATION: '1', NO_COLOR: '1' };
        const terraform = (...args: string[]) =>
          spawnSync('terraform', [`-chdir=${dir}`, ...args], { env, encoding: 'utf8', timeout: 120000 });
        expect(terraform('init', '-backend=false', '-input=false', '-no-color').status).toBe(0);
        const validate = terraform('validate', '-no-color');
        expect(`${validate.stdout}${validate.stderr}`).toContain('Success! The configuration is valid.');
        expect(validate.status).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('kops stand-in: set cluster (flags read from the vendored kops_set_cluster.md)', () => {
  test('GIVEN the reference WHEN set cluster is parsed THEN --name, --state and a field=value argument are accepted', () => {
    const parsed = parse([
      'set',
      'cluster',
      '--name=demo.example.org',
      '--state=s3://bucket/fabrics/demo/kops',
      'spec.kubernetesVersion=1.36.4',
    ]);
    expect(parsed.command.path).toBe('set cluster');
    expect(parsed.positionals).toEqual(['spec.kubernetesVersion=1.36.4']);
    expect(parsed.flags.get('name')).toEqual(['demo.example.org']);
  });

  test('fails when set cluster is given a flag kops does not document for it', () => {
    expect(() => parse(['set', 'cluster', '--set', 'spec.kubernetesVersion=1.36.4'])).toThrow(new KopsError('unknown flag: --set'));
    expect(() => parse(['set', 'cluster', '--yes'])).toThrow(new KopsError('unknown flag: --yes'));
  });

  test('fails when kops edit cluster is asked for: it opens an editor, and the stand-in does not implement it', () => {
    expect(() => parse(['edit', 'cluster', '--set=spec.kubernetesVersion=1.36.4'])).toThrow(/unknown command "edit" for "kops"/);
  });
});

describe("kops stand-in output for another Kubernetes release (the cluster config's spec.kubernetesVersion)", () => {
  const golden = readGolden(join(STANDIN, 'golden/ha'));
  const rendered = renderSharedSubnets(golden, { ...options, kubernetesVersion: '1.36.4' });
  const everything = [...rendered.data.values()].join('\n');
  const nodeupConfigs = [...rendered.data.entries()].filter(([file]) => file.startsWith('aws_s3_object_nodeupconfig-'));

  test("GIVEN kops's golden output WHEN its release is read THEN it is the one its input spec asks for", () => {
    expect(goldenKubernetesVersion(golden)).toBe('1.32.0');
    expect(readFileSync(join(STANDIN, 'golden/ha/in-v1alpha2.yaml'), 'utf8')).toContain('  kubernetesVersion: v1.32.0\n');
  });

  test('GIVEN 1.36.4 WHEN rendered THEN the completed spec, every nodeupconfig and the control-plane images carry it', () => {
    expect(rendered.data.get('aws_s3_object_cluster-completed.spec_content')).toContain('\n  kubernetesVersion: 1.36.4\n');
    expect(nodeupConfigs.map(([file]) => file)).toHaveLength(4);
    for (const [file, content] of nodeupConfigs)
      expect({ file, version: /^KubernetesVersion: (.+)$/m.exec(content)?.[1] }).toEqual({ file, version: '1.36.4' });
    for (const image of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy']) {
      expect(everything).toContain(`registry.k8s.io/${image}:v1.36.4\n`);
    }
    expect(everything).not.toMatch(/registry\.k8s\.io\/kube-[a-z-]+:v1\.32\.0|ubernetesVersion: 1\.32\.0/);
  });

  test(
    'GIVEN 1.36.4 WHEN rendered ' +
      "THEN the kubelet and kubectl assets keep the golden release and kops's hashes of it (the stand-in cannot fetch another's)",
    () => {
      expect(rendered.data.get('aws_s3_object_nodeupconfig-nodes_content')).toContain(
        '- 5ad4965598773d56a37a8e8429c3dc3d86b4c5c26d8417ab333ae345c053dae2@https://dl.k8s.io/release/v1.32.0/bin/linux/amd64/kubelet\n',
      );
    },
  );

  test('GIVEN 1.36.4 WHEN expanded THEN each user_data carries the SHA-256 of its nodeupconfig, so each launch template changes', () => {
    const expanded = expandZones(withKubernetesVersion(golden, '1.36.4'), 3);
    for (const [template, group] of [
      ['master-us-test-1a.masters', 'master-us-test-1a'],
      ['master-us-test-1c.masters', 'master-us-test-1c'],
      ['nodes', 'nodes'],
    ]) {
      const userData = `aws_launch_template_${template}.ha.example.com_user_data`;
      const hash = createHash('sha256')
        .update(expanded.data.get(`aws_s3_object_nodeupconfig-${group}_content`) ?? '')
        .digest('base64');
      expect(expanded.data.get(userData)).toContain(`NodeupConfigHash: ${hash}\n`);
      expect(golden.data.get(userData)).not.toContain(`NodeupConfigHash: ${hash}\n`);
    }
  });

  test('fails when the version is not a Kubernetes release', () => {
    expect(() => withKubernetesVersion(golden, 'latest')).toThrow(
      new GoldenUnsupported('spec.kubernetesVersion must be a release such as 1.36.4, got "latest"'),
    );
  });
});

describeWithMoto('kops stand-in against moto: set cluster, then update renders the new release; every call is logged in order', () => {
  useMoto();
  const CLUSTER = 'demo.example.org';
  const BUCKET = 'fabricctl-state-123456789012-us-east-2';
  const STATE = `s3://${BUCKET}/fabrics/demo/kops`;
  const common = [`--name=${CLUSTER}`, `--state=${STATE}`];
  const scratch = mkdtempSync(join(tmpdir(), 'kops-standin-set-'));
  const callLog = join(scratch, 'calls.jsonl');
  // jest's process.env is not the child's default; AWS_ENDPOINT_URL is moto's by now.
  const kops = (...args: string[]) =>
    spawnSync(join(STANDIN, 'bin/kops'), args, { encoding: 'utf8', env: { ...process.env, KOPS_STANDIN_CALL_LOG: callLog } });
  const calls = (): CallRecord[] => readKopsCalls(callLog);
  const rendered = (out: string, file: string): string => readFileSync(join(scratch, out, 'data', file), 'utf8');
  const completedVersion = (out: string): string | undefined =>
    /^ {2}kubernetesVersion: (.+)$/m.exec(rendered(out, 'aws_s3_object_cluster-completed.spec_content'))?.[1];
  const update = (out: string) => kops('update', 'cluster', ...common, '--target=terraform', `--out=${join(scratch, out)}`);
  const s3 = () => new S3Client({ forcePathStyle: true });
  /** Where fabricctl kubeconfig reads the cluster CA (its own rule, not the stand-in's). */
  const keysetKey = clusterCaKey('demo', CLUSTER);
  const readKeyset = async (): Promise<string> =>
    (await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: keysetKey }))).Body!.transformToString();
  let firstKeyset = '';

  beforeAll(async () => {
    await new S3Client({ forcePathStyle: true }).send(
      new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }),
    );
    await new Route53Client({}).send(new CreateHostedZoneCommand({ Name: 'example.org', CallerReference: 'kops-standin-set-cluster' }));
    writeFileSync(join(scratch, 'id_rsa.pub'), readFileSync(join(STANDIN, 'golden/ha/id_rsa.pub')));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test('GIVEN a cluster created at 1.35.0 WHEN update renders it THEN the completed spec says 1.35.0', () => {
    const zones = '--zones=us-east-2a,us-east-2b,us-east-2c';
    const create = kops(
      'create',
      'cluster',
      ...common,
      zones,
      zones.replace('--zones', '--control-plane-zones'),
      '--network-id=vpc-0abc',
      '--subnets=subnet-0aaa,subnet-0bbb,subnet-0ccc',
      '--dns-zone=example.org',
      '--kubernetes-version=1.35.0',
      `--ssh-public-key=${join(scratch, 'id_rsa.pub')}`,
    );
    expect({ status: create.status, stderr: create.stderr }).toEqual({ status: 0, stderr: 'kops stand-in (kops is not installed)\n' });
    expect(update('before').status).toBe(0);
    expect(completedVersion('before')).toBe('1.35.0');
  });

  test(
    'GIVEN update ran with no CA handed over WHEN the state store is read ' +
      "THEN it holds kops's kubernetes-ca Keyset of a new CA, where fabricctl kubeconfig reads it",
    async () => {
      expect(keysetKey).toBe(`fabrics/demo/kops/${CLUSTER}/${CLUSTER_CA_KEYSET.path}`);
      firstKeyset = await readKeyset();
      const doc = parseYaml(firstKeyset) as {
        apiVersion: string;
        kind: string;
        metadata: unknown;
        spec: { keys: { id: string; privateMaterial: string }[]; primaryId: string; type: string };
      };
      expect({
        apiVersion: doc.apiVersion,
        kind: doc.kind,
        metadata: doc.metadata,
        type: doc.spec.type,
        keys: doc.spec.keys.length,
      }).toEqual({
        apiVersion: 'kops.k8s.io/v1alpha2',
        kind: 'Keyset',
        metadata: { creationTimestamp: null, name: 'kubernetes-ca' },
        type: 'Keypair',
        keys: 1,
      });
      expect(doc.spec.primaryId).toMatch(/^[1-9][0-9]{20,}$/);
      expect(doc.spec.keys[0]?.id).toBe(doc.spec.primaryId);
      expect(Buffer.from(doc.spec.keys[0]?.privateMaterial ?? '', 'base64').toString()).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
      const ca = parseClusterCaKeyset(firstKeyset, keysetKey);
      expect(new X509Certificate(ca.certPem).subject).toBe('CN=kubernetes-ca');
    },
  );

  test(
    'GIVEN the cluster WHEN set cluster spec.kubernetesVersion=1.36.4 ' +
      'THEN the next update renders the control plane at it and keeps the nodes at the version the control plane runs',
    async () => {
      const set = kops('set', 'cluster', ...common, 'spec.kubernetesVersion=1.36.4');
      expect({ status: set.status, stderr: set.stderr }).toEqual({ status: 0, stderr: 'kops stand-in (kops is not installed)\n' });
      const config = await new S3Client({ forcePathStyle: true }).send(
        new GetObjectCommand({ Bucket: BUCKET, Key: `fabrics/demo/kops/${CLUSTER}/config` }),
      );
      expect((parseYaml(await config.Body!.transformToString()) as { spec: { kubernetesVersion: string } }).spec.kubernetesVersion).toBe(
        '1.36.4',
      );

      const after = update('after');
      expect(after.status).toBe(0);
      expect(after.stdout).toContain(
        'kops stand-in: the control plane runs 1.35.0: the node instance groups stay at it until the control plane runs 1.36.4',
      );
      expect(completedVersion('after')).toBe('1.36.4');
      expect(rendered('after', 'aws_s3_object_nodeupconfig-master-us-east-2a_content')).toContain('\nKubernetesVersion: 1.36.4\n');
      expect(rendered('after', 'aws_s3_object_nodeupconfig-nodes_content')).toContain('\nKubernetesVersion: 1.35.0\n');
      const changed = (out: string, group: string) => {
        const file = `aws_launch_template_${group}.${CLUSTER}_user_data`;
        return rendered(out, file) !== rendered('before', file);
      };
      expect(
        ['master-us-east-2a.masters', 'master-us-east-2b.masters', 'master-us-east-2c.masters', 'nodes'].map((g) => changed('after', g)),
      ).toEqual([true, true, true, false]);

      // --ignore-kubelet-version-skew moves the nodes at once; without it, rolling the control plane does.
      const ignoring = kops(
        'update',
        'cluster',
        ...common,
        '--target=terraform',
        `--out=${join(scratch, 'ignoring')}`,
        '--ignore-kubelet-version-skew',
      );
      expect(ignoring.status).toBe(0);
      expect(rendered('ignoring', 'aws_s3_object_nodeupconfig-nodes_content')).toContain('\nKubernetesVersion: 1.36.4\n');
      const rolled = kops('rolling-update', 'cluster', ...common, '--instance-group-roles=control-plane', '--yes', '--cloudonly');
      expect(rolled.stdout).toContain(`kops stand-in: the control plane of ${CLUSTER} now runs 1.36.4\n`);
      expect(update('rolled').status).toBe(0);
      expect(rendered('rolled', 'aws_s3_object_nodeupconfig-nodes_content')).toContain('\nKubernetesVersion: 1.36.4\n');
      expect(changed('rolled', 'nodes')).toBe(true);
    },
  );

  test('GIVEN the CA keyset WHEN a later update runs THEN the keyset is kept as it was (kops never makes a cluster CA twice)', async () => {
    expect(firstKeyset).not.toBe('');
    expect(await readKeyset()).toBe(firstKeyset);
  });

  test('GIVEN the cluster WHEN rolling-update selects a role THEN control-plane names 3 control-plane groups, node the node group', () => {
    expect(kops('rolling-update', 'cluster', ...common, '--instance-group-roles=control-plane').stdout).toContain(
      'kops stand-in: instance groups selected (roles control-plane): master-us-east-2a, master-us-east-2b, master-us-east-2c\n',
    );
    expect(kops('rolling-update', 'cluster', ...common, '--instance-group-roles=node').stdout).toContain(
      'kops stand-in: instance groups selected (roles node): nodes\n',
    );
  });

  test(
    'fails when set cluster is given an undocumented flag, a field the stand-in does not set, or an argument without =; ' +
      'or rolling-update an undocumented role',
    () => {
      const flag = kops('set', 'cluster', ...common, '--set=spec.kubernetesVersion=1.36.4');
      expect({ status: flag.status, stderr: flag.stderr }).toEqual({
        status: 1,
        stderr: 'kops stand-in (kops is not installed)\nError: unknown flag: --set\n',
      });
      expect(kops('set', 'cluster', ...common, 'spec.networking.cilium.version=1.0').stderr).toContain(
        'Error: the stand-in sets only spec.kubernetesVersion (kops sets more), got "spec.networking.cilium.version"',
      );
      expect(kops('set', 'cluster', CLUSTER, `--state=${STATE}`, 'spec.kubernetesVersion').stderr).toContain(
        'Error: unrecognized parameter "spec.kubernetesVersion" (missing \'=\')',
      );
      expect(kops('rolling-update', 'cluster', ...common, '--instance-group-roles=master').stderr).toContain(
        'Error: unknown instance group role "master" in --instance-group-roles: use control-plane, apiserver, node, bastion',
      );
    },
  );

  test(
    'GIVEN every call above WHEN the call log is read ' +
      'THEN it lists them in order, each with its command line, the command it named and its exit status',
    () => {
      expect(calls().map((c) => [c.command, c.exitCode])).toEqual([
        ['create cluster', 0],
        ['update cluster', 0],
        ['set cluster', 0],
        ['update cluster', 0],
        // --ignore-kubelet-version-skew, the control plane's roll, the update after it.
        ['update cluster', 0],
        ['rolling-update cluster', 0],
        ['update cluster', 0],
        ['rolling-update cluster', 0],
        ['rolling-update cluster', 0],
        // A command line that does not parse names no command.
        [null, 1],
        ['set cluster', 1],
        ['set cluster', 1],
        ['rolling-update cluster', 1],
      ]);
      expect(calls()[2]?.argv).toEqual(['set', 'cluster', ...common, 'spec.kubernetesVersion=1.36.4']);
    },
  );

  test('GIVEN the cluster WHEN delete cluster --yes runs THEN nothing of it is left in the state store, CA keyset included', async () => {
    const listed = async () =>
      ((await s3().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `fabrics/demo/kops/${CLUSTER}/` }))).Contents ?? []).map(
        (o) => o.Key,
      );
    expect(await listed()).toContain(keysetKey);
    const deleted = kops('delete', 'cluster', ...common, '--yes');
    expect({ status: deleted.status, stderr: deleted.stderr }).toEqual({ status: 0, stderr: 'kops stand-in (kops is not installed)\n' });
    expect(deleted.stdout).toContain(`state-store-object  s3://${BUCKET}/${keysetKey}\n`);
    expect(await listed()).toEqual([]);
  });

  test('GIVEN a CA in KOPS_STANDIN_API_CA_FILE and _KEY_FILE WHEN a cluster is created, updated THEN the keyset holds it', async () => {
    const handed = createTestCa('fabricctl test CA (stand-in) for the API');
    writeFileSync(join(scratch, 'ca.pem'), handed.certPem);
    writeFileSync(join(scratch, 'ca-key.pem'), handed.keyPem, { mode: 0o600 });
    const env = {
      ...process.env,
      KOPS_STANDIN_API_CA_FILE: join(scratch, 'ca.pem'),
      KOPS_STANDIN_API_CA_KEY_FILE: join(scratch, 'ca-key.pem'),
    };
    const zones = '--zones=us-east-2a,us-east-2b,us-east-2c';
    const withCa = (...args: string[]) => spawnSync(join(STANDIN, 'bin/kops'), args, { encoding: 'utf8', env });
    expect(
      withCa(
        'create',
        'cluster',
        ...common,
        zones,
        zones.replace('--zones', '--control-plane-zones'),
        '--network-id=vpc-0abc',
        '--subnets=subnet-0aaa,subnet-0bbb,subnet-0ccc',
        '--dns-zone=example.org',
        `--ssh-public-key=${join(scratch, 'id_rsa.pub')}`,
      ).status,
    ).toBe(0);
    expect(withCa('update', 'cluster', ...common, '--target=terraform', `--out=${join(scratch, 'handed')}`).status).toBe(0);
    const ca = parseClusterCaKeyset(await readKeyset(), keysetKey);
    expect(ca.certPem).toBe(handed.certPem.replace(/\r\n/g, '\n'));
    expect(createPrivateKey(ca.keyPem).export({ type: 'pkcs8', format: 'pem' })).toBe(handed.keyPem);
  });
});
