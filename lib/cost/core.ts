import { z } from 'zod';
import { FabricError } from '../domain/errors';
import type { FabricSpec } from '../domain/spec';

/**
 * The cost model: pure functions from a validated fabric spec and a price table to monthly
 * breakdown lines. Nothing here rounds; rounding happens only when printing (format.ts).
 */

/** AWS's own convention for turning an hourly rate into a monthly one. */
const HOURS_PER_MONTH = 730;

/**
 * What kops 1.36 provisions per instance, read from its golden Terraform output for an HA cluster
 * (kops repository tests/integration/update_cluster/ha/kubernetes.tf; vendored copy in
 * lib/local/standins/kops/golden/ha/kubernetes.tf):
 * - `aws_launch_template` master-*: root `volume_size = 64`, `volume_type = "gp3"`, iops 3000, throughput 125
 * - `aws_launch_template` nodes: root `volume_size = 128`, gp3, iops 3000, throughput 125
 * - `aws_ebs_volume` <zone>-etcd-main and <zone>-etcd-events: `size = 20`, `type = "gp3"`, iops 3000,
 *   throughput 125, one pair per control-plane node
 * - every launch template sets `associate_public_ip_address = true` (public subnets, no NAT)
 * - no `aws_lb`/`aws_elb`: with public topology and a real DNS zone kops publishes the API by DNS
 *   (`api: dns: {}`), it adds a load balancer only for private topology, gossip or
 *   `--api-loadbalancer-type`.
 * 3000 IOPS and 125 MB/s are gp3's included baseline, so only GB-months are charged.
 */
const KOPS_VOLUMES = {
  controlPlaneRootGb: 64,
  nodeRootGb: 128,
  etcdMainGb: 20,
  etcdEventsGb: 20,
  type: 'gp3',
} as const;

const priceEntrySchema = z.strictObject({
  usd: z.number().nonnegative(),
  unit: z.string().min(1),
  source: z.string().min(1),
  /** Present when the figure was not found for this region: says why it is believed. */
  estimate: z.string().min(1).optional(),
});

const priceTableSchema = z.strictObject({
  region: z.string().min(1),
  date: z.iso.date(),
  currency: z.literal('USD'),
  source: z.array(z.url()).min(1),
  notes: z.string().optional(),
  instances: z.record(
    z.string(),
    z.strictObject({ hourly: z.number().nonnegative(), source: z.string().min(1), estimate: z.string().min(1).optional() }),
  ),
  items: z.record(z.string(), priceEntrySchema),
});

export type PriceTable = z.output<typeof priceTableSchema>;

/** A price the model needs is not in the table (or there is no table for the region). */
export class PriceUnknown extends FabricError {
  readonly item: string;
  readonly table: string;
  constructor(item: string, table: string, fix: string) {
    super('PriceUnknown', `no price for ${item} in ${table}; ${fix}`);
    this.item = item;
    this.table = table;
  }
}

/** The price table file does not match the schema. */
export class PriceTableInvalid extends FabricError {
  constructor(table: string, detail: string) {
    super('PriceTableInvalid', `price table ${table} is invalid: ${detail}; fix the file against priceTableSchema in lib/cost/core.ts`);
  }
}

export function parsePriceTable(input: unknown, name: string): PriceTable {
  const result = priceTableSchema.safeParse(input);
  if (!result.success) {
    throw new PriceTableInvalid(name, result.error.issues.map((i) => `${i.path.join('.') || '(table)'}: ${i.message}`).join('; '));
  }
  return result.data;
}

function tableName(table: PriceTable): string {
  return `the ${table.region} price table dated ${table.date}`;
}

/** Looks up one item price, or throws `PriceUnknown` naming the item and the table. */
function itemPrice(table: PriceTable, key: string): number {
  const entry = table.items[key];
  if (entry === undefined) {
    throw new PriceUnknown(key, tableName(table), `add "${key}" with its source to lib/cost/prices/${table.region}.json`);
  }
  return entry.usd;
}

