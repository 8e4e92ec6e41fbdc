import { resolve } from 'node:path';
import { GetLogEventsCommand, CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { DeleteBucketPolicyCommand, HeadBucketCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { ensureStateBucket } from '../../lambdas/ensure-state-bucket/core';
import { clientOptions, s3Options } from '../../lambdas/shared/clients';
import type { FabricAction, NetworkJobResult, ValidatedFabric } from '../../lib/domain/contract';
import { stateKeys } from '../../lib/domain/naming';
import { Build, BuildTaskFailed, EnvironmentVariable, runBuild, StartBuildSyncOutput } from '../../lib/local/standins/codebuild';
import { describeWithMoto, MOTO_AVAILABLE, useMoto } from '../support/moto';
import { providerAfterOwnRuns } from '../support/shared-provider';
import { TERRAFORM_SKIP_REASON, TF_PLUGIN_MIRROR } from '../support/terraform';
import { validatedFabric } from '../support/fabric';

/**
 * The network job for real: buildspecs/network.yml run by the local CodeBuild stand-in, the real
 * Terraform and AWS provider, the S3 backend in a state bucket made by the bucket Lambda's core,
 * all against moto_server. The steps build on each other, like the runs of one fabric.
 * A plan before any state bucket exists (local backend, nothing created) is workflow scenario 8
 * (test/workflow/scenarios.test.ts), which runs this job through the state machine.
 */
const REPO = resolve(__dirname, '../..');
const REGION = 'us-east-2';
const ACCOUNT = '123456789012';
const ZONES = ['us-east-2a', 'us-east-2b', 'us-east-2c'];

if (MOTO_AVAILABLE && TERRAFORM_SKIP_REASON) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED: network job against the emulator: ${TERRAFORM_SKIP_REASON}.`);
}
const describeJob = TERRAFORM_SKIP_REASON ? describe.skip : describeWithMoto;
// An apply against the emulator takes seconds alone and minutes on a busy 2-core machine.
jest.setTimeout(600_000);

function fabricOf(name: string, action: FabricAction): ValidatedFabric {
  return validatedFabric({ name, domain: 'example.com', region: REGION, tags: { Team: 'platform' } }, { action });
}

/** The overrides the state machine's network task passes: the fabric's build environment plus the run's values. */
function overridesOf(fabric: ValidatedFabric, extra: Record<string, string>): EnvironmentVariable[] {
  const values: Record<string, string> = {
    ...fabric.buildEnv,
    ACTION: fabric.action,
    STATE_BUCKET: fabric.stateBucket,
    ZONES_CSV: ZONES.join(','),
    STATE_BUCKET_EXISTS: 'true',
    ...extra,
  };
  return Object.entries(values).map(([Name, Value]) => ({ Name, Value, Type: 'PLAINTEXT' as const }));
}

interface JobRun {
  readonly output?: StartBuildSyncOutput;
  readonly failure?: BuildTaskFailed;
  readonly lines: readonly string[];
}

/**
 * The failed apply and the run that continues from it start the AWS provider as CodeBuild does, from
 * the mirror and checked against the jobs' lock file; the later runs share one
 * (test/support/shared-provider.ts).
 */
const awsProvider = providerAfterOwnRuns(2);

async function runNetworkJob(fabric: ValidatedFabric, extra: Record<string, string> = {}): Promise<JobRun> {
  await awsProvider.beforeRun();
  const lines: string[] = [];
  try {
    const output = await runBuild({
      projectName: 'fabricctl-network',
      buildspecPath: 'buildspecs/network.yml',
      sourceDir: REPO,
      environment: { TF_PLUGIN_MIRROR },
      overrides: overridesOf(fabric, extra),
      region: REGION,
      onLine: (line) => lines.push(line),
    });
    return { output, lines };
  } catch (error) {
    if (error instanceof BuildTaskFailed) return { failure: error, lines };
    throw error;
  }
}

function resultOf(run: JobRun): NetworkJobResult {
  if (!run.output) throw new Error(`the build failed:\n${run.lines.slice(-40).join('\n')}`);
  const exported = run.output.Build.ExportedEnvironmentVariables.find((v) => v.Name === 'FABRIC_RESULT');
  if (!exported) throw new Error('FABRIC_RESULT was not exported');
  return JSON.parse(exported.Value) as NetworkJobResult;
}

describeJob('network job (buildspecs/network.yml) against moto_server with the real Terraform', () => {
  useMoto();
  afterAll(() => awsProvider.stop());
  const fabric = fabricOf('netjob', 'provision');
  let ec2: EC2Client;
  let s3: S3Client;
  let vpcId: string;

  const vpcsNamed = async (name: string): Promise<string[]> => {
    const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: [name] }] }));
    return (vpcs.Vpcs ?? []).map((v) => v.VpcId ?? '');
  };

  beforeAll(async () => {
    ec2 = new EC2Client(clientOptions(REGION));
    s3 = new S3Client(s3Options(REGION));
    const bucket = await ensureStateBucket(fabric, {
      s3,
      accountId: ACCOUNT,
      stateReaders: { buildPrincipalArns: [`arn:aws:iam::${ACCOUNT}:user/moto`], adminPrincipalArns: [] },
    });
    expect(bucket).toMatchObject({ exists: true, created: true });
    // WORKAROUND (emulator only): moto enforces the bucket's deny-unless-aws:SecureTransport policy,
    // and moto_server speaks plain HTTP, so every object request would be refused (HTTP 403).
    // Real S3 is reached over TLS, where the policy is what we want.
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: fabric.stateBucket }));
  });

  test("fails when Terraform apply fails (a zone the emulator rejects): the build fails with Terraform's error in its logs", async () => {
    const run = await runNetworkJob(fabric, { ZONES_CSV: 'us-east-2a,us-east-2b,us-east-2z' });
    expect(run.failure?.name).toBe('States.TaskFailed');
    const build: Build = JSON.parse(run.failure!.cause) as Build;
    expect(build.BuildStatus).toBe('FAILED');
    expect(build.Phases.find((p) => p.PhaseType === 'BUILD')?.Contexts?.[0]?.Message).toBe(
      'Error while executing command: bash buildspecs/scripts/network.sh. Reason: exit status 1',
    );
    expect(run.lines.join('\n')).toMatch(/Error: creating EC2 Subnet[\s\S]*us-east-2z/);
    // The same lines are in CloudWatch Logs, where the build's Logs field points.
    const events = await new CloudWatchLogsClient(clientOptions(REGION)).send(
      new GetLogEventsCommand({ logGroupName: build.Logs.GroupName, logStreamName: build.Logs.StreamName, startFromHead: true }),
    );
    expect((events.events ?? []).some((e) => e.message?.includes('Error: creating EC2 Subnet'))).toBe(true);
  });

  test(
    'GIVEN the failed apply WHEN the job re-runs with the zones fixed ' +
      'THEN it continues from the saved state: one VPC, a subnet in each of three zones, an internet gateway, no NAT gateway',
    async () => {
      const [partialVpc] = await vpcsNamed('netjob');
      expect(partialVpc).toBeDefined(); // the failed run had created the VPC and recorded it in its state

      const result = resultOf(await runNetworkJob(fabric));
      vpcId = result.vpcId;
      expect(await vpcsNamed('netjob')).toEqual([partialVpc]);
      expect(vpcId).toBe(partialVpc);

      const subnets = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).Subnets ?? [];
      expect(subnets.map((s) => s.AvailabilityZone).sort()).toEqual(ZONES);
      for (const subnet of subnets) {
        expect(subnet.MapPublicIpOnLaunch).toBe(true);
        expect(subnet.Tags).toEqual(
          expect.arrayContaining([
            { Key: 'kubernetes.io/role/elb', Value: '1' },
            { Key: `kubernetes.io/cluster/${fabric.clusterName}`, Value: 'shared' },
            { Key: 'Team', Value: 'platform' },
          ]),
        );
      }
      const igws = await ec2.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }));
      expect(igws.InternetGateways).toHaveLength(1);
      const routes = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }));
      const defaultRoutes = (routes.RouteTables ?? []).flatMap((t) => t.Routes ?? []).filter((r) => r.DestinationCidrBlock === '0.0.0.0/0');
      expect(defaultRoutes.map((r) => r.GatewayId)).toEqual([igws.InternetGateways?.[0]?.InternetGatewayId]);
      const nats = await ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'vpc-id', Values: [vpcId] }] }));
      expect(nats.NatGateways ?? []).toEqual([]);
    },
  );

  test('GIVEN the applied network WHEN FABRIC_RESULT is read THEN it is the NetworkJobResult the state machine expects', async () => {
    const subnets = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).Subnets ?? [];
    const byZone = Object.fromEntries(subnets.map((s) => [s.AvailabilityZone ?? '', s.SubnetId ?? '']));
    const rerun = resultOf(await runNetworkJob(fabric));
    expect(rerun).toEqual({
      action: 'provision',
      vpcId,
      vpcCidr: fabric.buildEnv.NETWORK_CIDR,
      zones: ZONES,
      subnetIds: byZone,
      subnetIdsCsv: ZONES.map((z) => byZone[z]).join(','),
      securityGroupId: expect.stringMatching(/^sg-/),
      // Re-running the same spec changes nothing.
      changes: { add: 0, change: 0, destroy: 0 },
      planDigest: '',
    });
  });

  test(
    'GIVEN the applied network WHEN planned ' +
      'THEN the result carries its outputs and a digest; the digest is stable; ' +
      'an apply held to another digest stops with PlanChanged, applying nothing',
    async () => {
      const planned = resultOf(await runNetworkJob(fabric, { ACTION: 'plan' }));
      expect(planned).toMatchObject({
        action: 'plan',
        vpcId,
        changes: { add: 0, change: 0, destroy: 0 },
        planDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
      });

      // The held apply plans again and compares: the same digest from a second plan is what lets it apply.
      const held = await runNetworkJob(fabric, { APPROVED_PLAN_DIGEST: planned.planDigest });
      expect(resultOf(held).changes).toEqual({ add: 0, change: 0, destroy: 0 });
      expect(held.lines.join('\n')).toContain(`the plan is the approved one (${planned.planDigest})`);

      const other = await runNetworkJob(fabric, { APPROVED_PLAN_DIGEST: 'f'.repeat(64) });
      expect(other.failure).toBeDefined();
      expect(other.lines.join('\n')).toMatch(/PlanChanged: the plan differs from the approved one \(approved f{64}, now [0-9a-f]{64}\)/);
      expect(other.lines.join('\n')).not.toMatch(/Apply complete/);
    },
  );

  test('GIVEN the applied network WHEN the job destroys it THEN the VPC is gone; the state bucket keeps every state version', async () => {
    const result = resultOf(await runNetworkJob(fabricOf('netjob', 'destroy')));
    expect(result).toMatchObject({ action: 'destroy', vpcId, changes: { add: 0, change: 0, destroy: 11 } });
    expect(await vpcsNamed('netjob')).toEqual([]);

    await s3.send(new HeadBucketCommand({ Bucket: fabric.stateBucket }));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: fabric.stateBucket, Prefix: stateKeys.network('netjob') }));
    const stateVersions = (versions.Versions ?? []).filter((v) => v.Key === stateKeys.network('netjob'));
    // At least: after the failed apply, after the completed apply, after the destroy.
    expect(stateVersions.length).toBeGreaterThanOrEqual(3);
  });
});
