import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cloudCriticalPath, FIGURES, KOPS_HA_GOLDEN, kopsClusterResourceCount } from '../../bench/cloud-model';
import { synthesizeOrchestrator } from '../../lib/local/synth';

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

/** The modelled path follows the real definition: a new fabric's jobs on the compute ValidateSpec picks for it. */
describe('cloudCriticalPath', () => {
  const jobsOf = (lambdaBuilds: boolean) => {
    const path = cloudCriticalPath({ orchestrator: synthesizeOrchestrator({ lambdaBuilds }) });
    return {
      total: path.totalSeconds,
      jobs: path.steps
        .filter((s) => s.state.startsWith('NetworkJob') || s.state.startsWith('ClusterJob'))
        .map((s) => [s.state, s.parts?.[0]?.what]),
    };
  };

  test('GIVEN the stack WHEN the provision path is walked THEN both jobs run on Lambda compute, started without EC2 provisioning', () => {
    const { jobs } = jobsOf(true);
    expect(jobs).toEqual([
      ['NetworkJobCompute', undefined],
      ['NetworkJobOnLambda', FIGURES.codebuildLambdaStart.what],
      ['ClusterJobCompute', undefined],
      ['ClusterJobOnLambda', FIGURES.codebuildLambdaStart.what],
    ]);
  });

  test(
    'GIVEN lambdaBuilds false WHEN walked ' + 'THEN each job pays CodeBuild provisioning, and the path is longer by the difference twice',
    () => {
      const lambda = jobsOf(true);
      const ec2 = jobsOf(false);
      expect(ec2.jobs).toEqual([
        ['NetworkJob', FIGURES.codebuildProvisioning.what],
        ['ClusterJob', FIGURES.codebuildProvisioning.what],
      ]);
      expect(ec2.total - lambda.total).toBeCloseTo(2 * (FIGURES.codebuildProvisioning.seconds - FIGURES.codebuildLambdaStart.seconds));
    },
  );

  test('GIVEN a cold tools cache (the first fabric in a Region) WHEN walked THEN the first job to need each tool downloads it', () => {
    const orchestrator = synthesizeOrchestrator({ lambdaBuilds: true });
    const warm = cloudCriticalPath({ orchestrator });
    const cold = cloudCriticalPath({ orchestrator, toolsCache: 'cold' });
    const terraformSaving = FIGURES.terraformInstall.seconds - FIGURES.terraformFromToolsCache.seconds;
    const kopsSaving = FIGURES.kopsInstall.seconds - FIGURES.kopsFromToolsCache.seconds;
    const providerSaving = FIGURES.awsProviderInstall.seconds - FIGURES.awsProviderFromToolsCache.seconds;
    expect(terraformSaving).toBeGreaterThan(0);
    expect(kopsSaving).toBeGreaterThan(0);
    expect(providerSaving).toBeGreaterThan(0);
    // The network job fills the cache with Terraform and the provider; the cluster job, after it, takes them from there.
    expect(cold.totalSeconds - warm.totalSeconds).toBeCloseTo(terraformSaving + providerSaving + kopsSaving);
  });
});
