import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { checkApiRecord, checkReadiness, Check, judgeInstances, nextState } from '../../lambdas/check-readiness/core';
import { parseKubeconfig, ProbeTarget } from '../../lambdas/shared/kube-api';
import type { ReadinessChecks } from '../../lib/domain/contract';
import { testCluster, testFabric, testPrepared } from './fixtures/late-stages';

const ZONES = ['us-east-2a', 'us-east-2b', 'us-east-2c'];
const CLUSTER = 'demo.example.com';

function group(name: string, zones: string[], desired: number, inService: number): AutoScalingGroup {
  return {
    AutoScalingGroupName: name,
    AvailabilityZones: zones,
    DesiredCapacity: desired,
    Instances: Array.from({ length: inService }, (_, i) => ({ InstanceId: `i-${i}`, LifecycleState: 'InService' })),
  } as AutoScalingGroup;
}

const haGroups = (): AutoScalingGroup[] => [
  ...ZONES.map((z) => group(`control-plane-${z}.masters.${CLUSTER}`, [z], 1, 1)),
  group(`nodes.${CLUSTER}`, ZONES, 3, 3),
];

describe('judgeInstances', () => {
  test('GIVEN one InService control plane per zone and full node groups WHEN judged THEN ready', () => {
    expect(judgeInstances(haGroups(), CLUSTER, ZONES)).toEqual({ ready: true, detail: expect.stringContaining('6/6 instances InService') });
  });

  test('GIVEN older kops master- group names WHEN judged THEN they count as control plane', () => {
    const groups = [...ZONES.map((z) => group(`master-${z}.masters.${CLUSTER}`, [z], 1, 1)), group(`nodes.${CLUSTER}`, ZONES, 1, 1)];
    expect(judgeInstances(groups, CLUSTER, ZONES).ready).toBe(true);
  });

  test('GIVEN a group below its desired capacity WHEN judged THEN not ready, naming the group and counts', () => {
    const groups = haGroups();
    groups[3] = group(`nodes.${CLUSTER}`, ZONES, 3, 1);
    expect(judgeInstances(groups, CLUSTER, ZONES)).toEqual({
      ready: false,
      detail: `4/6 instances InService; InService below desired: nodes.${CLUSTER} 1/3`,
    });
  });

  test('GIVEN instances still Pending WHEN judged THEN they do not count as InService', () => {
    const pending = {
      ...group(`nodes.${CLUSTER}`, ZONES, 1, 0),
      Instances: [{ InstanceId: 'i-1', LifecycleState: 'Pending' }],
    } as AutoScalingGroup;
    expect(judgeInstances([...haGroups().slice(0, 3), pending], CLUSTER, ZONES).ready).toBe(false);
  });

  test('GIVEN a single control-plane group WHEN judged for three zones THEN not ready, naming the missing zones', () => {
    const groups = [group(`control-plane-us-east-2a.masters.${CLUSTER}`, ['us-east-2a'], 1, 1), group(`nodes.${CLUSTER}`, ZONES, 1, 1)];
    expect(judgeInstances(groups, CLUSTER, ZONES).detail).toContain('no control-plane group in us-east-2b, us-east-2c');
  });

  test('GIVEN no groups WHEN judged THEN not ready, naming the tag searched for', () => {
    expect(judgeInstances([], CLUSTER, ZONES)).toEqual({
      ready: false,
      detail: `no Auto Scaling groups tagged KubernetesCluster=${CLUSTER} yet`,
    });
  });
});

function fakeRoute53(sets: unknown[]): Route53Client {
  return {
    send: async (c: unknown) => (c instanceof ListResourceRecordSetsCommand ? { ResourceRecordSets: sets } : {}),
  } as unknown as Route53Client;
}

