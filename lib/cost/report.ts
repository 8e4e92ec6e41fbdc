import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFabricSpec } from '../domain/spec';
import {
  compareWithNat,
  estimateFabricCost,
  estimateRunCost,
  parsePriceTable,
  PriceUnknown,
  type FabricCostAssumptions,
  type FabricCostEstimate,
  type NatComparison,
  type PriceTable,
  type RunCostEstimate,
  type RunCounts,
} from './core';
import { renderFabricCost, renderNatComparison, renderRunCost, renderTableHeader } from './format';

/** Where the repository's price tables live, one `<region>.json` each. */
const DEFAULT_PRICE_DIR = join(__dirname, 'prices');

/** Reads `<dir>/<region>.json`, or throws `PriceUnknown` naming the region and the directory. */
export function loadPriceTable(region: string, dir: string = DEFAULT_PRICE_DIR): PriceTable {
  const file = join(dir, `${region}.json`);
  if (!existsSync(file)) {
    const available = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.json'))
          .map((f) => f.slice(0, -'.json'.length))
      : [];
    throw new PriceUnknown(
      `region ${region}`,
      `the price tables in ${dir}`,
      `add ${region}.json there with its sources, or use one of: ${available.join(', ') || 'none'}`,
    );
  }
  return parsePriceTable(JSON.parse(readFileSync(file, 'utf8')) as unknown, file);
}

export interface CostReportOptions {
  /** Make `text` the JSON document instead of the plain-text tables. */
  readonly json?: boolean;
  /** Directory of `<region>.json` price tables. @default lib/cost/prices */
  readonly priceDir?: string;
  /** Overrides the price table file (tests, or a table fetched elsewhere). */
  readonly table?: PriceTable;
  readonly assumptions?: Partial<FabricCostAssumptions>;
  /** Counts of one provisioning run (from the benchmark); the run section is left out without them. */
  readonly runCounts?: RunCounts;
}

export interface CostReportJson {
  readonly priceTable: { readonly region: string; readonly date: string; readonly currency: string; readonly source: readonly string[] };
  readonly fabric: FabricCostEstimate;
  readonly natComparison: NatComparison;
  readonly run?: RunCostEstimate;
}

/** `fabricctl cost <spec>`: validates the spec (throws `FabricSpecInvalid`) and prices it. */
export function costReport(specInput: unknown, options: CostReportOptions = {}): { text: string; json: CostReportJson } {
  const spec = parseFabricSpec(specInput);
  const prices = options.table ?? loadPriceTable(spec.region, options.priceDir);
  const fabric = estimateFabricCost(spec, prices, options.assumptions);
  const natComparison = compareWithNat(spec, prices, options.assumptions);
  const run = options.runCounts === undefined ? undefined : estimateRunCost(options.runCounts, prices);
  const json: CostReportJson = {
    priceTable: { region: prices.region, date: prices.date, currency: prices.currency, source: prices.source },
    fabric,
    natComparison,
    ...(run === undefined ? {} : { run }),
  };
  const text = options.json
    ? JSON.stringify(json, null, 2)
    : [
        renderTableHeader(prices),
        '',
        renderFabricCost(fabric),
        '',
        renderNatComparison(natComparison),
        ...(run === undefined ? [] : ['', renderRunCost(run)]),
      ].join('\n');
  return { text, json };
}
