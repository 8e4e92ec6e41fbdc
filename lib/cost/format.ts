import type { CostLine, FabricCostEstimate, NatComparison, PriceTable, RunCostEstimate } from './core';

/** Plain-text rendering of the cost model for the CLI. The only place that rounds. */

function money(usd: number, decimals = 2): string {
  return `$${usd.toFixed(decimals)}`;
}

/** Unit prices keep their digits (0.0000166667) without exponent notation. */
function unitPrice(usd: number): string {
  return `$${usd.toFixed(10).replace(/0+$/, '').replace(/\.$/, '')}`;
}

function quantity(q: number): string {
  return q.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
}

function table(rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows
    .map((row) =>
      row
        .map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `costHeading`/`decimals`: per-run costs are cents, so they get their own column name and precision. */
function renderLines(lines: readonly CostLine[], totalLabel: string, total: number, costHeading = 'monthly', decimals = 2): string {
  const rows = [
    ['item', 'quantity', 'unit', 'unit price', costHeading],
    ...lines.map((l) => [l.item, quantity(l.quantity), l.unit, unitPrice(l.unitPrice), money(l.monthly, decimals)]),
    [totalLabel, '', '', '', money(total, decimals)],
  ];
  return table(rows, new Set([1, 3, 4]));
}

export function renderTableHeader(prices: PriceTable): string {
  const estimates = [...Object.entries(prices.instances), ...Object.entries(prices.items)].filter(
    ([, e]) => e.estimate !== undefined,
  ).length;
  return [
    `Price table: ${prices.region}, dated ${prices.date}, ${prices.currency}, on-demand list prices before free tiers and tax.`,
    `Sources: ${prices.source.join(' ')}`,
    ...(estimates > 0
      ? [`${estimates} figure(s) in this table are marked as estimates; see lib/cost/prices/${prices.region}.json for why.`]
      : []),
  ].join('\n');
}

export function renderFabricCost(estimate: FabricCostEstimate): string {
  const a = estimate.assumptions;
  return [
    `Monthly cost of the fabric (${estimate.hoursPerMonth} h a month), nodes at min (${estimate.nodes}):`,
    renderLines(estimate.lines, 'total a month', estimate.monthlyTotal),
    '',
    `At nodes max (${estimate.atMaxNodes.nodes}): ${money(estimate.atMaxNodes.monthlyTotal)} a month.`,
    `Assumed: ${a.route53QueriesPerMonth} Route 53 queries a month, ${a.s3StateGb} GB of state, ` +
      `${a.s3PutPerMonth} PUT and ${a.s3GetPerMonth} GET a month, API load balancer: ${a.apiLoadBalancer}.`,
  ].join('\n');
}

export function renderNatComparison(comparison: NatComparison): string {
  const rows = [
    ['design', 'NAT gateways', 'monthly', 'difference'],
    ...comparison.designs.map((d) => [
      d.name,
      String(d.natGateways),
      money(d.monthlyTotal),
      `${d.differenceFromNoNat >= 0 ? '+' : '-'}${money(Math.abs(d.differenceFromNoNat))}`,
    ]),
  ];
  return [
    `The same capacity with NAT gateways (nodes at min (${comparison.nodes}), ` +
      `${comparison.natGbPerMonth} GB a month through NAT, internet egress itself equal in all):`,
    table(rows, new Set([1, 2, 3])),
  ].join('\n');
}

export function renderRunCost(run: RunCostEstimate): string {
  return [
    'Cost of one provisioning run (orchestrator only, before free tiers):',
    renderLines(run.lines, 'total a run', run.total, 'per run', 4),
  ].join('\n');
}
