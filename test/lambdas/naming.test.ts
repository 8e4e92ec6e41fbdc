import { DEFAULT_BUCKET_PREFIX, stateBucketName } from '../../lib/domain/naming';

/** S3's own rule for a bucket name (general purpose buckets, no dots). */
const S3_BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

describe('stateBucketName', () => {
  test('GIVEN the default prefix WHEN naming THEN the name is <prefix>-<account>-<region>', () => {
    expect(stateBucketName('123456789012', 'us-east-2')).toBe(`${DEFAULT_BUCKET_PREFIX}-123456789012-us-east-2`);
  });

  test('GIVEN a prefix with digits WHEN naming THEN the digits are kept (defect 1: k736.net became k-net)', () => {
    expect(stateBucketName('123456789012', 'us-east-2', 'k736.net')).toBe('k736-net-123456789012-us-east-2');
  });

  test('GIVEN a prefix with underscores WHEN naming THEN no underscore survives (defect 1: S3 refuses `_`)', () => {
    const name = stateBucketName('123456789012', 'eu-west-1', 'my_team__state');
    expect(name).toBe('my-team-state-123456789012-eu-west-1');
    expect(name).not.toContain('_');
  });

  test('GIVEN upper case, dots and runs of symbols WHEN naming THEN lowercase with single dashes and no dash at either end', () => {
    expect(stateBucketName('123456789012', 'us-west-2', '--My..Fabric!!State--')).toBe('my-fabric-state-123456789012-us-west-2');
  });

  test('GIVEN a very long prefix WHEN naming THEN the name is at most 63 characters and keeps the account and region', () => {
    const name = stateBucketName('123456789012', 'ap-southeast-2', 'a'.repeat(80));
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name.endsWith('-123456789012-ap-southeast-2')).toBe(true);
    expect(name).toMatch(S3_BUCKET_NAME);
  });

  test('GIVEN a prefix that is cut at a dash WHEN shortening THEN the name has no double dash', () => {
    const prefix = `${'a'.repeat(33)}-${'b'.repeat(40)}`;
    const name = stateBucketName('123456789012', 'us-east-2', prefix);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).not.toMatch(/--/);
    expect(name).toMatch(S3_BUCKET_NAME);
  });

  test.each([
    ['fabricctl-state', 'us-gov-west-1'],
    ['Team_A.state', 'cn-northwest-1'],
    ['x', 'us-east-1'],
    ['0start', 'eu-central-2'],
  ])('GIVEN prefix %s in %s WHEN naming THEN S3 accepts the name', (prefix, region) => {
    expect(stateBucketName('210987654321', region, prefix)).toMatch(S3_BUCKET_NAME);
  });

  test('GIVEN two accounts WHEN naming in one region THEN their buckets differ', () => {
    expect(stateBucketName('111111111111', 'us-east-2')).not.toBe(stateBucketName('222222222222', 'us-east-2'));
  });
});
