import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compareWithBaseline,
  latestLambdaBaseline,
  requiredEnvPlaceholders,
  type LambdaBaseline,
  type LambdaFigure,
} from '../../bench/lambdas';

function figure(entry: string, kib: number, loadMs: number | undefined, error?: string): LambdaFigure {
  const external = {
    bytes: kib * 1024,
    loadMsRuns: loadMs === undefined ? [] : [loadMs],
    ...(loadMs === undefined ? {} : { loadMsMedian: loadMs }),
    ...(error ? { error } : {}),
  };
  return { entry, sdkExternal: external, sdkBundled: { bytes: 0, loadMsRuns: [] } };
}

const baseline: LambdaBaseline = {
  measuredAt: '2026-12-01T10:00:00.000Z',
  machine: 'test',
  commit: 'abc',
  runs: 5,
  functions: { 'validate-spec': { kib: 473.1, loadMsMedian: 614, loadMsRuns: [614] } },
};

describe('compareWithBaseline', () => {
  test('GIVEN a function within both limits WHEN compared THEN it has no flag and carries its baseline', () => {
    const [row] = compareWithBaseline([figure('validate-spec', 40, 80)], baseline);
    expect(row).toEqual({ entry: 'validate-spec', kib: 40, loadMs: 80, baselineKib: 473.1, baselineLoadMs: 614, flags: [] });
  });

  test('GIVEN a bundle over 150 KiB that loads over 100 ms WHEN compared THEN both limits are flagged', () => {
    const [row] = compareWithBaseline([figure('ensure-ssh-key', 194, 105)], baseline);
    expect(row?.flags).toEqual(['OVER 150 KiB', 'OVER 100 ms']);
    expect(row?.baselineKib).toBeUndefined();
  });

  test('GIVEN a bundle that failed to load WHEN compared THEN the failure is a flag, not a pass', () => {
    const [row] = compareWithBaseline([figure('ensure-state-bucket', 10, undefined, 'load failed: x')], undefined);
    expect(row?.flags).toEqual(['load failed: x']);
  });
});

describe('latestLambdaBaseline', () => {
  test('GIVEN two baselines WHEN the latest is read THEN the one with the later date in its name is taken', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-baselines-'));
    try {
      writeFileSync(join(dir, 'lambdas-2026-11-01.json'), JSON.stringify({ ...baseline, machine: 'older' }));
      writeFileSync(join(dir, 'lambdas-2026-12-01.json'), JSON.stringify(baseline));
      writeFileSync(join(dir, 'other.json'), '{}');
      expect(latestLambdaBaseline(dir)?.baseline.machine).toBe('test');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('GIVEN no baseline folder WHEN the latest is read THEN there is none', () => {
    expect(latestLambdaBaseline(join(tmpdir(), 'no-such-baselines'))).toBeUndefined();
  });
});

describe('requiredEnvPlaceholders', () => {
  test('GIVEN a handler that checks a list of principal ARNs at load WHEN given placeholders THEN the list is an ARN', () => {
    expect(requiredEnvPlaceholders('ensure-state-bucket').STATE_BUILD_PRINCIPAL_ARNS).toBe('arn:aws:iam::123456789012:role/bench');
  });
});