function instanceHourly(table: PriceTable, instanceType: string): number {
  const entry = table.instances[instanceType];
  if (entry === undefined) {
    throw new PriceUnknown(
      `instance type ${instanceType}`,
      tableName(table),
      `add it with its source to lib/cost/prices/${table.region}.json or choose one of ${Object.keys(table.instances).join(', ')}`,
    );
  }
  return entry.hourly;
}

export interface CostLine {
  readonly item: string;
  /** In `unit`s; `quantity * unitPrice === monthly`. */
  readonly quantity: number;
  readonly unit: string;
  readonly unitPrice: number;
  readonly monthly: number;
  /** Which table entry priced it (`instances.<type>` or `items.<key>`). */
  readonly price: string;
  readonly note?: string;
}

function line(item: string, quantity: number, unit: string, unitPrice: number, price: string, note?: string): CostLine {
  return { item, quantity, unit, unitPrice, monthly: quantity * unitPrice, price, ...(note === undefined ? {} : { note }) };
}

function sum(lines: readonly CostLine[]): number {
  return lines.reduce((acc, l) => acc + l.monthly, 0);
}

export type ApiLoadBalancer = 'none' | 'nlb' | 'clb';

export interface FabricCostAssumptions {
  /** The API load balancer kops makes: `none` for public topology with a DNS zone (the golden output). */
  readonly apiLoadBalancer: ApiLoadBalancer;
  /** Average NLCU-hours per hour when `apiLoadBalancer` is `nlb`. */
  readonly nlbNlcuPerHour: number;
  /** GB a month through the API load balancer when it is `clb`. */
  readonly clbGbPerMonth: number;
  /** Route 53 standard queries a month answered for the domain's zone. */
  readonly route53QueriesPerMonth: number;
  /** Size of the kops and Terraform state in the state bucket (all versions). */
  readonly s3StateGb: number;
  readonly s3PutPerMonth: number;
  readonly s3GetPerMonth: number;
  /** GB a month through the NAT gateways of the alternatives (both directions), for `compareWithNat`. */
  readonly natGbPerMonth: number;
}

const DEFAULT_ASSUMPTIONS: FabricCostAssumptions = {
  apiLoadBalancer: 'none',
  nlbNlcuPerHour: 1,
  clbGbPerMonth: 10,
  // Resolvers cache the API record; a million a month is generous for one small cluster.
  route53QueriesPerMonth: 1_000_000,
  s3StateGb: 0.1,
  s3PutPerMonth: 10_000,
  s3GetPerMonth: 100_000,
  natGbPerMonth: 100,
};

export interface FabricCostBreakdown {
  readonly nodes: number;
  readonly lines: readonly CostLine[];
  readonly monthlyTotal: number;
}

export interface FabricCostEstimate extends FabricCostBreakdown {
  readonly region: string;
  readonly currency: 'USD';
  readonly tableDate: string;
  readonly hoursPerMonth: number;
  readonly assumptions: FabricCostAssumptions;
  /** The same fabric with the node group at `kubernetes.nodes.max`. */
  readonly atMaxNodes: FabricCostBreakdown;
}

function requireRegion(spec: FabricSpec, table: PriceTable): void {
  if (spec.region !== table.region) {
    throw new PriceUnknown(
      `region ${spec.region}`,
      tableName(table),
      `add lib/cost/prices/${spec.region}.json or cost the spec in ${table.region}`,
    );
  }
}