describe('checkApiRecord', () => {
  test('GIVEN the kops placeholder WHEN checked THEN not ready and the detail says placeholder', async () => {
    const check = await checkApiRecord(
      fakeRoute53([{ Name: `api.${CLUSTER}.`, Type: 'A', ResourceRecords: [{ Value: '203.0.113.123' }] }]),
      'Z1',
      `api.${CLUSTER}`,
    );
    expect(check.ready).toBe(false);
    expect(check.detail).toContain("kops's placeholder 203.0.113.123");
    expect(check.address).toBeUndefined();
  });

  test('GIVEN a real address WHEN checked THEN ready with that address', async () => {
    const check = await checkApiRecord(
      fakeRoute53([{ Name: `api.${CLUSTER}.`, Type: 'A', ResourceRecords: [{ Value: '10.10.1.5' }] }]),
      'Z1',
      `api.${CLUSTER}`,
    );
    expect(check).toEqual({ ready: true, detail: `api.${CLUSTER} -> 10.10.1.5`, address: '10.10.1.5' });
  });

  test('GIVEN only a neighbouring record WHEN checked THEN not ready: the record is missing', async () => {
    const check = await checkApiRecord(
      fakeRoute53([{ Name: `api.other.example.com.`, Type: 'A', ResourceRecords: [{ Value: '10.0.0.1' }] }]),
      'Z1',
      `api.${CLUSTER}`,
    );
    expect(check.ready).toBe(false);
    expect(check.detail).toContain('no A record');
  });

  test('GIVEN an alias to a load balancer WHEN checked THEN ready with the alias host name', async () => {
    const check = await checkApiRecord(
      fakeRoute53([
        {
          Name: `api.${CLUSTER}.`,
          Type: 'A',
          AliasTarget: { DNSName: 'api-demo-123.elb.us-east-2.amazonaws.com.', HostedZoneId: 'Z3', EvaluateTargetHealth: false },
        },
      ]),
      'Z1',
      `api.${CLUSTER}`,
    );
    expect(check.address).toBe('api-demo-123.elb.us-east-2.amazonaws.com');
  });
});

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const CLIENT_CERT = '-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n';
const CLIENT_KEY = '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n';
const b64 = (text: string): string => Buffer.from(text).toString('base64');
const ADMIN_USER = [
  '- name: admin',
  '  user:',
  `    client-certificate-data: ${b64(CLIENT_CERT)}`,
  `    client-key-data: ${b64(CLIENT_KEY)}`,
];

