import { kubernetesUpgrade } from '../../lambdas/validate-spec/upgrade';

describe('kubernetesUpgrade: the version steps kops can take on a running fabric', () => {
  test('GIVEN the same version WHEN judged THEN nothing changes', () => {
    expect(kubernetesUpgrade('1.35.0', '1.35.0')).toEqual({ allowed: true, step: 'none' });
  });

  test('GIVEN a later patch of the same minor WHEN judged THEN it is a patch upgrade', () => {
    expect(kubernetesUpgrade('1.35.0', '1.35.9')).toEqual({ allowed: true, step: 'patch' });
  });

  test.each([
    ['1.35.0', '1.36.0'],
    ['1.35.9', '1.36.4'],
    ['1.35.9', '1.36.0'],
  ])('GIVEN %s WHEN %s is asked for THEN it is a minor upgrade, whatever the patches', (recorded, requested) => {
    expect(kubernetesUpgrade(recorded, requested)).toEqual({ allowed: true, step: 'minor' });
  });

  test('GIVEN minors compared as numbers WHEN 1.9 goes to 1.10 THEN it is the next minor, not a downgrade', () => {
    expect(kubernetesUpgrade('1.9.3', '1.10.0')).toEqual({ allowed: true, step: 'minor' });
  });

  test('fails when a minor is skipped, naming the minor to take first with its newest known patch', () => {
    expect(kubernetesUpgrade('1.34.2', '1.36.4')).toEqual({
      allowed: false,
      fix: 'upgrade one minor at a time (the fabric runs 1.34.2): use 1.35.x (e.g. 1.35.9) first, then 1.36.4',
    });
  });

  test('fails when a minor is skipped from a minor kops 1.36 no longer lists, without inventing a patch', () => {
    expect(kubernetesUpgrade('1.28.1', '1.30.0')).toEqual({
      allowed: false,
      fix: 'upgrade one minor at a time (the fabric runs 1.28.1): use 1.29.x first, then 1.30.0',
    });
  });

  test('fails when the minor goes down, saying what to keep or to provision again', () => {
    expect(kubernetesUpgrade('1.36.4', '1.35.9')).toEqual({
      allowed: false,
      fix: 'downgrades are not supported (the fabric runs 1.36.4): keep 1.36.x (1.36.4 or a later patch) or destroy and provision again',
    });
  });

  test('fails when the patch goes down within a minor', () => {
    expect(kubernetesUpgrade('1.36.4', '1.36.2')).toMatchObject({
      allowed: false,
      fix: expect.stringMatching(/^downgrades are not supported \(the fabric runs 1\.36\.4\)/),
    });
  });

  test('GIVEN a version that is not major.minor.patch WHEN judged THEN it is left to the spec rules', () => {
    expect(kubernetesUpgrade('1.35.0', 'v1.36.0')).toEqual({ allowed: true, step: 'none' });
    expect(kubernetesUpgrade('latest', '1.36.0')).toEqual({ allowed: true, step: 'none' });
  });
});