/** The lines that do not depend on how the fabric reaches the internet. */
function capacityLines(spec: FabricSpec, table: PriceTable, a: FabricCostAssumptions, nodes: number): CostLine[] {
  const zones = spec.zoneCount;
  const { controlPlaneSize, nodeSize } = spec.kubernetes;
  const gp3 = itemPrice(table, 'ebs.gp3.gbMonth');
  const lines: CostLine[] = [
    line(
      `control plane ${controlPlaneSize} x ${zones} (one per zone)`,
      zones * HOURS_PER_MONTH,
      'instance-hour',
      instanceHourly(table, controlPlaneSize),
      `instances.${controlPlaneSize}`,
    ),
    line(
      `nodes ${nodeSize} x ${nodes}`,
      nodes * HOURS_PER_MONTH,
      'instance-hour',
      instanceHourly(table, nodeSize),
      `instances.${nodeSize}`,
    ),
    line(
      `control plane root volumes gp3 ${KOPS_VOLUMES.controlPlaneRootGb} GB x ${zones}`,
      zones * KOPS_VOLUMES.controlPlaneRootGb,
      'GB-month',
      gp3,
      'items.ebs.gp3.gbMonth',
    ),
    line(
      `etcd volumes gp3 (main ${KOPS_VOLUMES.etcdMainGb} GB + events ${KOPS_VOLUMES.etcdEventsGb} GB) x ${zones}`,
      zones * (KOPS_VOLUMES.etcdMainGb + KOPS_VOLUMES.etcdEventsGb),
      'GB-month',
      gp3,
      'items.ebs.gp3.gbMonth',
      'sizes from the kops golden output (aws_ebs_volume *-etcd-main/-events)',
    ),
    line(
      `node root volumes gp3 ${KOPS_VOLUMES.nodeRootGb} GB x ${nodes}`,
      nodes * KOPS_VOLUMES.nodeRootGb,
      'GB-month',
      gp3,
      'items.ebs.gp3.gbMonth',
    ),
  ];
  lines.push(...apiLoadBalancerLines(table, a, zones));
  lines.push(
    line(
      "Route 53 hosted zone (the domain's, already present)",
      1,
      'hosted zone-month',
      itemPrice(table, 'route53.hostedZoneMonth'),
      'items.route53.hostedZoneMonth',
    ),
    line(
      'Route 53 queries (assumed)',
      a.route53QueriesPerMonth / 1_000_000,
      'million queries',
      itemPrice(table, 'route53.millionQueries'),
      'items.route53.millionQueries',
    ),
    line('S3 state storage (assumed)', a.s3StateGb, 'GB-month', itemPrice(table, 's3.standard.gbMonth'), 'items.s3.standard.gbMonth'),
    line(
      'S3 state PUT/LIST requests (assumed)',
      a.s3PutPerMonth / 1000,
      '1,000 requests',
      itemPrice(table, 's3.thousandPut'),
      'items.s3.thousandPut',
    ),
    line(
      'S3 state GET requests (assumed)',
      a.s3GetPerMonth / 1000,
      '1,000 requests',
      itemPrice(table, 's3.thousandGet'),
      'items.s3.thousandGet',
    ),
  );
  return lines;
}

function apiLoadBalancerLines(table: PriceTable, a: FabricCostAssumptions, zones: number): CostLine[] {
  const ipv4 = itemPrice(table, 'ipv4.publicHour');
  switch (a.apiLoadBalancer) {
    case 'none':
      return [
        line(
          'API load balancer: none (kops publishes api.<cluster> by DNS)',
          0,
          'NLB-hour',
          itemPrice(table, 'nlb.hour'),
          'items.nlb.hour',
          'public topology with a Route 53 zone: kops golden output has no aws_lb',
        ),
      ];
    case 'nlb':
      return [
        line('API Network Load Balancer', HOURS_PER_MONTH, 'NLB-hour', itemPrice(table, 'nlb.hour'), 'items.nlb.hour'),
        line(
          'API NLB capacity units (assumed)',
          a.nlbNlcuPerHour * HOURS_PER_MONTH,
          'NLCU-hour',
          itemPrice(table, 'nlb.nlcuHour'),
          'items.nlb.nlcuHour',
        ),
        line(
          `public IPv4 of the API NLB (one per zone) x ${zones}`,
          zones * HOURS_PER_MONTH,
          'address-hour',
          ipv4,
          'items.ipv4.publicHour',
        ),
      ];
    case 'clb':
      return [
        line('API Classic Load Balancer', HOURS_PER_MONTH, 'CLB-hour', itemPrice(table, 'clb.hour'), 'items.clb.hour'),
        line('API CLB data processed (assumed)', a.clbGbPerMonth, 'GB', itemPrice(table, 'clb.gbProcessed'), 'items.clb.gbProcessed'),
        line(
          `public IPv4 of the API CLB (one per zone) x ${zones}`,
          zones * HOURS_PER_MONTH,
          'address-hour',
          ipv4,
          'items.ipv4.publicHour',
        ),
      ];
  }
}

