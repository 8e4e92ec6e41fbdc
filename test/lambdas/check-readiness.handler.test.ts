import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { handler as Handler } from '../../lambdas/check-readiness/handler';
import { describeWithMoto, resetMoto, useMoto } from '../support/moto';
import { createKopsGroups } from './fixtures/kops-groups';
import { testCluster, testFabric, testPrepared } from './fixtures/late-stages';

const ZONES = ['us-east-2a', 'us-east-2b', 'us-east-2c'];

describeWithMoto('CheckReadiness handler against moto', () => {
  const moto = useMoto();
  let handler: typeof Handler;
  beforeAll(async () => {
    ({ handler } = await import('../../lambdas/check-readiness/handler'));
  });
  beforeEach(async () => resetMoto(moto.current()));

  async function zoneWithRecord(address: string): Promise<string> {
    const route53 = new Route53Client({ region: 'us-east-1' });
    const zone = await route53.send(new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `ref-${Date.now()}` }));
    const id = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: id,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: { Name: 'api.demo.example.com', Type: 'A', TTL: 60, ResourceRecords: [{ Value: address }] },
            },
          ],
        },
      }),
    );
    return id;
  }

  async function kubeconfigArn(): Promise<string> {
    const secret = await new SecretsManagerClient({}).send(
      new CreateSecretCommand({ Name: 'fabricctl/demo/kubeconfig', SecretString: 'apiVersion: v1\nclusters: []\n' }),
    );
    return secret.ARN ?? '';
  }

  test('GIVEN all kops groups InService and the placeholder address WHEN polled THEN instances are ready and dns is not', async () => {
    const fabric = testFabric();
    await createKopsGroups(fabric.clusterName, ZONES);
    const hostedZoneId = await zoneWithRecord('203.0.113.123');
    const state = await handler({
      fabric,
      prepared: testPrepared(hostedZoneId, ZONES),
      cluster: testCluster(fabric, await kubeconfigArn()),
      readiness: { ready: false, startedAt: new Date().toISOString(), attempts: 0 },
    });
    expect(state.ready).toBe(false);
    expect(state.attempts).toBe(1);
    expect(state.checks?.instances).toEqual({ ready: true, detail: expect.stringContaining('5/5 instances InService') });
    expect(state.checks?.dns.detail).toContain('placeholder 203.0.113.123');
    expect(state.checks?.api.ready).toBe(false);
  });

  test('GIVEN a zone without a control-plane group WHEN polled THEN instances are not ready and the zone is named', async () => {
    const fabric = testFabric();
    await createKopsGroups(fabric.clusterName, ZONES, { controlPlaneZones: ['us-east-2a'] });
    const hostedZoneId = await zoneWithRecord('203.0.113.123');
    const state = await handler({
      fabric,
      prepared: testPrepared(hostedZoneId, ZONES),
      cluster: testCluster(fabric, await kubeconfigArn()),
      readiness: { ready: false, startedAt: new Date().toISOString(), attempts: 0 },
    });
    expect(state.checks?.instances.ready).toBe(false);
    expect(state.checks?.instances.detail).toContain('no control-plane group in us-east-2b, us-east-2c');
  });

  test('GIVEN another cluster groups only WHEN polled THEN the tag filter leaves none for this cluster', async () => {
    const fabric = testFabric();
    await createKopsGroups('other.example.com', ZONES);
    const hostedZoneId = await zoneWithRecord('203.0.113.123');
    const state = await handler({
      fabric,
      prepared: testPrepared(hostedZoneId, ZONES),
      cluster: testCluster(fabric, await kubeconfigArn()),
      readiness: { ready: false, startedAt: new Date().toISOString(), attempts: 0 },
    });
    expect(state.checks?.instances.detail).toBe('no Auto Scaling groups tagged KubernetesCluster=demo.example.com yet');
  });

  test('fails when the deadline has passed and the cluster is not ready, with ClusterNotReady naming each check', async () => {
    const fabric = testFabric();
    const hostedZoneId = await zoneWithRecord('203.0.113.123');
    await expect(
      handler({
        fabric,
        prepared: testPrepared(hostedZoneId, ZONES),
        cluster: testCluster(fabric, await kubeconfigArn()),
        readiness: { ready: false, startedAt: new Date(Date.now() - 1201_000).toISOString(), attempts: 40 },
      }),
    ).rejects.toMatchObject({
      name: 'ClusterNotReady',
      message: expect.stringMatching(/instances: NOT ready .*dns: NOT ready .*placeholder.*api: NOT ready/),
    });
  });
});
