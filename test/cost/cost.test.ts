import { join } from 'node:path';
import { FabricSpecInvalid } from '../../lib/domain/errors';
import { parseFabricSpec } from '../../lib/domain/spec';
import {
  compareWithNat,
  costReport,
  estimateFabricCost,
  estimateRunCost,
  loadPriceTable,
  PriceUnknown,
  type PriceTable,
} from '../../lib/cost';

// Expected values are written out from the literal figures in lib/cost/prices/us-east-2.json,
// never computed with the code under test: t3.medium 0.0416/h, gp3 0.08/GB-month, public IPv4
// 0.005/h, Route 53 0.50/zone + 0.40/million, S3 0.023/GB + 0.005 per 1,000 PUT + 0.0004 per
// 1,000 GET, NAT 0.045/h + 0.045/GB, inter-AZ 0.01/GB, NLB 0.0225/h + 0.006/NLCU-h.
const H = 730;
const table = loadPriceTable('us-east-2');
const defaults = { name: 'demo', domain: 'example.com' }; // 3 zones, t3.medium, nodes 3..6

/** Everything but instances, volumes and addresses, at the default assumptions. */
const FIXED = 0.5 + 0.4 + 0.1 * 0.023 + 10 * 0.005 + 100 * 0.0004;

function expectPriceUnknown(fn: () => unknown, ...mentions: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PriceUnknown);
  expect((caught as Error).name).toBe('PriceUnknown');
  for (const m of mentions) expect((caught as Error).message).toContain(m);
}

describe('estimateFabricCost', () => {
  it("GIVEN the default spec (3 zones, t3.medium, 3 nodes) in us-east-2 THEN the monthly total is the table figures' hand sum", () => {
    const estimate = estimateFabricCost(parseFabricSpec(defaults), table);
    const expected =
      3 * H * 0.0416 + // control plane, one per zone
      3 * H * 0.0416 + // nodes at min
      3 * 64 * 0.08 + // control-plane root volumes
      3 * (20 + 20) * 0.08 + // etcd main + events per control-plane node
      3 * 128 * 0.08 + // node root volumes
      6 * H * 0.005 + // a public IPv4 on each of the 6 instances
      FIXED;
    expect(estimate.nodes).toBe(3);
    expect(estimate.monthlyTotal).toBeCloseTo(expected, 9);
    expect(estimate.monthlyTotal).toBeCloseTo(260.7803, 9);
  });

  it('GIVEN nodes max 6 WHEN priced THEN the at-max total adds three nodes, their root volumes and their addresses', () => {
    const estimate = estimateFabricCost(parseFabricSpec(defaults), table);
    const expected = 3 * H * 0.0416 + 6 * H * 0.0416 + 3 * 64 * 0.08 + 3 * 40 * 0.08 + 6 * 128 * 0.08 + 9 * H * 0.005 + FIXED;
    expect(estimate.atMaxNodes.nodes).toBe(6);
    expect(estimate.atMaxNodes.monthlyTotal).toBeCloseTo(expected, 9);
  });

  it('GIVEN 5 zones WHEN priced THEN there are 5 control-plane instances and 5 pairs of 20 GB etcd volumes', () => {
    const estimate = estimateFabricCost(parseFabricSpec({ ...defaults, zoneCount: 5 }), table);
    const controlPlane = estimate.lines.find((l) => l.item.startsWith('control plane t3.medium'));
    const etcd = estimate.lines.find((l) => l.item.startsWith('etcd volumes'));
    expect(controlPlane?.quantity).toBe(5 * H);
    expect(etcd?.quantity).toBe(5 * 40);
    expect(etcd?.monthly).toBeCloseTo(200 * 0.08, 9);
  });

  it('GIVEN the no-NAT design WHEN priced THEN a NAT line is present at zero and public IPv4 is counted per instance', () => {
    const estimate = estimateFabricCost(parseFabricSpec(defaults), table);
    const nat = estimate.lines.find((l) => l.item.startsWith('NAT gateways'));
    const ipv4 = estimate.lines.find((l) => l.item.startsWith('public IPv4 on every instance'));
    expect(nat?.monthly).toBe(0);
    expect(ipv4?.monthly).toBeCloseTo(6 * H * 0.005, 9);
  });

  it('GIVEN an API NLB is assumed WHEN priced THEN its hours, capacity units and one public IPv4 per zone are added', () => {
    const spec = parseFabricSpec(defaults);
    const without = estimateFabricCost(spec, table).monthlyTotal;
    const withNlb = estimateFabricCost(spec, table, { apiLoadBalancer: 'nlb' }).monthlyTotal;
    expect(withNlb - without).toBeCloseTo(H * 0.0225 + H * 0.006 + 3 * H * 0.005, 9);
  });

  it('fails when the spec names an instance type missing from the table', () => {
    const spec = parseFabricSpec({ ...defaults, kubernetes: { nodeSize: 'x9.large' } });
    expectPriceUnknown(() => estimateFabricCost(spec, table), 'instance type x9.large', 'us-east-2 price table dated');
  });

  it('fails when the spec region is not the table region', () => {
    const spec = parseFabricSpec({ ...defaults, region: 'eu-west-1' });
    expectPriceUnknown(() => estimateFabricCost(spec, table), 'region eu-west-1', 'us-east-2 price table');
  });

  it('fails when the table lacks an item the model needs', () => {
    const { ['ebs.gp3.gbMonth']: _dropped, ...items } = table.items;
    const partial: PriceTable = { ...table, items };
    expectPriceUnknown(() => estimateFabricCost(parseFabricSpec(defaults), partial), 'ebs.gp3.gbMonth', 'us-east-2');
  });
});