function noNatBreakdown(spec: FabricSpec, table: PriceTable, a: FabricCostAssumptions, nodes: number): FabricCostBreakdown {
  const instances = spec.zoneCount + nodes;
  const lines = [
    ...capacityLines(spec, table, a, nodes),
    // The no-NAT design's real price: every instance has a public address (associate_public_ip_address).
    line(
      `public IPv4 on every instance x ${instances}`,
      instances * HOURS_PER_MONTH,
      'address-hour',
      itemPrice(table, 'ipv4.publicHour'),
      'items.ipv4.publicHour',
      'charged since 2024-02-01',
    ),
    line(
      'NAT gateways: none (public subnets, internet gateway only)',
      0,
      'NAT gateway-hour',
      itemPrice(table, 'nat.hour'),
      'items.nat.hour',
    ),
  ];
  return { nodes, lines, monthlyTotal: sum(lines) };
}

/** Monthly cost of the fabric the spec describes, at `nodes.min` and at `nodes.max`. */
export function estimateFabricCost(
  spec: FabricSpec,
  table: PriceTable,
  assumptions: Partial<FabricCostAssumptions> = {},
): FabricCostEstimate {
  requireRegion(spec, table);
  const a: FabricCostAssumptions = { ...DEFAULT_ASSUMPTIONS, ...assumptions };
  const atMin = noNatBreakdown(spec, table, a, spec.kubernetes.nodes.min);
  return {
    region: table.region,
    currency: table.currency,
    tableDate: table.date,
    hoursPerMonth: HOURS_PER_MONTH,
    assumptions: a,
    ...atMin,
    atMaxNodes: noNatBreakdown(spec, table, a, spec.kubernetes.nodes.max),
  };
}

export interface NatDesign extends FabricCostBreakdown {
  readonly name: string;
  readonly natGateways: number;
  /** This design's monthly total minus the no-NAT design's (positive: the NAT design costs more). */
  readonly differenceFromNoNat: number;
}

export interface NatComparison {
  readonly region: string;
  readonly natGbPerMonth: number;
  readonly nodes: number;
  readonly designs: readonly NatDesign[];
}

function natBreakdown(spec: FabricSpec, table: PriceTable, a: FabricCostAssumptions, natGateways: number): FabricCostBreakdown {
  const zones = spec.zoneCount;
  const nodes = spec.kubernetes.nodes.min;
  const lines = [
    ...capacityLines(spec, table, a, nodes),
    // Instances sit in private subnets: no public IPv4 on them, one Elastic IP per NAT gateway.
    line(
      `NAT gateways x ${natGateways}`,
      natGateways * HOURS_PER_MONTH,
      'NAT gateway-hour',
      itemPrice(table, 'nat.hour'),
      'items.nat.hour',
    ),
    line('NAT data processed (assumed)', a.natGbPerMonth, 'GB', itemPrice(table, 'nat.gbProcessed'), 'items.nat.gbProcessed'),
    line(
      `public IPv4 of the NAT gateways x ${natGateways}`,
      natGateways * HOURS_PER_MONTH,
      'address-hour',
      itemPrice(table, 'ipv4.publicHour'),
      'items.ipv4.publicHour',
    ),
  ];
  if (natGateways < zones) {
    // Traffic from zones without a gateway crosses a zone boundary, billed on both sides of it.
    const crossingGb = (a.natGbPerMonth * (zones - natGateways)) / zones;
    lines.push(
      line(
        'cross-zone traffic to the NAT gateway (both sides)',
        crossingGb * 2,
        'GB',
        itemPrice(table, 'transfer.interAzGb'),
        'items.transfer.interAzGb',
        `${zones - natGateways} of ${zones} zones route through another zone`,
      ),
    );
  }
  return { nodes, lines, monthlyTotal: sum(lines) };
}

