import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * kops's golden Terraform output, re-targeted to one fabric.
 *
 * Source: `golden/ha` (kops 1.36.2, `update cluster --target=terraform` of a cluster with three
 * control-plane zones). fabricctl puts its cluster into an EXISTING VPC and EXISTING subnets, so
 * the output is reshaped exactly as kops's own `golden/shared_subnet` differs from a cluster that
 * owns its network:
 *   - no `aws_vpc`, `aws_subnet`, `aws_internet_gateway`, `aws_route`, `aws_route_table`,
 *     `aws_route_table_association`, `aws_vpc_dhcp_options(_association)` resources;
 *   - the VPC becomes `data "aws_vpc" "<cluster>" { id = "<vpc id>" }` (its CIDRs are read from it),
 *     VPC and subnet ids become literals, `subnet_ids` joins the locals and outputs and
 *     `route_table_public_id` leaves them.
 * Substituted, in kubernetes.tf, data/ and data file names: the cluster name (dotted and dashed),
 * region (and the ARN partition), zones (and the etcd member names kops derives from them), the
 * state store (bucket and key prefix, where kops's tests used `memfs://tests` / `testingBucket` /
 * `placeholder-*-bucket`), account id, hosted zone id, the SSH public key and its fingerprint,
 * control-plane and node machine types, the node group's size (`--node-count`), and the
 * security-group rules for `--admin-access` (443) and `--ssh-access` (22): one rule per CIDR, named
 * as kops names them; no SSH rule when SSH access is empty.
 * Not substituted (kept as in the golden files, because they embed version-specific hashes or
 * describe the kops test cluster): Kubernetes version, networking, AMI id, network CIDR inside the
 * cluster spec objects, and cloud labels. No resource is added that kops's golden output lacks.
 */

const GOLDEN_CLUSTER = 'ha.example.com';
const GOLDEN_REGION = 'us-test-1';
export const GOLDEN_ZONES = ['us-test-1a', 'us-test-1b', 'us-test-1c'] as const;

/** Resource types kops emits only when it owns the network (absent from `shared_subnet`). */
const NETWORK_RESOURCE_TYPES = [
  'aws_internet_gateway', 'aws_route', 'aws_route_table', 'aws_route_table_association', 'aws_subnet',
  'aws_vpc', 'aws_vpc_dhcp_options', 'aws_vpc_dhcp_options_association',
] as const;

export interface GoldenOutput {
  readonly tf: string;
  /** data/ file name -> content. */
  readonly data: ReadonlyMap<string, string>;
}

export function readGolden(dir: string): GoldenOutput {
  const data = new Map<string, string>();
  for (const file of readdirSync(join(dir, 'data')).sort()) data.set(file, readFileSync(join(dir, 'data', file), 'utf8'));
  return { tf: readFileSync(join(dir, 'kubernetes.tf'), 'utf8'), data };
}

export interface RenderOptions {
  readonly clusterName: string;
  readonly region: string;
  /** Control-plane zones, in order; exactly three. */
  readonly zones: readonly string[];
  readonly vpcId: string;
  /** Subnet ids, in zone order. */
  readonly subnetIds: readonly string[];
  readonly stateBucket: string;
  /** Key prefix of the state store inside the bucket (`fabrics/x/kops`), no trailing slash. */
  readonly statePrefix: string;
  readonly accountId: string;
  readonly hostedZoneId: string;
  readonly sshPublicKey: string;
  /** OpenSSH MD5 fingerprint, `aa:bb:...`, as kops names the key pair. */
  readonly sshFingerprint: string;
  readonly controlPlaneSize: string;
  readonly nodeSize: string;
  readonly nodeCount: number;
  readonly adminAccess: readonly string[];
  readonly sshAccess: readonly string[];
}

export class GoldenUnsupported extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GoldenUnsupported';
  }
}

interface Block {
  /** `resource`, `data`, `output`, `locals`, `provider`, `terraform`. */
  readonly kind: string;
  readonly type: string;
  readonly name: string;
  text: string;
}

