import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { DeleteBucketPolicyCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import sshpk from 'sshpk';
import { parse as parseYaml } from 'yaml';
import { ensureStateBucket } from '../../lambdas/ensure-state-bucket/core';
import { clientOptions, s3Options } from '../../lambdas/shared/clients';
import type { ClusterJobResult, FabricAction, ValidatedFabric } from '../../lib/domain/contract';
import { kubeconfigSecretName, stateKeys } from '../../lib/domain/naming';
import { BuildTaskFailed, EnvironmentVariable, runBuild, StartBuildSyncOutput } from '../../lib/local/standins/codebuild';
import type { CallRecord, Invocation } from '../../lib/local/standins/kops/src/main';
import { startTestApiServer, TestApiServer } from '../../lib/local/standins/api-server';
import { promoteApiRecord } from '../../lib/local/standins/dns-controller';
import { describeWithMoto, MOTO_AVAILABLE, useMoto } from '../support/moto';
import { toolsEnvValue } from '../../lib/local/prerequisites';
import { providerAfterOwnRuns } from '../support/shared-provider';
import { TERRAFORM_SKIP_REASON, TF_PLUGIN_MIRROR } from '../support/terraform';
import { validatedFabric } from '../support/fabric';
import { kopsCallName, readKopsCalls, UPGRADE_KOPS_CALLS } from '../support/kops-calls';
import { inJobSource, JOB_SOURCE_FOLDERS } from '../../lib/job-source';

/**
 * The cluster job for real: buildspecs/cluster.yml run by the local CodeBuild stand-in, with the
 * kops stand-in on PATH (it emits kops 1.36.2's own golden Terraform with the fabric's names), and
 * the real Terraform and AWS provider applying that output to moto_server. Steps build on each
 * other, like the runs of one fabric.
 *
 * Emulator gaps: moto cannot run everything kops writes. The job (emulator-gaps.awk, used only
 * when AWS_ENDPOINT_URL is set) leaves out exactly these and prints each one, which a test checks:
 * the control-plane launch templates' instance-store block device mapping (moto's run_instances
 * fails on it), moto's made-up lifecycle-hook target/role and extra launch-template tag
 * specification (ignored by Terraform so a re-run can show "no changes"). Nothing else is skipped.
 */
const REPO = resolve(__dirname, '../..');
const STANDIN_BIN = join(REPO, 'lib/local/standins/kops/bin');
const REGION = 'us-east-2';
const ACCOUNT = '123456789012';
/** As the deployed project passes the stack's NodeRoleBoundary. */
const BOUNDARY_ARN = `arn:aws:iam::${ACCOUNT}:policy/FabricOrchestrator-NodeRoleBoundary-1`;
const ZONES = ['us-east-2a', 'us-east-2b', 'us-east-2c'];

if (MOTO_AVAILABLE && TERRAFORM_SKIP_REASON) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED: cluster job against the emulator: ${TERRAFORM_SKIP_REASON}.`);
}
const describeJob = TERRAFORM_SKIP_REASON ? describe.skip : describeWithMoto;
// One provisioning apply of kops's output takes over a minute alone and several on a busy 2-core machine.
jest.setTimeout(600_000);

function fabricOf(action: FabricAction): ValidatedFabric {
  return validatedFabric(
    {
      name: 'clusterjob',
      domain: 'example.com',
      region: REGION,
      kubernetes: {
        version: '1.35.0',
        networking: 'calico',
        controlPlaneSize: 't3.large',
        nodeSize: 'm5.large',
        nodes: { min: 2, max: 5 },
      },
      access: { api: ['0.0.0.0/0', '2001:db8::/32'], ssh: [] },
      tags: { Team: 'platform', CostCentre: 'k8s' },
    },
    { action },
  );
}

interface JobRun {
  readonly output?: StartBuildSyncOutput;
  readonly failure?: BuildTaskFailed;
  readonly lines: readonly string[];
  /** The kops commands the job ran, in order, from the stand-in's call log. */
  readonly calls: readonly CallRecord[];
}

describeJob('cluster job (buildspecs/cluster.yml) with the kops stand-in, against moto_server with the real Terraform', () => {
  useMoto();
  const fabric = fabricOf('provision');
  const secretName = kubeconfigSecretName(fabric.name);
  const kopsBase = `${stateKeys.kops(fabric.name)}/${fabric.clusterName}`;
  const scratch = mkdtempSync(join(tmpdir(), 'cluster-job-'));
  const caFile = join(scratch, 'ca.pem');
  const caKeyFile = join(scratch, 'ca-key.pem');
  let api: TestApiServer;
  const allLines: string[] = [];
  let ec2: EC2Client;
  let s3: S3Client;
  let network: { vpcId: string; subnetIds: string[] };
  let publicKey: string;
  let zoneId: string;

  let runs = 0;
  /**
   * The first four runs (three plans that run no Terraform, and the first provisioning) start the AWS
   * provider as CodeBuild does, from the mirror and checked against the lock file that cluster.sh
   * copies next to kops's output; the later ones share one (test/support/shared-provider.ts).
   */
  const awsProvider = providerAfterOwnRuns(4);
  async function runClusterJob(
    action: FabricAction,
    extra: Record<string, string> = {},
    compute: 'ec2' | 'lambda' = 'ec2',
  ): Promise<JobRun> {
    await awsProvider.beforeRun();
    const lines: string[] = [];
    const callLog = join(scratch, `kops-calls-${(runs += 1)}.jsonl`);
    const calls = (): CallRecord[] => readKopsCalls(callLog);
    const values: Record<string, string> = {
      ...fabric.buildEnv,
      ACTION: action,
      STATE_BUCKET: fabric.stateBucket,
      ZONES_CSV: ZONES.join(','),
      VPC_ID: network.vpcId,
      SUBNET_IDS_CSV: network.subnetIds.join(','),
      SSH_PUBLIC_KEY: publicKey,
      KUBECONFIG_SECRET_NAME: secretName,
      ...extra,
    };
    const overrides: EnvironmentVariable[] = Object.entries(values).map(([Name, Value]) => ({ Name, Value, Type: 'PLAINTEXT' as const }));
    try {
      const output = await runBuild({
        projectName: 'fabricctl-cluster',
        buildspecPath: 'buildspecs/cluster.yml',
        sourceDir: REPO,
        // As the Lambda-compute project runs it: a copy of the job source, HOME in /tmp, 15 minutes.
        ...(compute === 'lambda' ? { compute, sourceFolders: JOB_SOURCE_FOLDERS, sourceIncludes: inJobSource } : {}),
        environment: {
          BUILD_COMPUTE: compute,
          TF_PLUGIN_MIRROR,
          PATH: `${STANDIN_BIN}:${process.env.PATH ?? ''}`,
          KOPS_STANDIN_API_SERVER: api.serverUrl,
          KOPS_STANDIN_API_CA_FILE: caFile,
          KOPS_STANDIN_API_CA_KEY_FILE: caKeyFile,
          PERMISSIONS_BOUNDARY_ARN: BOUNDARY_ARN,
          KOPS_STANDIN_CALL_LOG: callLog,
        },
        overrides,
        region: REGION,
        onLine: (line) => {
          lines.push(line);
          allLines.push(line);
        },
      });
      return { output, lines, calls: calls() };
    } catch (error) {
      if (error instanceof BuildTaskFailed) return { failure: error, lines, calls: calls() };
      throw error;
    }
  }

  function resultOf(run: JobRun): ClusterJobResult {
    if (!run.output) throw new Error(`the build failed:\n${run.lines.slice(-40).join('\n')}`);
    const exported = run.output.Build.ExportedEnvironmentVariables.find((v) => v.Name === 'FABRIC_RESULT');
    if (!exported) throw new Error('FABRIC_RESULT was not exported');
    return JSON.parse(exported.Value) as ClusterJobResult;
  }

  const autoScalingGroups = async () =>
    (await new AutoScalingClient(clientOptions(REGION)).send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [];
  const registryKeys = async (): Promise<string[]> =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: fabric.stateBucket, Prefix: `${kopsBase}/` }))).Contents ?? []).map(
      (o) => o.Key ?? '',
    );
  const apiRecords = async (): Promise<Array<[string, string]>> =>
    (
      (await new Route53Client(clientOptions(REGION)).send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId })))
        .ResourceRecordSets ?? []
    )
      .filter((r) => r.Type === 'A')
      .map((r) => [r.Name ?? '', r.ResourceRecords?.[0]?.Value ?? '']);

  beforeAll(async () => {
    ec2 = new EC2Client(clientOptions(REGION));
    s3 = new S3Client(s3Options(REGION));
    await ensureStateBucket(fabric, {
      s3,
      accountId: ACCOUNT,
      stateReaders: { buildPrincipalArns: [`arn:aws:iam::${ACCOUNT}:user/moto`], adminPrincipalArns: [] },
    });
    // WORKAROUND (emulator only): moto enforces the bucket's TLS-only policy and speaks plain HTTP.
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: fabric.stateBucket }));
    // The network job's output, made directly: an existing VPC with one subnet per zone.
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: fabric.buildEnv.NETWORK_CIDR }))).Vpc?.VpcId ?? '';
    const subnetIds: string[] = [];
    for (const [i, zone] of ZONES.entries()) {
      const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, AvailabilityZone: zone, CidrBlock: `10.10.${i * 16}.0/20` }));
      subnetIds.push(subnet.Subnet?.SubnetId ?? '');
    }
    network = { vpcId, subnetIds };
    const zone = await new Route53Client(clientOptions(REGION)).send(
      new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: 'cluster-job-test' }),
    );
    zoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
    const { publicKey: pem } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    publicKey = sshpk.parseKey(pem, 'pem').toString('ssh');
    // The cluster's API, as local mode runs it: the stand-in API server and its cluster CA.
    api = await startTestApiServer({ clusterName: fabric.clusterName });
    writeFileSync(caFile, api.ca.certPem);
    writeFileSync(caKeyFile, api.ca.keyPem, { mode: 0o600 });
  });
  afterAll(async () => {
    await awsProvider.stop();
    await api.stop();
  });

  /** The kops stand-in run directly, as the job would run it, with the cluster's CA. */
  function kops(args: string[], env: Record<string, string> = {}) {
    const state = `--state=s3://${fabric.stateBucket}/${stateKeys.kops(fabric.name)}`;
    return spawnSync(join(STANDIN_BIN, 'kops'), [...args, `--name=${fabric.clusterName}`, state], {
      encoding: 'utf8',
      // jest's process.env is not the child's default
      env: {
        ...process.env,
        KOPS_STANDIN_API_SERVER: api.serverUrl,
        KOPS_STANDIN_API_CA_FILE: caFile,
        KOPS_STANDIN_API_CA_KEY_FILE: caKeyFile,
        ...env,
      },
    });
  }

  test('GIVEN no VPC yet WHEN the job plans THEN it says the cluster waits for the network and writes nothing', async () => {
    const result = resultOf(await runClusterJob('plan', { VPC_ID: '', SUBNET_IDS_CSV: '' }));
    expect(result).toMatchObject({ action: 'plan', clusterName: fabric.clusterName, changes: { add: 0, change: 0, destroy: 0 } });
    expect((result as ClusterJobResult & { summary: string }).summary).toMatch(/waits for the network/);
    expect(await registryKeys()).toEqual([]);
  });

  test(
    'GIVEN an existing VPC and no registered cluster WHEN the job plans ' +
      'THEN it says the cluster would be created: without the SSH key, that kops checks it once the key exists; with the key, ' +
      'after kops --dry-run; ' +
      'nothing is written',
    async () => {
      const withoutKey = await runClusterJob('plan', { SSH_PUBLIC_KEY: '' });
      expect(resultOf(withoutKey)).toMatchObject({
        action: 'plan',
        changes: { add: 0, change: 0, destroy: 0 },
        summary:
          `cluster ${fabric.clusterName} would be created; ` +
          "kops validates the request once the fabric's SSH key exists (the first provision makes it)",
      });
      expect(withoutKey.calls.map(kopsCallName)).toEqual(['version']);

      const withKey = await runClusterJob('plan');
      expect(resultOf(withKey)).toMatchObject({
        action: 'plan',
        changes: { add: 0, change: 0, destroy: 0 },
        summary:
          `cluster ${fabric.clusterName} would be created (kops validated the request with --dry-run); ` +
          'its Terraform plan is known once kops has registered it',
      });
      const dryRun = withKey.calls.find((call) => call.command === 'create cluster');
      expect(dryRun?.argv).toEqual(expect.arrayContaining(['--dry-run', '--output=yaml']));
      expect(await registryKeys()).toEqual([]);
    },
  );

  test(
    'GIVEN an existing VPC WHEN the job provisions ' +
      "THEN Terraform applies kops's output: one control-plane group per zone, in that zone's subnet",
    async () => {
      const run = await runClusterJob('provision');
      const result = resultOf(run);
      const groups = await autoScalingGroups();
      const controlPlane = groups
        .filter((g) => g.AutoScalingGroupName?.startsWith('master-'))
        .sort((a, b) => (a.AutoScalingGroupName ?? '').localeCompare(b.AutoScalingGroupName ?? ''));
      expect(controlPlane.map((g) => [g.AutoScalingGroupName, g.VPCZoneIdentifier, g.MinSize, g.MaxSize])).toEqual(
        ZONES.map((z, i) => [`master-${z}.masters.${fabric.clusterName}`, network.subnetIds[i], 1, 1]),
      );
      const nodes = groups.find((g) => g.AutoScalingGroupName === `nodes.${fabric.clusterName}`);
      expect([nodes?.MinSize, nodes?.MaxSize, nodes?.VPCZoneIdentifier?.split(',').sort()]).toEqual([2, 5, [...network.subnetIds].sort()]);
      expect(result).toEqual({
        action: 'provision',
        clusterName: fabric.clusterName,
        apiName: `api.${fabric.clusterName}`,
        kubeconfigSecretArn: expect.stringMatching(new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${secretName}-`)),
        controlPlaneGroups: ZONES.map((z) => `master-${z}.masters.${fabric.clusterName}`),
        changes: { add: expect.any(Number), change: 0, destroy: 0 },
        summary: `cluster ${fabric.clusterName} applied`,
        // A provision applies; only a plan carries a digest and the groups it would roll.
        planDigest: '',
        rolls: [],
      });
      expect(result.changes.add).toBeGreaterThan(60);
      // kops pre-creates the API records with its placeholder address until dns-controller runs.
      expect(await apiRecords()).toEqual(
        expect.arrayContaining([
          [`api.${fabric.clusterName}.`, '203.0.113.123'],
          [`api.internal.${fabric.clusterName}.`, '203.0.113.123'],
        ]),
      );
      expect(run.lines.join('\n')).toContain('kops stand-in (kops is not installed)');
      // kops is told not to write a kubeconfig of its own on the build host: the job exports its own.
      const update = run.calls.find((c) => c.command === 'update cluster');
      expect(update?.argv).toEqual(expect.arrayContaining(['--yes', '--create-kube-config=false']));
      // kops asks for hashicorp/aws >= 5.0.0: the jobs' lock file holds it to the version the tests run.
      expect(run.lines).toEqual(
        expect.arrayContaining([
          expect.stringContaining('Reusing previous version of hashicorp/aws from the dependency lock file'),
          expect.stringContaining(`Installed hashicorp/aws v${toolsEnvValue('TERRAFORM_AWS_PROVIDER_VERSION')}`),
        ]),
      );
    },
  );

  test("GIVEN the provisioned cluster THEN its Terraform state gives both roles kops made the stack's permissions boundary", async () => {
    const state = JSON.parse(
      await (
        await s3.send(new GetObjectCommand({ Bucket: fabric.stateBucket, Key: stateKeys.cluster(fabric.name) }))
      ).Body!.transformToString(),
    ) as {
      resources: Array<{ type: string; instances: Array<{ attributes: { name: string; permissions_boundary: string } }> }>;
    };
    const roles = state.resources
      .filter((r) => r.type === 'aws_iam_role')
      .flatMap((r) => r.instances.map((i) => [i.attributes.name, i.attributes.permissions_boundary]));
    expect(roles.sort()).toEqual([
      [`masters.${fabric.clusterName}`, BOUNDARY_ARN],
      [`nodes.${fabric.clusterName}`, BOUNDARY_ARN],
    ]);
  });

  test('GIVEN the provisioned cluster WHEN the logs are read THEN the emulator gaps are listed and nothing else was left out', () => {
    const gaps = [
      ...new Set(allLines.filter((l) => l.includes('EMULATOR GAP')).map((l) => l.replace(/^.*EMULATOR GAP/, 'EMULATOR GAP'))),
    ].sort();
    // eslint-disable-next-line no-console
    console.info(`Left out of the apply because moto cannot run it:\n${gaps.join('\n')}`);
    const dashed = fabric.clusterName.replace(/\./g, '-');
    expect(gaps).toEqual(
      [
        ...ZONES.map((z) => `EMULATOR GAP (moto): changes to tag_specifications ignored on launch template master-${z}-masters-${dashed}`),
        `EMULATOR GAP (moto): changes to tag_specifications ignored on launch template nodes-${dashed}`,
        ...ZONES.map(
          (z) =>
            `EMULATOR GAP (moto): instance-store block device mapping "/dev/sdc" left out of launch template master-${z}-masters-${dashed}`,
        ),
        ...ZONES.map(
          (z) => `EMULATOR GAP (moto): made-up notification_target_arn/role_arn ignored on lifecycle hook master-${z}-NTHLifecycleHook`,
        ),
        'EMULATOR GAP (moto): made-up notification_target_arn/role_arn ignored on lifecycle hook nodes-NTHLifecycleHook',
      ].sort(),
    );
  });

  test(
    'GIVEN the provisioned cluster WHEN the recorded kops invocation is read ' +
      'THEN it carried every spec value, with one control-plane node per zone',
    async () => {
      const body = await s3.send(new GetObjectCommand({ Bucket: fabric.stateBucket, Key: `${kopsBase}/standin-invocation.json` }));
      const invocation = JSON.parse((await body.Body?.transformToString()) ?? '{}') as Invocation;
      expect(invocation.command).toBe('create cluster');
      expect(invocation.flags).toEqual({
        name: [fabric.clusterName],
        state: [`s3://${fabric.stateBucket}/${stateKeys.kops(fabric.name)}`],
        cloud: ['aws'],
        zones: ZONES,
        'control-plane-zones': ZONES,
        'network-id': [network.vpcId],
        subnets: network.subnetIds,
        'network-cidr': ['10.10.0.0/16'],
        topology: ['public'],
        'dns-zone': ['example.com'],
        networking: ['calico'],
        'kubernetes-version': ['1.35.0'],
        'control-plane-size': ['t3.large'],
        'node-size': ['m5.large'],
        'node-count': ['2'],
        'admin-access': ['0.0.0.0/0', '2001:db8::/32'],
        'ssh-public-key': [expect.stringMatching(/ssh_key\.pub$/)],
        'cloud-labels': ['Team=platform,CostCentre=k8s'],
        // SSH closed: kops would otherwise copy --admin-access into spec.sshAccess.
        unset: ['spec.sshAccess'],
      });
      expect(await registryKeys()).toEqual(
        expect.arrayContaining([
          `${kopsBase}/config`,
          `${kopsBase}/instancegroup/nodes`,
          ...ZONES.map((z) => `${kopsBase}/instancegroup/master-${z}`),
        ]),
      );
    },
  );

  test(
    'GIVEN the provisioned cluster WHEN the kubeconfig secret is read ' +
      'THEN it holds an admin client certificate of the cluster CA, which appears in no log line',
    async () => {
      const secrets = new SecretsManagerClient(clientOptions(REGION));
      await secrets.send(new DescribeSecretCommand({ SecretId: secretName }));
      const value = (await secrets.send(new GetSecretValueCommand({ SecretId: secretName }))).SecretString ?? '';
      const kubeconfig = parseYaml(value) as {
        clusters: Array<{ cluster: { server: string; 'tls-server-name': string } }>;
        users: Array<{ user: Record<string, string> }>;
      };
      expect(kubeconfig.clusters[0]?.cluster['tls-server-name']).toBe(`api.${fabric.clusterName}`);
      const user = kubeconfig.users[0]?.user ?? {};
      expect(Object.keys(user).sort()).toEqual(['client-certificate-data', 'client-key-data']);
      const cert = new X509Certificate(Buffer.from(user['client-certificate-data'] ?? '', 'base64'));
      expect(cert.verify(new X509Certificate(api.ca.certPem).publicKey)).toBe(true);
      expect(cert.subject).toMatch(/^O=system:masters\nCN=kubecfg-/);
      const key = user['client-key-data'] ?? '';
      expect(allLines.filter((l) => l.includes(key.slice(0, 40)) || l.includes('PRIVATE KEY'))).toEqual([]);
    },
  );

  test('fails when kops rolling-update --use-kubeconfig finds no kubeconfig for the cluster, as kops does', () => {
    const run = kops(['rolling-update', 'cluster', '--yes', '--use-kubeconfig'], { KUBECONFIG: join(scratch, 'missing-kubeconfig') });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`Error: cannot load kubecfg settings for "${fabric.clusterName}"`);
  });

  test('fails when kops rolling-update cannot validate because api.<cluster> still holds the placeholder', () => {
    const run = kops(['rolling-update', 'cluster', '--yes']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`validation failed: api.${fabric.clusterName} still resolves to the placeholder 203.0.113.123`);
  });

  test('fails when the cluster already exists and kops create is run again, as kops does', async () => {
    const run = spawnSync(
      join(STANDIN_BIN, 'kops'),
      [
        'create',
        'cluster',
        `--name=${fabric.clusterName}`,
        `--state=s3://${fabric.stateBucket}/${stateKeys.kops(fabric.name)}`,
        `--zones=${ZONES.join(',')}`,
        `--control-plane-zones=${ZONES.join(',')}`,
        `--network-id=${network.vpcId}`,
        `--subnets=${network.subnetIds.join(',')}`,
      ],
      { encoding: 'utf8', env: { ...process.env } },
    ); // jest's process.env is not the child's default
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`Error: cluster "${fabric.clusterName}" already exists`);
  });

  test('GIVEN the same spec WHEN the job provisions again THEN Terraform has no changes and nothing is rolled', async () => {
    const run = await runClusterJob('provision');
    expect(resultOf(run).changes).toEqual({ add: 0, change: 0, destroy: 0 });
    expect(run.lines.join('\n')).not.toContain('rolling update');
  });

  test(
    'GIVEN a changed spec (node maximum 5 -> 6) WHEN the job provisions ' +
      'THEN Terraform changes the node group, the kubeconfig is exported, then kops rolls the cluster validating with admin credentials',
    async () => {
      // dns-controller has long replaced the placeholder on a running cluster: its stand-in does that here.
      await promoteApiRecord({
        hostedZoneId: zoneId,
        clusterName: fabric.clusterName,
        address: '127.0.0.1',
        route53: new Route53Client(clientOptions(REGION)),
      });
      const run = await runClusterJob('provision', { NODE_MAX: '6' });
      expect(resultOf(run).changes).toEqual({ add: 0, change: 1, destroy: 0 });
      expect((await autoScalingGroups()).find((g) => g.AutoScalingGroupName === `nodes.${fabric.clusterName}`)?.MaxSize).toBe(6);
      const position = (text: string): number => run.lines.findIndex((l) => l.includes(text));
      const order = [
        position('Apply complete!'),
        position(`admin kubeconfig exported for ${fabric.clusterName}`),
        position('rolling update, one instance at a time'),
        position(`kops stand-in: validated ${fabric.clusterName} at ${api.serverUrl} as kubecfg-`),
        position(`kops stand-in: ${fabric.clusterName} has no Kubernetes nodes in the emulator, nothing to roll.`),
      ];
      expect(order.every((p) => p >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    },
  );

  /** `spec.kubernetesVersion` of kops's config in the state store, and of the completed spec Terraform uploaded. */
  /** The version in kops's config and completed spec, and in the nodeupconfig Terraform put for each role. */
  const clusterVersions = async (): Promise<{ config: unknown; completed: unknown; controlPlane: unknown; nodes: unknown }> => {
    const read = async (key: string) =>
      (await (await s3.send(new GetObjectCommand({ Bucket: fabric.stateBucket, Key: `${kopsBase}/${key}` }))).Body?.transformToString()) ??
      '';
    const spec = (text: string) => (parseYaml(text) as { spec?: { kubernetesVersion?: unknown } }).spec?.kubernetesVersion;
    const nodeup = (text: string) => (parseYaml(text) as { KubernetesVersion?: unknown }).KubernetesVersion;
    return {
      config: spec(await read('config')),
      completed: spec(await read('cluster-completed.spec')),
      controlPlane: nodeup(await read(`igconfig/control-plane/master-${ZONES[0]}/nodeupconfig.yaml`)),
      nodes: nodeup(await read('igconfig/node/nodes/nodeupconfig.yaml')),
    };
  };
  const at = (version: string) => ({ config: version, completed: version, controlPlane: version, nodes: version });

  test('fails when the spec changes what kops created the cluster with (networking), naming the field and changing nothing', async () => {
    const run = await runClusterJob('provision', { NODE_MAX: '6', NETWORKING: 'cilium' });
    expect(run.failure).toBeDefined();
    expect(run.lines.join('\n')).toMatch(/networking: "calico" -> "cilium"/);
    expect(run.calls.map(kopsCallName)).toEqual(['version']);
    expect((await autoScalingGroups()).find((g) => g.AutoScalingGroupName === `nodes.${fabric.clusterName}`)?.MaxSize).toBe(6);
  });

  test('fails before kops changes anything when the spec skips a minor (1.35.0 -> 1.37.0), saying to take 1.36.x first', async () => {
    const run = await runClusterJob('provision', { NODE_MAX: '6', KUBERNETES_VERSION: '1.37.0' });
    expect(run.failure).toBeDefined();
    expect(run.lines.join('\n')).toContain(
      'kubernetesVersion 1.35.0 -> 1.37.0 skips a minor; kops upgrades one minor at a time: use 1.36.x first, then 1.37.0',
    );
    expect(run.calls.map(kopsCallName)).toEqual(['version']);
    expect(await clusterVersions()).toEqual(at('1.35.0'));
  });

  test(
    'GIVEN the cluster at 1.35.0 WHEN the job plans 1.36.4 ' +
      "THEN it reports no changes, the summary names the upgrade the plan leaves out, and kops's config is untouched",
    async () => {
      const run = await runClusterJob('plan', { NODE_MAX: '6', KUBERNETES_VERSION: '1.36.4' });
      expect(resultOf(run)).toMatchObject({
        action: 'plan',
        changes: { add: 0, change: 0, destroy: 0 },
        controlPlaneGroups: ZONES.map((z) => `master-${z}.masters.${fabric.clusterName}`),
        summary:
          `plan of cluster ${fabric.clusterName}; not in this plan: the Kubernetes minor upgrade 1.35.0 -> 1.36.4 ` +
          `(provision sets it with kops, applies and rolls the control plane, then updates, applies and rolls the nodes)`,
      });
      expect(run.calls.map(kopsCallName)).toEqual(['version', 'update cluster']);
      expect(await clusterVersions()).toEqual(at('1.35.0'));
    },
  );

  test(
    'GIVEN the cluster at 1.35.0 WHEN the job provisions 1.36.4 ' +
      'THEN kops sets the version, updates, Terraform applies, then the control plane rolls and then the nodes',
    async () => {
      const run = await runClusterJob('provision', { NODE_MAX: '6', KUBERNETES_VERSION: '1.36.4' });
      const result = resultOf(run);
      expect(run.calls.map(kopsCallName)).toEqual(UPGRADE_KOPS_CALLS);
      expect(run.calls.every((c) => c.exitCode === 0)).toBe(true);
      expect(run.calls[1]?.argv).toEqual([
        'set',
        'cluster',
        `--name=${fabric.clusterName}`,
        `--state=s3://${fabric.stateBucket}/${stateKeys.kops(fabric.name)}`,
        'spec.kubernetesVersion=1.36.4',
      ]);
      expect(result.summary).toBe(`cluster ${fabric.clusterName} applied; Kubernetes upgraded 1.35.0 -> 1.36.4`);
      // The state-store objects and every group's launch template (its user_data hashes its nodeupconfig).
      expect(result.changes).toMatchObject({ add: 0, destroy: 0 });
      expect(result.changes.change).toBeGreaterThanOrEqual(9);
      expect(await clusterVersions()).toEqual(at('1.36.4'));
      // Terraform applied before the rolls; each roll validated the cluster through its API.
      const position = (text: string, from = 0): number => run.lines.findIndex((l, i) => i >= from && l.includes(text));
      const applied = position('Apply complete!');
      const controlPlane = position('instance groups selected (roles control-plane): ' + ZONES.map((z) => `master-${z}`).join(', '));
      const nodes = position('instance groups selected (roles node): nodes');
      expect([applied >= 0, controlPlane > applied, nodes > controlPlane]).toEqual([true, true, true]);
      // kops kept the nodes at 1.35.0 while the control plane ran it; updated and applied again once it ran 1.36.4.
      const keptBack = position('kops stand-in: the control plane runs 1.35.0: the node instance groups stay at it');
      const nodesApplied = position('Apply complete!', controlPlane);
      expect([keptBack >= 0 && keptBack < applied, nodesApplied > controlPlane && nodesApplied < nodes]).toEqual([true, true]);
      expect(position(`kops stand-in: validated ${fabric.clusterName}`, nodes)).toBeGreaterThan(nodes);
    },
  );

  test('GIVEN the upgraded cluster WHEN the same spec is provisioned again THEN nothing changes and nothing rolls', async () => {
    const run = await runClusterJob('provision', { NODE_MAX: '6', KUBERNETES_VERSION: '1.36.4' });
    expect(resultOf(run).changes).toEqual({ add: 0, change: 0, destroy: 0 });
    expect(run.calls.map(kopsCallName)).toEqual(['version', 'update cluster', 'export kubeconfig']);
  });

  test('fails when the spec downgrades Kubernetes (1.36.4 -> 1.35.0), saying what to keep, before kops changes anything', async () => {
    const run = await runClusterJob('provision', { NODE_MAX: '6', KUBERNETES_VERSION: '1.35.0' });
    expect(run.failure).toBeDefined();
    expect(run.lines.join('\n')).toContain(
      'kubernetesVersion 1.36.4 -> 1.35.0 is a downgrade, which kops does not support; ' +
        'keep 1.36.x (1.36.4 or a later patch), or destroy and provision the fabric again',
    );
    expect(run.calls.map(kopsCallName)).toEqual(['version']);
    expect(await clusterVersions()).toEqual(at('1.36.4'));
  });

  test(
    'GIVEN Lambda compute WHEN a provision would roll (node maximum 6 -> 7) ' +
      'THEN Terraform applies, and the job fails before any rolling update, saying to provision again (on EC2)',
    async () => {
      const run = await runClusterJob('provision', { NODE_MAX: '7', KUBERNETES_VERSION: '1.36.4' }, 'lambda');
      expect(run.failure).toBeDefined();
      const log = run.lines.join('\n');
      expect(log).toContain('Apply complete!');
      expect(log).toContain(
        "ERROR: a rolling update (control-plane,node) can outlast Lambda compute's 15 minutes; " +
          'the cluster is applied: run the provision again, which rolls it on EC2 compute',
      );
      expect(run.calls.map((c) => c.command)).not.toContain('rolling-update cluster');
      expect((await autoScalingGroups()).find((g) => g.AutoScalingGroupName === `nodes.${fabric.clusterName}`)?.MaxSize).toBe(7);
    },
  );

  test('GIVEN a cluster WHEN the job destroys it THEN groups, kops registry, DNS records, secret go; the state bucket stays', async () => {
    const result = resultOf(await runClusterJob('destroy'));
    expect(result).toMatchObject({ action: 'destroy', changes: { add: 0, change: 0, destroy: expect.any(Number) } });
    expect(result.changes.destroy).toBeGreaterThan(60);
    expect(await autoScalingGroups()).toEqual([]);
    expect(await registryKeys()).toEqual([]);
    expect(await apiRecords()).toEqual([]);
    await expect(
      new SecretsManagerClient(clientOptions(REGION)).send(new DescribeSecretCommand({ SecretId: secretName })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await s3.send(new HeadBucketCommand({ Bucket: fabric.stateBucket }));
    const state = await s3.send(new ListObjectsV2Command({ Bucket: fabric.stateBucket, Prefix: stateKeys.cluster(fabric.name) }));
    expect((state.Contents ?? []).map((o) => o.Key)).toEqual([stateKeys.cluster(fabric.name)]);
  });
});