describe('compareWithNat', () => {
  it(
    'GIVEN 3 zones and 100 GB a month WHEN one NAT gateway per zone ' +
      'THEN it costs the gateways, their processing and addresses, minus the instance addresses',
    () => {
      const comparison = compareWithNat(parseFabricSpec(defaults), table);
      const perZone = comparison.designs.find((d) => d.name === 'one NAT gateway per zone');
      const expected = 3 * H * 0.045 + 100 * 0.045 + 3 * H * 0.005 - 6 * H * 0.005;
      expect(perZone?.natGateways).toBe(3);
      expect(perZone?.differenceFromNoNat).toBeCloseTo(expected, 9);
      expect(perZone?.differenceFromNoNat).toBeCloseTo(92.1, 9);
    },
  );

  it('GIVEN 3 zones and 100 GB a month WHEN a single NAT gateway THEN two zones also pay cross-zone transfer on both sides', () => {
    const comparison = compareWithNat(parseFabricSpec(defaults), table);
    const single = comparison.designs.find((d) => d.name === 'single NAT gateway');
    const crossZone = ((100 * 2) / 3) * 2 * 0.01;
    const expected = 1 * H * 0.045 + 100 * 0.045 + 1 * H * 0.005 + crossZone - 6 * H * 0.005;
    expect(single?.differenceFromNoNat).toBeCloseTo(expected, 9);
  });

  it('GIVEN 1,000 GB a month through NAT WHEN compared THEN the per-zone difference grows by 900 GB of processing', () => {
    const spec = parseFabricSpec(defaults);
    const at100 = compareWithNat(spec, table).designs[1]?.differenceFromNoNat ?? NaN;
    const at1000 = compareWithNat(spec, table, { natGbPerMonth: 1000 }).designs[1]?.differenceFromNoNat ?? NaN;
    expect(at1000 - at100).toBeCloseTo(900 * 0.045, 9);
  });
});

describe('estimateRunCost', () => {
  it('GIVEN counts of one run WHEN priced THEN transitions, Lambda and CodeBuild minutes by compute type add up from the table', () => {
    const run = estimateRunCost(
      {
        stateTransitions: 40,
        lambdaGbSeconds: 100,
        lambdaRequests: 20,
        codebuildMinutesByType: { BUILD_GENERAL1_SMALL: 5, 'general1.medium': 3 },
      },
      table,
    );
    expect(run.total).toBeCloseTo(40 * 0.000025 + 100 * 0.0000166667 + 20 * 0.0000002 + 5 * 0.005 + 3 * 0.01, 12);
  });

  it('GIVEN arm64 Lambdas WHEN priced THEN the arm64 GB-second price is used', () => {
    const run = estimateRunCost(
      { stateTransitions: 0, lambdaGbSeconds: 1000, lambdaRequests: 0, codebuildMinutesByType: {}, lambdaArchitecture: 'arm64' },
      table,
    );
    expect(run.total).toBeCloseTo(1000 * 0.0000133334, 12);
  });

  it('fails when a CodeBuild compute type is missing from the table', () => {
    expectPriceUnknown(
      () =>
        estimateRunCost(
          { stateTransitions: 1, lambdaGbSeconds: 0, lambdaRequests: 0, codebuildMinutesByType: { BUILD_GENERAL1_2XLARGE: 1 } },
          table,
        ),
      'codebuild.general1.2xlarge',
      'us-east-2',
    );
  });
});

describe('costReport', () => {
  it('GIVEN a spec WHEN reported as text THEN it names the price table region, date and every source, and prints the rounded total', () => {
    const { text } = costReport(defaults);
    expect(text).toContain(`Price table: us-east-2, dated ${table.date}`);
    for (const url of table.source) expect(text).toContain(url);
    expect(text).toContain('$260.78');
    expect(text).toContain('single NAT gateway');
  });

  it('GIVEN json output WHEN reported THEN the document carries the table date and source and unrounded figures', () => {
    const { text } = costReport(defaults, { json: true });
    const parsed = JSON.parse(text) as ReturnType<typeof costReport>['json'];
    expect(parsed.priceTable).toEqual({ region: 'us-east-2', date: table.date, currency: 'USD', source: table.source });
    expect(parsed.fabric.monthlyTotal).toBeCloseTo(260.7803, 9);
  });

  it('GIVEN run counts WHEN reported THEN the text has the per-run section', () => {
    const { text } = costReport(defaults, {
      runCounts: { stateTransitions: 40, lambdaGbSeconds: 0, lambdaRequests: 0, codebuildMinutesByType: {} },
    });
    expect(text).toContain('Cost of one provisioning run');
    expect(text).toMatch(/Step Functions state transitions \(standard\)\s+40\s+transition\s+\$0\.000025\s+\$0\.0010\n/);
  });

  it('fails when there is no price table for the spec region', () => {
    expectPriceUnknown(
      () => costReport({ ...defaults, region: 'eu-west-1' }),
      'region eu-west-1',
      join(__dirname, '../../lib/cost/prices'),
      'us-east-2',
    );
  });

  it('fails when the spec is invalid', () => {
    expect(() => costReport({ name: 'demo' })).toThrow(FabricSpecInvalid);
  });
});
