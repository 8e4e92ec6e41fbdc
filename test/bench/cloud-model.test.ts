import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KOPS_HA_GOLDEN, kopsClusterResourceCount } from '../../bench/cloud-model';

/** The cloud model counts the cluster's resources in kops's golden output, read from the repository itself. */
describe('kopsClusterResourceCount', () => {
  test('GIVEN a checkout WHEN the golden HA output is counted THEN the vendored copy inside the repository is read', () => {
    const repository = resolve(__dirname, '..', '..');
    expect(KOPS_HA_GOLDEN).toBe(join(repository, 'lib', 'local', 'standins', 'kops', 'golden', 'ha', 'kubernetes.tf'));
    // 89 resource blocks, 13 of them the VPC, subnets, gateway and routes the network job already made.
    expect(kopsClusterResourceCount()).toEqual({
      total: 89,
      cluster: 76,
      source: 'kops golden output lib/local/standins/kops/golden/ha/kubernetes.tf (kops tests/integration/update_cluster/ha/kubernetes.tf)',
    });
  });

  test('GIVEN a small kops output WHEN counted THEN network resources are left out of the cluster count', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloud-model-'));
    try {
      const file = join(dir, 'kubernetes.tf');
      writeFileSync(file, 'resource "aws_vpc" "a" {}\nresource "aws_subnet" "b" {}\nresource "aws_autoscaling_group" "c" {}\n');
      expect(kopsClusterResourceCount(file)).toMatchObject({ total: 3, cluster: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('fails when the golden output is missing, instead of falling back to a made-up count', () => {
    expect(() => kopsClusterResourceCount(join(tmpdir(), 'no-such-dir', 'kubernetes.tf'))).toThrow(/ENOENT/);
  });
});
