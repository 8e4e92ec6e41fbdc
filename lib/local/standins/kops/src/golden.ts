import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * kops's golden Terraform output, re-targeted to one fabric.
 *
 * Source: `golden/ha` (kops 1.36.2, `update cluster --target=terraform` of a cluster with three
 * control-plane zones, us-test-1a/b/c, etcd members a/b/c).
 *
 * Zones (expandZones): the stand-in renders 3 or 5 control-plane zones, the counts a fabric spec
 * allows. Everything kops emits once per zone is GENERATED from zone us-test-1a's own output, with
 * the zone substituted; the golden blocks of us-test-1b and us-test-1c are dropped. Generated for
 * zone i (golden names us-test-1<letter i>, etcd member <letter i>):
 *   - per-zone blocks of kubernetes.tf (those whose label names the zone or its etcd member): master
 *     launch template, ASG, lifecycle hook, etcd EBS volumes main/events, etcd-manager manifest and
 *     nodeupconfig objects, subnet, route table association, subnet output;
 *   - per-zone data/ files (those whose name names the zone): user_data, etcd-manager manifests,
 *     nodeupconfig-master-*; the user_data's NodeupConfigHash is the SHA-256 of the generated
 *     nodeupconfig in the golden's names, as kops's own hashes for a, b and c are (like theirs, it
 *     is not recomputed after the names are substituted);
 *   - per-zone entries of shared text: a line or YAML list item naming zone a alone (the locals'
 *     subnet ids, the cluster spec's etcdMembers and subnets), and `[x_a, x_b, x_c]` lists (the
 *     locals and outputs master_autoscaling_group_ids and node_subnet_ids, the node ASG's subnets);
 *   - counts: every etcd volume's member list tag (`"a/a,b,c,d,e"`), the etcd cluster specs'
 *     memberCount. A subnet CIDR inside the cluster spec follows the golden's own stride (a's CIDR
 *     plus i times the distance from a to b: 172.20.32.0/19, .64, .96, .128, .160).
 * Blocks are then in kops's order again (by type, then name). For 3 zones the generation gives back
 * the golden output unchanged (a test checks this byte for byte), and no resource is added that
 * kops's golden output lacks per zone.
 *
 * Network: fabricctl puts its cluster into an EXISTING VPC and EXISTING subnets, so the output is
 * reshaped exactly as kops's own `golden/shared_subnet` differs from a cluster that owns its network:
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
 * Kubernetes version (withKubernetesVersion, when the cluster's config names one): the version
 * fields kops derives from `spec.kubernetesVersion` (the completed spec's `kubernetesVersion`, each
 * nodeupconfig's `KubernetesVersion`) and the control-plane images tagged with it
 * (`registry.k8s.io/kube-{apiserver,controller-manager,scheduler,proxy}:v<version>`), before the
 * zones are generated, so every user_data's NodeupConfigHash (control plane and nodes) is the
 * SHA-256 of its nodeupconfig at that version (in the golden's names, as for the zones) and each
 * launch template changes with the version, as kops's do. The node group's nodeupconfig may be at an
 * older version than the rest (nodeKubernetesVersion): kops keeps nodes at the version the control
 * plane runs until it runs the new one. Not substituted: the kubelet/kubectl asset lines
 * (`<sha256>@https://dl.k8s.io/release/v1.32.0/...`), because kops fetches each release's hashes
 * from dl.k8s.io and the stand-in cannot; they stay the golden release's.
 * Not substituted (kept as in the golden files, because they embed version-specific hashes or
 * describe the kops test cluster): networking, AMI id, network CIDR inside the cluster spec
 * objects, and cloud labels. No resource is added that kops's golden output lacks.
 */

const GOLDEN_CLUSTER = 'ha.example.com';
const GOLDEN_REGION = 'us-test-1';
/** Control-plane zones in golden/ha; zone i is `us-test-1<letter i>`, its etcd member `<letter i>`. */
const GOLDEN_ZONE_COUNT = 3;
/** Control-plane zone counts the stand-in renders: those a fabric spec allows (odd, for etcd's quorum). */
export const SUPPORTED_ZONE_COUNTS: readonly number[] = [3, 5];

/** Resource types kops emits only when it owns the network (absent from `shared_subnet`). */
const NETWORK_RESOURCE_TYPES = [
  'aws_internet_gateway',
  'aws_route',
  'aws_route_table',
  'aws_route_table_association',
  'aws_subnet',
  'aws_vpc',
  'aws_vpc_dhcp_options',
  'aws_vpc_dhcp_options_association',
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
  /** Control-plane zones, in order; 3 or 5 (SUPPORTED_ZONE_COUNTS). */
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
  /** `spec.kubernetesVersion` of the cluster's config (`1.36.4` or `v1.36.4`); the golden's own when absent. */
  readonly kubernetesVersion?: string;
  /**
   * The version the node instance group is rendered at, when kops keeps it behind the control plane
   * (a kubelet may not be newer than the API server it joins); `kubernetesVersion` when absent.
   */
  readonly nodeKubernetesVersion?: string;
}

/** The data files of the node instance group that carry the Kubernetes version (its nodeupconfig). */
const NODE_VERSIONED_FILES: readonly string[] = ['aws_s3_object_nodeupconfig-nodes_content'];

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
      blocks.push({
        kind,
        type: words[0] ?? '',
        name: kind === 'resource' || kind === 'data' ? (words[1] ?? '') : '',
        text: current.join('\n'),
      });
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

// ---- Zones: per-zone output generated from zone a (see the header) ----

const memberAt = (i: number): string => String.fromCharCode('a'.charCodeAt(0) + i);
const goldenZoneAt = (i: number): string => `${GOLDEN_REGION}${memberAt(i)}`;
const TEMPLATE_ZONE = goldenZoneAt(0);
const range = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

/** Indexes of the golden zones a text names (`us-test-1b` -> 1). */
function zonesNamed(text: string): Set<number> {
  const found = new Set<number>();
  for (const m of text.matchAll(new RegExp(`${escapeRegExp(GOLDEN_REGION)}([a-z])`, 'g')))
    found.add((m[1] ?? 'a').charCodeAt(0) - 'a'.charCodeAt(0));
  return found;
}

/** The zone a block belongs to, from its label: the zone's name, or its etcd member (`b-etcd-main-...`). */
function zoneOfLabel(label: string): number | undefined {
  const member = /^([a-z])-etcd-/.exec(label)?.[1];
  if (member !== undefined) return member.charCodeAt(0) - 'a'.charCodeAt(0);
  const zones = [...zonesNamed(label)];
  return zones.length === 1 ? zones[0] : undefined;
}

const labelOf = (b: Block): string => (b.kind === 'output' ? b.type : b.name);

interface ZonePlan {
  readonly count: number;
  /** etcd member names, in zone order. */
  readonly members: readonly string[];
  /** Subnet CIDRs, in zone order, continuing the golden's own stride. */
  readonly cidrs: readonly string[];
}

const ipv4ToNumber = (ip: string): number => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const numberToIpv4 = (n: number): string => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

function zonePlan(blocks: readonly Block[], count: number): ZonePlan {
  const cidrOf = (zone: number): [number, string] | undefined => {
    const subnet = blocks.find((b) => b.type === 'aws_subnet' && zoneOfLabel(b.name) === zone);
    const match = subnet ? /cidr_block += "([\d.]+)\/(\d+)"/.exec(subnet.text) : null;
    return match ? [ipv4ToNumber(match[1] ?? ''), match[2] ?? ''] : undefined;
  };
  const first = cidrOf(0);
  const second = cidrOf(1);
  if (!first || !second) throw new GoldenUnsupported(`golden output lacks the subnets of ${goldenZoneAt(0)} and ${goldenZoneAt(1)}`);
  const stride = second[0] - first[0];
  return {
    count,
    members: range(count).map(memberAt),
    cidrs: range(count).map((i) => `${numberToIpv4(first[0] + i * stride)}/${first[1]}`),
  };
}

const GOLDEN_MEMBER_LIST = range(GOLDEN_ZONE_COUNT).map(memberAt).join(',');

/** Zone a's text (a block, a data file, its name, a line) made zone i's. */
function forZone(text: string, i: number, plan: ZonePlan): string {
  const member = memberAt(i);
  let out = replaceAll(text, TEMPLATE_ZONE, goldenZoneAt(i));
  out = out.replace(/"a([.-])etcd-(main|events)([.-])/g, `"${member}$1etcd-$2$3`);
  // Every volume lists all members; the cluster spec names each member once.
  out = replaceAll(out, `"a/${GOLDEN_MEMBER_LIST}"`, `"${member}/${plan.members.join(',')}"`);
  out = out.replace(/^( +name: )a$/gm, `$1${member}`);
  return replaceAll(out, plan.cidrs[0] ?? '', plan.cidrs[i] ?? '');
}

/**
 * Text shared by all zones: a `[x_a, x_b, x_c]` list becomes one item per zone, and a line or YAML
 * list item naming zone a alone becomes one per zone (those naming b or c alone go).
 */
function expandShared(text: string, plan: ZonePlan): string {
  const lists = text.replace(/\[([^[\]\n]*)\]/g, (whole, inner: string) => {
    const items = inner.split(', ');
    const template = items[0] ?? '';
    const perZone =
      items.length === GOLDEN_ZONE_COUNT && zonesNamed(template).has(0) && items.every((item, i) => item === forZone(template, i, plan));
    return perZone
      ? `[${range(plan.count)
          .map((i) => forZone(template, i, plan))
          .join(', ')}]`
      : whole;
  });
  return expandUnits(lists.split('\n'), plan).join('\n');
}

const indentOf = (line: string): number => line.length - line.trimStart().length;

/** Lines, a YAML list item and its more-indented lines counting as one unit. */
function expandUnits(lines: readonly string[], plan: ZonePlan): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < lines.length) {
    const first = lines[start] ?? '';
    const dash = /^( *)- /.exec(first);
    let end = start + 1;
    if (dash) {
      const indent = (dash[1] ?? '').length;
      while (end < lines.length && indentOf(lines[end] ?? '') > indent && (lines[end] ?? '').trim() !== '') end += 1;
    }
    const unit = lines.slice(start, end);
    const zones = zonesNamed(unit.join('\n'));
    if (zones.size === 1 && zones.has(0)) {
      for (const i of range(plan.count)) out.push(...forZone(unit.join('\n'), i, plan).split('\n'));
    } else if (zones.size === 1) {
      // Zone b's or c's own entry: generated from zone a's above.
    } else if (zones.size > 1 && unit.length > 1) {
      out.push(first, ...expandUnits(unit.slice(1), plan));
    } else {
      out.push(...unit);
    }
    start = end;
  }
  return out;
}

/** Blocks in kops's order: by kind and type, then by name (outputs by name). */
function kopsOrder(blocks: readonly Block[]): Block[] {
  const group = (b: Block): string => (b.kind === 'output' ? 'output' : `${b.kind} ${b.type}`);
  const byLabel = (a: Block, b: Block): number => (labelOf(a) < labelOf(b) ? -1 : labelOf(a) > labelOf(b) ? 1 : 0);
  const ordered: Block[] = [];
  let run: Block[] = [];
  for (const block of [...blocks, undefined]) {
    if (run.length > 0 && (block === undefined || group(block) !== group(run[0] as Block))) {
      ordered.push(...run.sort(byLabel));
      run = [];
    }
    if (block) run.push(block);
  }
  return ordered;
}

/** Why a control-plane zone count is refused; kops itself refuses even counts before this. */
export function unsupportedZoneCount(count: number, zones?: readonly string[]): string {
  return (
    `the stand-in renders ${SUPPORTED_ZONE_COUNTS.join(' or ')} control-plane zones ` +
    `(the counts a fabric spec allows, generated from kops's golden three-zone output), ` +
    `got ${count}${zones ? ` (${zones.join(',')})` : ''}`
  );
}

const sha256Base64 = (text: string): string => createHash('sha256').update(text).digest('base64');

/**
 * golden/ha with `count` control-plane zones, in the golden's own names (us-test-1a, b, c, d, e...):
 * every per-zone block, file and entry generated from zone a's. Pure.
 */
export function expandZones(golden: GoldenOutput, count: number): GoldenOutput {
  if (!SUPPORTED_ZONE_COUNTS.includes(count)) throw new GoldenUnsupported(unsupportedZoneCount(count));
  const goldenBlocks = splitBlocks(golden.tf);
  const plan = zonePlan(goldenBlocks, count);
  const blocks: Block[] = [];
  for (const block of goldenBlocks) {
    const zone = block.kind === 'resource' || block.kind === 'data' || block.kind === 'output' ? zoneOfLabel(labelOf(block)) : undefined;
    if (zone === 0) {
      // Labels are read back from the generated header (etcd member names are matched inside quotes).
      for (const i of range(count)) blocks.push(...splitBlocks(forZone(block.text, i, plan)));
    } else if (zone === undefined) {
      blocks.push({ ...block, text: expandShared(block.text, plan) });
    }
  }
  const tf = `${kopsOrder(blocks)
    .map((b) => b.text)
    .join('\n\n')}\n`;

  const data = new Map<string, string>();
  for (const [file, content] of golden.data) {
    const zones = zonesNamed(file);
    if (zones.size === 0) {
      data.set(file, expandShared(content, plan).replace(`"memberCount": ${GOLDEN_ZONE_COUNT},`, `"memberCount": ${count},`));
    } else if (zones.has(0)) {
      for (const i of range(count)) data.set(forZone(file, i, plan), forZone(content, i, plan));
    }
  }
  // kops puts the hash of each instance group's nodeupconfig into its user_data.
  const groups = [
    ...range(count).map((i) => [`master-${goldenZoneAt(i)}.masters`, `master-${goldenZoneAt(i)}`] as const),
    ['nodes', 'nodes'] as const,
  ];
  for (const [template, group] of groups) {
    const userData = `aws_launch_template_${template}.${GOLDEN_CLUSTER}_user_data`;
    const nodeup = data.get(`aws_s3_object_nodeupconfig-${group}_content`);
    const script = data.get(userData);
    if (script === undefined || nodeup === undefined || !/^NodeupConfigHash: /m.test(script)) {
      throw new GoldenUnsupported(`golden output lacks ${userData} with a NodeupConfigHash, or its nodeupconfig`);
    }
    data.set(userData, script.replace(/^NodeupConfigHash: .*$/m, `NodeupConfigHash: ${sha256Base64(nodeup)}`));
  }
  return { tf, data: new Map([...data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
}

const COMPLETED_SPEC_FILE = 'aws_s3_object_cluster-completed.spec_content';

/** The Kubernetes release kops's golden cluster runs, from its completed spec (`kubernetesVersion: 1.32.0`). */
export function goldenKubernetesVersion(golden: GoldenOutput): string {
  const version = /^ {2}kubernetesVersion: (\S+)$/m.exec(golden.data.get(COMPLETED_SPEC_FILE) ?? '')?.[1];
  if (version === undefined) throw new GoldenUnsupported(`golden output lacks ${COMPLETED_SPEC_FILE} with spec.kubernetesVersion`);
  return version;
}

/**
 * The golden output as kops renders it for another Kubernetes release: the fields and images kops
 * derives from spec.kubernetesVersion (see the header; asset hashes are not among them). Pure.
 */
export function withKubernetesVersion(golden: GoldenOutput, version: string): GoldenOutput {
  if (!/^v?\d+\.\d+\.\d+$/.test(version))
    throw new GoldenUnsupported(`spec.kubernetesVersion must be a release such as 1.36.4, got ${JSON.stringify(version)}`);
  const to = version.replace(/^v/, '');
  const from = goldenKubernetesVersion(golden);
  const fields = new RegExp(`^( *)(kubernetesVersion|KubernetesVersion): ${escapeRegExp(from)}$`, 'gm');
  const images = new RegExp(`(registry\\.k8s\\.io/kube-(?:apiserver|controller-manager|scheduler|proxy)):v${escapeRegExp(from)}\\b`, 'g');
  const data = new Map<string, string>();
  for (const [file, content] of golden.data) data.set(file, content.replace(fields, `$1$2: ${to}`).replace(images, `$1:v${to}`));
  return { tf: golden.tf, data };
}

/** The golden output at the cluster's version, its node group's nodeupconfig at `nodeVersion` when that differs. */
function versionedFor(golden: GoldenOutput, version: string | undefined, nodeVersion: string | undefined): GoldenOutput {
  const cluster = version === undefined ? golden : withKubernetesVersion(golden, version);
  if (nodeVersion === undefined || nodeVersion === version) return cluster;
  const nodes = withKubernetesVersion(golden, nodeVersion);
  const data = new Map(cluster.data);
  for (const file of NODE_VERSIONED_FILES) data.set(file, nodes.data.get(file) ?? '');
  return { tf: cluster.tf, data };
}

/** Renders kubernetes.tf and data/ for a cluster of 3 or 5 control-plane zones in existing subnets. Pure. */
export function renderSharedSubnets(golden: GoldenOutput, options: RenderOptions): { tf: string; data: Map<string, string> } {
  if (!SUPPORTED_ZONE_COUNTS.includes(options.zones.length))
    throw new GoldenUnsupported(unsupportedZoneCount(options.zones.length, options.zones));
  if (options.subnetIds.length !== options.zones.length) {
    throw new GoldenUnsupported(`one shared subnet per zone is needed: ${options.zones.length} zones, ${options.subnetIds.length} subnets`);
  }
  const versioned = versionedFor(golden, options.kubernetesVersion, options.nodeKubernetesVersion);
  const expanded = expandZones(versioned, options.zones.length);
  const goldenZones = range(options.zones.length).map(goldenZoneAt);
  const goldenDashed = dashed(GOLDEN_CLUSTER);
  let blocks = splitBlocks(expanded.tf).filter(
    (b) =>
      !(b.kind === 'resource' && (NETWORK_RESOURCE_TYPES as readonly string[]).includes(b.type)) &&
      !(b.kind === 'output' && b.type === 'route_table_public_id'),
  );

  // Access rules: one per CIDR, from the golden 0.0.0.0/0 rules as templates.
  const accessRule = (port: number, role: string): string => `from-0-0-0-0--0-ingress-tcp-${port}to${port}-${role}-${goldenDashed}`;
  const templates = new Map<string, Block>();
  for (const b of blocks)
    if (b.type === 'aws_security_group_rule' && /^from-0-0-0-0--0-ingress-tcp-(22to22|443to443)-/.test(b.name)) templates.set(b.name, b);
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
  const rules = [...blocks.filter((b) => b.type === 'aws_security_group_rule'), ...generated].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  blocks = blocks.filter((b) => b.type !== 'aws_security_group_rule');
  blocks.splice(firstRule, 0, ...rules);

  // Existing network: ids as literals, the VPC as a data source (as in golden/shared_subnet).
  const subnetList = `[${options.subnetIds.map((id) => `"${id}"`).join(', ')}]`;
  const terraformIndex = blocks.findIndex((b) => b.kind === 'terraform');
  blocks.splice(terraformIndex, 0, {
    kind: 'data',
    type: 'aws_vpc',
    name: goldenDashed,
    text: `data "aws_vpc" "${goldenDashed}" {\n  id = "${options.vpcId}"\n}`,
  });
  const subnetOutput = blocks.findIndex((b) => b.kind === 'output' && b.type === `subnet_${TEMPLATE_ZONE}_id`);
  blocks.splice(subnetOutput, 0, {
    kind: 'output',
    type: 'subnet_ids',
    name: '',
    text: `output "subnet_ids" {\n  value = ${subnetList}\n}`,
  });

  let tf = `${blocks.map((b) => b.text).join('\n\n')}\n`;
  tf = tf.replace(/^ {2}route_table_public_id +=.*\n/m, '');
  tf = tf.replace(/^( {2}region +=.*\n)/m, `$1  subnet_ids = ${subnetList}\n`);
  const goldenSubnetRefs = goldenZones.map((z) => `aws_subnet.${z}-${goldenDashed}.id`);
  tf = tf.replace(new RegExp(`\\[${goldenSubnetRefs.map(escapeRegExp).join(', ')}\\]`, 'g'), subnetList);
  goldenZones.forEach((zone, i) => {
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
  tf = tf.replace(new RegExp(`(resource "aws_autoscaling_group" "nodes-${escapeRegExp(goldenDashed)}" \\{[\\s\\S]*?\\n\\})`), (block) =>
    block.replace(/max_size( +)= \d+/, `max_size$1= ${options.nodeCount}`).replace(/min_size( +)= \d+/, `min_size$1= ${options.nodeCount}`),
  );

  const data = new Map(expanded.data);
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
  const goldenMembers = goldenZones.map((z) => z.slice(GOLDEN_REGION.length));
  const memberClass = `[${goldenMembers.join('')}]`;
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
    for (const bucket of ['testingBucket', 'placeholder-read-bucket', 'placeholder-write-bucket'])
      out = replaceAll(out, bucket, options.stateBucket);
    out = replaceAll(out, 'arn:aws-test:', `arn:${partition}:`);
    out = replaceAll(out, 'Z1AFAKE1ZON3YO', options.hostedZoneId);
    // etcd members: volume names, their tags, and the cluster spec's member list.
    out = out.replace(
      new RegExp(`"(${memberClass})\\.etcd-(main|events)\\.`, 'g'),
      (_m, l: string, c: string) => `"${members[goldenMembers.indexOf(l)] ?? l}.etcd-${c}.`,
    );
    out = out.replace(
      new RegExp(`"(${memberClass})-etcd-(main|events)-`, 'g'),
      (_m, l: string, c: string) => `"${members[goldenMembers.indexOf(l)] ?? l}-etcd-${c}-`,
    );
    out = out.replace(
      new RegExp(`"(${memberClass})/${goldenMembers.join(',')}"`, 'g'),
      (_m, l: string) => `"${members[goldenMembers.indexOf(l)] ?? l}/${members.join(',')}"`,
    );
    out = out.replace(
      new RegExp(`(- instanceGroup: master-${escapeRegExp(GOLDEN_REGION)}(${memberClass})\\n\\s+name: )(${memberClass})\\n`, 'g'),
      (_m, head: string, l: string) => `${head}${members[goldenMembers.indexOf(l)] ?? l}\n`,
    );
    out = replaceAll(out, GOLDEN_CLUSTER, options.clusterName);
    out = replaceAll(out, goldenDashed, dashed(options.clusterName));
    out = out.replace(
      new RegExp(`${escapeRegExp(GOLDEN_REGION)}(${memberClass})`, 'g'),
      (_m, l: string) => options.zones[goldenMembers.indexOf(l)] ?? _m,
    );
    out = replaceAll(out, GOLDEN_REGION, options.region);
    return out;
  };

  const renderedData = new Map<string, string>();
  for (const [file, content] of data) renderedData.set(substitute(file), substitute(content));
  return { tf: substitute(tf), data: renderedData };
}