/**
 * The same capacity (at `nodes.min`) as the usual NAT designs lay it out: instances in private
 * subnets behind one NAT gateway per zone (terraform-aws-vpc with `enable_nat_gateway` and one
 * private subnet per zone, or `one_nat_gateway_per_az`; eksctl `HighlyAvailable`)
 * or a single NAT gateway (terraform-aws-vpc `single_nat_gateway`, eksctl's default `Single`).
 * Internet egress itself costs the same in every design and is left out; a private-topology kops
 * cluster would also need an API load balancer, not added here so the difference is NAT alone.
 */
export function compareWithNat(spec: FabricSpec, table: PriceTable, assumptions: Partial<FabricCostAssumptions> = {}): NatComparison {
  requireRegion(spec, table);
  const a: FabricCostAssumptions = { ...DEFAULT_ASSUMPTIONS, ...assumptions };
  const base = noNatBreakdown(spec, table, a, spec.kubernetes.nodes.min);
  const perZone = natBreakdown(spec, table, a, spec.zoneCount);
  const single = natBreakdown(spec, table, a, 1);
  return {
    region: table.region,
    natGbPerMonth: a.natGbPerMonth,
    nodes: base.nodes,
    designs: [
      { name: 'fabricctl: no NAT, public IPv4 per instance', natGateways: 0, ...base, differenceFromNoNat: 0 },
      {
        name: 'one NAT gateway per zone',
        natGateways: spec.zoneCount,
        ...perZone,
        differenceFromNoNat: perZone.monthlyTotal - base.monthlyTotal,
      },
      { name: 'single NAT gateway', natGateways: 1, ...single, differenceFromNoNat: single.monthlyTotal - base.monthlyTotal },
    ],
  };
}

export interface RunCounts {
  readonly stateTransitions: number;
  readonly lambdaGbSeconds: number;
  readonly lambdaRequests: number;
  /** Keys as CodeBuild names them (`BUILD_GENERAL1_SMALL`) or short (`general1.small`). */
  readonly codebuildMinutesByType: Readonly<Record<string, number>>;
  /** @default 'x86_64' (the dearer of the two, so the estimate does not flatter) */
  readonly lambdaArchitecture?: 'x86_64' | 'arm64';
}

export interface RunCostEstimate {
  readonly region: string;
  readonly tableDate: string;
  readonly lines: readonly CostLine[];
  readonly total: number;
}

/** `BUILD_GENERAL1_SMALL` -> `general1.small`; short names pass through lower-cased. */
function codebuildKey(computeType: string): string {
  const lower = computeType.trim().toLowerCase();
  const m = /^build_([a-z0-9]+)_([a-z0-9]+)$/.exec(lower);
  return m ? `${m[1]}.${m[2]}` : lower;
}

/**
 * The orchestrator's own cost for one provisioning run, before free tiers: Step Functions standard
 * transitions, Lambda duration and requests, CodeBuild minutes (EC2 compute bills whole minutes, so
 * pass those rounded up per build; Lambda compute bills by the second). Not monthly: `total` is per run.
 */
export function estimateRunCost(counts: RunCounts, table: PriceTable): RunCostEstimate {
  const arch = counts.lambdaArchitecture ?? 'x86_64';
  const lines: CostLine[] = [
    line(
      'Step Functions state transitions (standard)',
      counts.stateTransitions,
      'transition',
      itemPrice(table, 'sfn.stateTransition'),
      'items.sfn.stateTransition',
    ),
    line(
      `Lambda duration (${arch})`,
      counts.lambdaGbSeconds,
      'GB-second',
      itemPrice(table, `lambda.${arch}.gbSecond`),
      `items.lambda.${arch}.gbSecond`,
    ),
    line('Lambda requests', counts.lambdaRequests, 'request', itemPrice(table, 'lambda.request'), 'items.lambda.request'),
  ];
  for (const [computeType, minutes] of Object.entries(counts.codebuildMinutesByType)) {
    const key = `codebuild.${codebuildKey(computeType)}`;
    lines.push(line(`CodeBuild ${codebuildKey(computeType)} (Linux)`, minutes, 'build-minute', itemPrice(table, key), `items.${key}`));
  }
  return { region: table.region, tableDate: table.date, lines, total: sum(lines) };
}
