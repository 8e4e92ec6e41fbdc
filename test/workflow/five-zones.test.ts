import { AutoScalingClient, AutoScalingGroup, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeSubnetsCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { motoInstalled } from '../../lib/local/moto';
import { executeLocal, ExecuteOptions, LocalRunResult } from '../../lib/local/run';
import { TERRAFORM_SKIP_REASON } from '../support/terraform';
import { useWorkflowEnvironment } from '../support/workflow-environment';

/**
 * A fabric with `zoneCount: 5`, the whole way in local mode: the synthesized state machine, the
 * real handlers, the real scripts and Terraform against moto, kops by its stand-in (which
 * generates zones d and e from kops's golden zone a). moto's us-east-2 has three zones and its
 * us-east-1 six (a to f), so the fabric lives in us-east-1, in its own emulator.
 * Destroying is not repeated here: a destroy removes what the Terraform states hold, whatever the
 * zone count, and workflow scenario 7 (test/workflow/scenarios.test.ts) destroys a whole fabric.
 */
const ready = motoInstalled() && TERRAFORM_SKIP_REASON === undefined;
if (!ready) {
  // eslint-disable-next-line no-console
  console.warn(
    `SKIPPED 5-zone workflow: it needs moto_server (${motoInstalled() ? 'found' : 'missing'}) ` +
      `and Terraform (${TERRAFORM_SKIP_REASON ?? 'found'}).`,
  );
}
const describeWorkflow = ready ? describe : describe.skip;
// Two Terraform configurations with five zones' worth of resources; a 2-core machine takes minutes.
jest.setTimeout(900_000);

const REGION = 'us-east-1';
const DOMAIN = 'fabric.example.com';
const NAME = 'five';
const CLUSTER = `${NAME}.${DOMAIN}`;
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d', 'us-east-1e'];
const FAST: ExecuteOptions = { readinessPollMs: 200, dnsControllerDelayMs: 300, retryIntervalOverrides: { AcquireLock: 150 } };

describeWorkflow('a 5-zone fabric (local mode, moto us-east-1, real Terraform)', () => {
  const environment = useWorkflowEnvironment({ region: REGION, domain: DOMAIN });
  const ec2 = () => new EC2Client({ region: REGION });
  const run = (input: Record<string, unknown>): Promise<LocalRunResult> => executeLocal(environment(), input, FAST);
  /** The cluster's control-plane groups in moto, by name. */
  const controlPlaneGroups = async (): Promise<AutoScalingGroup[]> =>
    ((await new AutoScalingClient({ region: REGION }).send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [])
      .filter(
        (g) => /^(control-plane|master)-/.test(g.AutoScalingGroupName ?? '') && g.AutoScalingGroupName?.endsWith(`.masters.${CLUSTER}`),
      )
      .sort((a, b) => (a.AutoScalingGroupName ?? '').localeCompare(b.AutoScalingGroupName ?? ''));

  test(
    'GIVEN zoneCount 5 in us-east-1 WHEN provisioned ' +
      "THEN the fabric is READY with one control-plane group in each of 5 zones, each in its zone's subnet",
    async () => {
      const result = await run({ action: 'provision', spec: { name: NAME, domain: DOMAIN, region: REGION, zoneCount: 5 } });
      expect({ status: result.status, error: result.error, cause: result.cause }).toEqual({
        status: 'SUCCEEDED',
        error: undefined,
        cause: undefined,
      });
      expect(result.output).toMatchObject({ name: NAME, status: 'READY', zones: ZONES });
      const vpcId = (result.output as { outputs: { vpcId: string } }).outputs.vpcId;

      const subnets = (await ec2().send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).Subnets ?? [];
      const subnetOfZone = new Map(subnets.map((s) => [s.AvailabilityZone ?? '', s.SubnetId ?? '']));
      expect([...subnetOfZone.keys()].sort()).toEqual(ZONES);

      const groups = await controlPlaneGroups();
      expect(
        groups.map((g) => ({
          name: g.AutoScalingGroupName,
          zones: g.AvailabilityZones,
          subnets: g.VPCZoneIdentifier,
          inService: (g.Instances ?? []).filter((i) => i.LifecycleState === 'InService').map((i) => i.AvailabilityZone),
        })),
      ).toEqual(
        ZONES.map((zone) => ({
          name: `master-${zone}.masters.${CLUSTER}`,
          zones: [zone],
          subnets: subnetOfZone.get(zone),
          inService: [zone],
        })),
      );
    },
  );

  test(
    'GIVEN the 5-zone fabric WHEN its etcd volumes are listed ' +
      'THEN main and events sit in every zone, each tagged with its member and all 5 members',
    async () => {
      const volumes =
        (await ec2().send(new DescribeVolumesCommand({ Filters: [{ Name: `tag:kubernetes.io/cluster/${CLUSTER}`, Values: ['owned'] }] })))
          .Volumes ?? [];
      const etcd = volumes
        .map((v) => {
          const tag = (v.Tags ?? []).find((t) => t.Key === 'k8s.io/etcd/main' || t.Key === 'k8s.io/etcd/events');
          return tag ? `${v.AvailabilityZone ?? ''} ${tag.Key ?? ''}=${tag.Value ?? ''}` : undefined;
        })
        .filter((v): v is string => v !== undefined)
        .sort();
      expect(etcd).toEqual(
        ZONES.flatMap((zone) =>
          ['events', 'main'].map((cluster) => `${zone} k8s.io/etcd/${cluster}=${zone.slice(REGION.length)}/a,b,c,d,e`),
        ),
      );
    },
  );
});