function kubeconfig(server: string, users: string[] = ADMIN_USER): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'current-context: demo.example.com',
    'clusters:',
    '- name: other',
    '  cluster: {server: "https://other:1", certificate-authority-data: "eA=="}',
    '- name: demo.example.com',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(CA)}`,
    'contexts:',
    '- name: demo.example.com',
    '  context: {cluster: demo.example.com, user: admin}',
    'users:',
    '- name: someone-else',
    '  user: {token: not-this-one}',
    ...users,
    '',
  ].join('\n');
}

describe('parseKubeconfig', () => {
  test('GIVEN a server URL with a port WHEN parsed THEN the current context cluster CA, port and user credentials are used', () => {
    expect(parseKubeconfig(kubeconfig('https://api.demo.example.com:6443'))).toEqual({
      serverUrl: 'https://api.demo.example.com:6443',
      port: 6443,
      caPem: CA,
      credentials: { kind: 'client-certificate', certPem: CLIENT_CERT, keyPem: CLIENT_KEY },
    });
  });

  test('GIVEN a server URL without a port WHEN parsed THEN the port is 443', () => {
    expect(parseKubeconfig(kubeconfig('https://api.demo.example.com')).port).toBe(443);
  });

  test('GIVEN a user with a token WHEN parsed THEN the credentials are the token', () => {
    const parsed = parseKubeconfig(kubeconfig('https://api.demo.example.com', ['- name: admin', '  user: {token: abc123}']));
    expect(parsed.credentials).toEqual({ kind: 'token', token: 'abc123' });
  });

  test('GIVEN a user with an exec plugin WHEN parsed THEN there are no credentials and the problem names what the user carries', () => {
    const parsed = parseKubeconfig(kubeconfig('https://api.demo.example.com', ['- name: admin', '  user: {exec: {command: kops}}']));
    expect(parsed.credentials).toBeUndefined();
    expect(parsed.credentialsProblem).toBe(
      'user "admin" carries exec; readiness needs client-certificate-data with client-key-data, or a token',
    );
  });

  test('GIVEN a context without a user WHEN parsed THEN the problem says how kops adds one', () => {
    const text = kubeconfig('https://api.demo.example.com').replace('user: admin}', '}');
    expect(parseKubeconfig(text).credentialsProblem).toBe('the current context names no user (kops export kubeconfig --admin adds one)');
  });

  test('fails when the kubeconfig has no CA data', () => {
    expect(() => parseKubeconfig('clusters:\n- name: a\n  cluster: {server: "https://a"}\n')).toThrow(/certificate-authority-data/);
  });
});

function checks(instances: boolean, dns: boolean, api: boolean): ReadinessChecks {
  return {
    instances: { ready: instances, detail: 'i-detail' },
    dns: { ready: dns, detail: 'd-detail' },
    api: { ready: api, detail: 'a-detail' },
  };
}

describe('nextState', () => {
  const startedAt = '2026-01-01T00:00:00.000Z';
  test('GIVEN every check ready WHEN evaluated THEN ready with attempts incremented', () => {
    expect(nextState({ ready: false, startedAt, attempts: 2 }, checks(true, true, true), new Date('2026-01-01T00:05:00Z'), 1200)).toEqual({
      ready: true,
      startedAt,
      attempts: 3,
      checks: checks(true, true, true),
    });
  });

  test('GIVEN the first poll without startedAt WHEN evaluated THEN the clock starts now', () => {
    const now = new Date('2026-01-01T00:00:10Z');
    expect(nextState({ ready: false, attempts: 0 }, checks(false, false, false), now, 1200)).toMatchObject({
      startedAt: now.toISOString(),
      attempts: 1,
      ready: false,
    });
  });

  test('GIVEN a failing check before the deadline WHEN evaluated THEN not ready, no error', () => {
    expect(
      nextState({ ready: false, startedAt, attempts: 0 }, checks(true, false, false), new Date('2026-01-01T00:20:00Z'), 1200).ready,
    ).toBe(false);
  });

  test('GIVEN every check ready after the deadline WHEN evaluated THEN ready: a late success is a success', () => {
    expect(
      nextState({ ready: false, startedAt, attempts: 0 }, checks(true, true, true), new Date('2026-01-02T00:00:00Z'), 1200).ready,
    ).toBe(true);
  });

  test('fails when the deadline has passed with ClusterNotReady saying what was and was not ready', () => {
    expect(() =>
      nextState({ ready: false, startedAt, attempts: 9 }, checks(true, false, false), new Date('2026-01-01T00:20:01Z'), 1200),
    ).toThrow(
      expect.objectContaining({
        name: 'ClusterNotReady',
        message: expect.stringContaining('instances: ready (i-detail); dns: NOT ready (d-detail); api: NOT ready (a-detail)'),
      }),
    );
  });
});

describe('checkReadiness', () => {
  const fabric = testFabric();
  const clients = (recordValue: string, kubeconfigText: string) => ({
    autoScaling: {
      send: async (c: unknown) => (c instanceof DescribeAutoScalingGroupsCommand ? { AutoScalingGroups: haGroups() } : {}),
    } as unknown as AutoScalingClient,
    route53: fakeRoute53([{ Name: `api.${CLUSTER}.`, Type: 'A', ResourceRecords: [{ Value: recordValue }] }]),
    secrets: {
      send: async (c: unknown) => (c instanceof GetSecretValueCommand ? { ARN: 'arn:s', SecretString: kubeconfigText } : {}),
    } as unknown as SecretsManagerClient,
  });
  const event = {
    fabric,
    prepared: testPrepared('Z1', ZONES),
    cluster: testCluster(fabric, 'arn:s'),
    readiness: { ready: false, startedAt: new Date().toISOString(), attempts: 0 },
  };

  test(
    'GIVEN a real address WHEN checked ' +
      'THEN the API is probed at it, on the kubeconfig port, as api.<cluster> with the cluster CA and the admin certificate',
    async () => {
      const seen: ProbeTarget[] = [];
      const probe = async (t: ProbeTarget): Promise<Check> => {
        seen.push(t);
        return { ready: true, detail: 'ok' };
      };
      const state = await checkReadiness(event, clients('10.10.1.5', kubeconfig('https://api.demo.example.com:6443')), { probe });
      expect(seen).toEqual([
        {
          address: '10.10.1.5',
          port: 6443,
          hostname: `api.${CLUSTER}`,
          caPem: CA,
          credentials: { kind: 'client-certificate', certPem: CLIENT_CERT, keyPem: CLIENT_KEY },
        },
      ]);
      expect(state.ready).toBe(true);
    },
  );

  test('GIVEN a kubeconfig without credentials WHEN checked THEN the API is not probed anonymously; the api check says why', async () => {
    const probe = jest.fn();
    const state = await checkReadiness(event, clients('10.10.1.5', kubeconfig('https://api.demo.example.com', [])), { probe });
    expect(probe).not.toHaveBeenCalled();
    expect(state.checks?.api).toEqual({
      ready: false,
      detail: 'the stored kubeconfig has no credentials the API server accepts: the kubeconfig has no user "admin"',
    });
  });

  test('GIVEN the placeholder WHEN checked THEN the API is not probed and waits for DNS', async () => {
    const probe = jest.fn();
    const state = await checkReadiness(event, clients('203.0.113.123', kubeconfig('https://api.demo.example.com')), { probe });
    expect(probe).not.toHaveBeenCalled();
    expect(state.checks?.api).toEqual({ ready: false, detail: `waiting for api.${CLUSTER} to have a real address` });
  });

  test('GIVEN an unreadable kubeconfig WHEN checked THEN the api check says why instead of throwing', async () => {
    const state = await checkReadiness(event, clients('10.10.1.5', 'clusters: []'), { probe: jest.fn() });
    expect(state.checks?.api.ready).toBe(false);
    expect(state.checks?.api.detail).toContain('kubeconfig has no cluster server URL');
  });
});