function splitBlocks(tf: string): Block[] {
  const blocks: Block[] = [];
  let current: string[] = [];
  for (const line of tf.split('\n')) {
    if (current.length === 0 && line.trim() === '') continue;
    current.push(line);
    if (line === '}') {
      const header = current[0] ?? '';
      const words = [...header.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? '');
      const kind = header.split(/\s/)[0] ?? '';
      // `resource "type" "name"` and `data "type" "name"`; `output "name"` keeps its one label as type.
      blocks.push({ kind, type: words[0] ?? '', name: kind === 'resource' || kind === 'data' ? (words[1] ?? '') : '', text: current.join('\n') });
      current = [];
    }
  }
  return blocks;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function replaceAll(text: string, from: string, to: string): string {
  return text.split(from).join(to);
}

const dashed = (name: string): string => name.replace(/\./g, '-');

/** kops's name for a CIDR inside a security-group rule name: `0.0.0.0/0` -> `0-0-0-0--0`, `::/0` -> `__--0`. */
function cidrRuleName(cidr: string): string {
  return cidr.replace(/\//g, '--').replace(/\./g, '-').replace(/:/g, '_');
}

function ruleFromTemplate(template: string, cidr: string): string {
  const ipv6 = cidr.includes(':');
  return template
    .replace('from-0-0-0-0--0-', `from-${cidrRuleName(cidr)}-`)
    .replace(/^ {2}cidr_blocks( +)= \["0\.0\.0\.0\/0"\]$/m, ipv6 ? `  ipv6_cidr_blocks = ["${cidr}"]` : `  cidr_blocks$1= ["${cidr}"]`);
}

/** Renders kubernetes.tf and data/ for a three-zone cluster in existing subnets. Pure. */
export function renderSharedSubnets(golden: GoldenOutput, options: RenderOptions): { tf: string; data: Map<string, string> } {
  if (options.zones.length !== GOLDEN_ZONES.length) {
    throw new GoldenUnsupported(`the stand-in has golden output for ${GOLDEN_ZONES.length} control-plane zones only, got ${options.zones.length} (${options.zones.join(',')})`);
  }
  if (options.subnetIds.length !== options.zones.length) {
    throw new GoldenUnsupported(`one shared subnet per zone is needed: ${options.zones.length} zones, ${options.subnetIds.length} subnets`);
  }
  const goldenDashed = dashed(GOLDEN_CLUSTER);
  let blocks = splitBlocks(golden.tf).filter(
    (b) => !(b.kind === 'resource' && (NETWORK_RESOURCE_TYPES as readonly string[]).includes(b.type)) && !(b.kind === 'output' && b.type === 'route_table_public_id'),
  );

  // Access rules: one per CIDR, from the golden 0.0.0.0/0 rules as templates.
  const accessRule = (port: number, role: string): string => `from-0-0-0-0--0-ingress-tcp-${port}to${port}-${role}-${goldenDashed}`;
  const templates = new Map<string, Block>();
  for (const b of blocks) if (b.type === 'aws_security_group_rule' && /^from-0-0-0-0--0-ingress-tcp-(22to22|443to443)-/.test(b.name)) templates.set(b.name, b);
  const wanted: Array<[string, readonly string[]]> = [
    [accessRule(443, 'masters'), options.adminAccess],
    [accessRule(22, 'masters'), options.sshAccess],
    [accessRule(22, 'nodes'), options.sshAccess],
  ];
  const generated: Block[] = [];
  for (const [name, cidrs] of wanted) {
    const template = templates.get(name);
    if (!template) throw new GoldenUnsupported(`golden output lacks the rule ${name}`);
    for (const cidr of cidrs) {
      const text = ruleFromTemplate(template.text, cidr);
      generated.push({ ...template, name: name.replace('from-0-0-0-0--0-', `from-${cidrRuleName(cidr)}-`), text });
    }
  }
  blocks = blocks.filter((b) => !templates.has(b.name));
  const firstRule = blocks.findIndex((b) => b.type === 'aws_security_group_rule');
  const rules = [...blocks.filter((b) => b.type === 'aws_security_group_rule'), ...generated].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  blocks = blocks.filter((b) => b.type !== 'aws_security_group_rule');
  blocks.splice(firstRule, 0, ...rules);

  // Existing network: ids as literals, the VPC as a data source (as in golden/shared_subnet).
  const subnetList = `[${options.subnetIds.map((id) => `"${id}"`).join(', ')}]`;
  const terraformIndex = blocks.findIndex((b) => b.kind === 'terraform');
  blocks.splice(terraformIndex, 0, { kind: 'data', type: 'aws_vpc', name: goldenDashed, text: `data "aws_vpc" "${goldenDashed}" {\n  id = "${options.vpcId}"\n}` });
  const subnetOutput = blocks.findIndex((b) => b.kind === 'output' && b.type === `subnet_${GOLDEN_ZONES[0]}_id`);
  blocks.splice(subnetOutput, 0, { kind: 'output', type: 'subnet_ids', name: '', text: `output "subnet_ids" {\n  value = ${subnetList}\n}` });

  let tf = `${blocks.map((b) => b.text).join('\n\n')}\n`;
  tf = tf.replace(/^ {2}route_table_public_id +=.*\n/m, '');
  tf = tf.replace(/^( {2}region +=.*\n)/m, `$1  subnet_ids = ${subnetList}\n`);
  const goldenSubnetRefs = GOLDEN_ZONES.map((z) => `aws_subnet.${z}-${goldenDashed}.id`);
  tf = tf.replace(new RegExp(`\\[${goldenSubnetRefs.map(escapeRegExp).join(', ')}\\]`, 'g'), subnetList);
  GOLDEN_ZONES.forEach((zone, i) => {
    tf = replaceAll(tf, `aws_subnet.${zone}-${goldenDashed}.id`, `"${options.subnetIds[i] ?? ''}"`);
  });
  tf = replaceAll(tf, `aws_vpc.${goldenDashed}.id`, `"${options.vpcId}"`);
  tf = replaceAll(tf, `aws_vpc.${goldenDashed}.`, `data.aws_vpc.${goldenDashed}.`);
  if (/aws_(subnet|vpc|route_table|internet_gateway)\./.test(tf.replace(/data\.aws_vpc\./g, ''))) {
    throw new GoldenUnsupported('a reference to a removed network resource is left in the output');
  }

  // Sizes: machine types, and the node group's size (kops sets min = max = --node-count).
  tf = tf.replace(/instance_type = "m3\.medium"/g, `instance_type = "${options.controlPlaneSize}"`);
  tf = tf.replace(/instance_type = "t2\.medium"/g, `instance_type = "${options.nodeSize}"`);
  tf = tf.replace(
    new RegExp(`(resource "aws_autoscaling_group" "nodes-${escapeRegExp(goldenDashed)}" \\{[\\s\\S]*?\\n\\})`),
    (block) => block.replace(/max_size( +)= \d+/, `max_size$1= ${options.nodeCount}`).replace(/min_size( +)= \d+/, `min_size$1= ${options.nodeCount}`),
  );

  const data = new Map(golden.data);
  // The SSH key pair: key file content and the fingerprint in names.
  const goldenKeyFile = [...data.keys()].find((f) => f.startsWith('aws_key_pair_'));
  const goldenFingerprint = goldenKeyFile ? /-([0-9a-f]{32})_public_key$/.exec(goldenKeyFile)?.[1] : undefined;
  if (!goldenKeyFile || !goldenFingerprint) throw new GoldenUnsupported('golden output lacks the key pair');
  data.set(goldenKeyFile, `${options.sshPublicKey.trim()}\n`);
  const goldenColons = goldenFingerprint.replace(/(..)(?!$)/g, '$1:');
  const fingerprintHex = options.sshFingerprint.replace(/:/g, '');

  // etcd member names are the zones' suffixes (kops trims the region from the zone).
  const memberOf = (zone: string): string => zone.slice(options.region.length) || zone;
  const members = options.zones.map(memberOf);
  const goldenMembers = GOLDEN_ZONES.map((z) => z.slice(GOLDEN_REGION.length));
  const partition = options.region.startsWith('cn-') ? 'aws-cn' : options.region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  const statePath = options.statePrefix === '' ? options.clusterName : `${options.statePrefix}/${options.clusterName}`;

  const substitute = (text: string): string => {
    let out = text;
    // Account first, and only where it stands as one (ARN field, URL path): names substituted
    // below (the state bucket) may contain digits of their own.
    out = out.replace(/([:/])123456789012([:/])/g, `$1${options.accountId}$2`);
    out = replaceAll(out, goldenColons, options.sshFingerprint);
    out = replaceAll(out, goldenFingerprint, fingerprintHex);
    out = replaceAll(out, `memfs://tests/${GOLDEN_CLUSTER}`, `s3://${options.stateBucket}/${statePath}`);
    out = replaceAll(out, `tests/${GOLDEN_CLUSTER}`, statePath);
    for (const bucket of ['testingBucket', 'placeholder-read-bucket', 'placeholder-write-bucket']) out = replaceAll(out, bucket, options.stateBucket);
    out = replaceAll(out, 'arn:aws-test:', `arn:${partition}:`);
    out = replaceAll(out, 'Z1AFAKE1ZON3YO', options.hostedZoneId);
    // etcd members: volume names, their tags, and the cluster spec's member list.
    out = out.replace(/"([abc])\.etcd-(main|events)\./g, (_m, l: string, c: string) => `"${members[goldenMembers.indexOf(l)] ?? l}.etcd-${c}.`);
    out = out.replace(/"([abc])-etcd-(main|events)-/g, (_m, l: string, c: string) => `"${members[goldenMembers.indexOf(l)] ?? l}-etcd-${c}-`);
    out = out.replace(/"([abc])\/a,b,c"/g, (_m, l: string) => `"${members[goldenMembers.indexOf(l)] ?? l}/${members.join(',')}"`);
    out = out.replace(/(- instanceGroup: master-us-test-1([abc])\n\s+name: )([abc])\n/g, (_m, head: string, l: string) => `${head}${members[goldenMembers.indexOf(l)] ?? l}\n`);
    out = replaceAll(out, GOLDEN_CLUSTER, options.clusterName);
    out = replaceAll(out, goldenDashed, dashed(options.clusterName));
    out = out.replace(/us-test-1([abc])/g, (_m, l: string) => options.zones[goldenMembers.indexOf(l)] ?? _m);
    out = replaceAll(out, GOLDEN_REGION, options.region);
    return out;
  };

  const renderedData = new Map<string, string>();
  for (const [file, content] of data) renderedData.set(substitute(file), substitute(content));
  return { tf: substitute(tf), data: renderedData };
}
