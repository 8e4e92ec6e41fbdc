import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { FabricOrchestratorStack, FabricOrchestratorStackProps } from '../../lib/fabric-orchestrator-stack';
import { TEST_KOPS_SHA256, testStackProps } from '../support/stack';

/**
 * The build roles' and the Lambdas' grants, on the synthesized policy documents (README, Privilege).
 * Bundling is off for speed.
 */
type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const ZONE = 'Z0123456789ABCDEFGHIJ';
const ADMIN = 'arn:aws:iam::123456789012:role/StateAdmin';

function synth(extra: FabricOrchestratorStackProps = {}): { template: Template; resources: Resources } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const template = Template.fromStack(new FabricOrchestratorStack(app, 'FabricOrchestrator', testStackProps(extra)));
  return { template, resources: (template.toJSON() as { Resources: Resources }).Resources };
}

const configured = synth({ hostedZoneIds: [ZONE], stateAdminPrincipalArns: [ADMIN], codeCommitRepositoryName: 'fabrics' });
const defaults = synth();

/** `arn:<partition>:...` as the template writes a string with the partition and account tokens. */
const arn = (service: string, rest: string, region = '*') => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:${region}:`, { Ref: 'AWS::AccountId' }, `:${rest}`]],
});
const iamArn = (rest: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, `:${rest}`]],
});
const zoneArn = (id: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:route53:::hostedzone/${id}`]] });
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

function logicalId(resources: Resources, type: string, match: (props: Record<string, unknown>) => boolean): string {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type && match(r.Properties));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]?.[0] ?? '';
}
/** The role of a job's projects (EC2 and Lambda compute): one role, so both have exactly the same grants. */
const projectRole = (resources: Resources, buildspec: string) => {
  const roles = Object.values(resources)
    .filter((r) => r.Type === 'AWS::CodeBuild::Project' && (r.Properties.Source as { BuildSpec?: string }).BuildSpec === buildspec)
    .map((project) => (project.Properties.ServiceRole as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
  if (roles.length !== 2 || new Set(roles).size !== 1)
    throw new Error(`expected two projects of ${buildspec} with one role: ${roles.join(', ')}`);
  return roles[0] ?? '';
};
/**
 * Every statement of the policies attached to a role: its inline policies and the managed ones the
 * CDK adds when they outgrow an inline policy's size (its "OverflowPolicy").
 */
function statementsOf(resources: Resources, roleId: string): Statement[] {
  const attached = (r: Resources[string]) => ((r.Properties.Roles ?? []) as Array<{ Ref: string }>).some((ref) => ref.Ref === roleId);
  return Object.values(resources)
    .filter((r) => (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && attached(r))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const bySid = (statements: Statement[], sid: string) => {
  const found = statements.filter((s) => s.Sid === sid);
  if (found.length !== 1) throw new Error(`expected one statement ${sid}, found ${found.length}`);
  return found[0];
};
const functionRole = (resources: Resources, entryHint: string) => {
  const fnId = logicalId(resources, 'AWS::Lambda::Function', (p) => String(p.Description ?? '').startsWith(entryHint));
  return (resources[fnId]?.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
};

const { resources } = configured;
const clusterRole = projectRole(resources, 'buildspecs/cluster.yml');
const networkRole = projectRole(resources, 'buildspecs/network.yml');
const cluster = statementsOf(resources, clusterRole);
const network = statementsOf(resources, networkRole);
const boundaryId = logicalId(resources, 'AWS::IAM::ManagedPolicy', (p) => String(p.Description).includes('permissions boundary'));
const boundaryRef = { Ref: boundaryId };
const boundary = (resources[boundaryId]?.Properties.PolicyDocument as { Statement: Statement[] }).Statement;

const ROLE_WRITES = [
  'iam:CreateRole',
  'iam:PutRolePolicy',
  'iam:AttachRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:DetachRolePolicy',
  'iam:PutRolePermissionsBoundary',
  'iam:DeleteRolePermissionsBoundary',
  'iam:UpdateAssumeRolePolicy',
  'iam:CreatePolicyVersion',
  'iam:SetDefaultPolicyVersion',
  'iam:CreatePolicy',
];
const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
const grants = (statement: Statement, action: string) => actionsOf(statement).some((a) => glob(a).test(action));

/**
 * The ways a build role could widen its own or another principal's rights, found in its statements:
 * a role write without the stack's boundary or outside kops's names, any IAM wildcard, a PassRole
 * to a service other than EC2.
 */
function escalations(statements: Statement[], ownRoleId: string, boundaryArn: unknown): string[] {
  const kopsRoles = [iamArn('role/masters.*'), iamArn('role/nodes.*')];
  const problems: string[] = [];
  for (const s of statements.filter((st) => st.Effect === 'Allow')) {
    const label = s.Sid ?? JSON.stringify(s.Action);
    for (const action of ROLE_WRITES.filter((a) => grants(s, a))) {
      if (JSON.stringify(s.Condition?.StringEquals?.['iam:PermissionsBoundary']) !== JSON.stringify(boundaryArn))
        problems.push(`${label}: ${action} without the boundary`);
      if (JSON.stringify(resourcesOf(s)) !== JSON.stringify(kopsRoles)) problems.push(`${label}: ${action} outside kops's role names`);
      if (JSON.stringify(s).includes(ownRoleId)) problems.push(`${label}: ${action} on the build role itself`);
    }
    if (grants(s, 'iam:PassRole')) {
      if (s.Condition?.StringEquals?.['iam:PassedToService'] !== 'ec2.amazonaws.com')
        problems.push(`${label}: iam:PassRole not limited to EC2`);
    }
  }
  return problems;
}

describe('the permissions boundary of the roles kops creates', () => {
  test.each(['ec2', 'lambda'])(
    'GIVEN the stack WHEN synthesized THEN the cluster job on %s compute gets the boundary ARN in its project environment',
    (compute) => {
      configured.template.hasResourceProperties('AWS::CodeBuild::Project', {
        Source: Match.objectLike({ BuildSpec: 'buildspecs/cluster.yml' }),
        Environment: Match.objectLike({
          EnvironmentVariables: [
            { Name: 'KOPS_SHA256', Type: 'PLAINTEXT', Value: TEST_KOPS_SHA256 },
            { Name: 'PERMISSIONS_BOUNDARY_ARN', Type: 'PLAINTEXT', Value: boundaryRef },
            { Name: 'BUILD_COMPUTE', Type: 'PLAINTEXT', Value: compute },
          ],
        }),
      });
    },
  );

  test(
    "GIVEN kops's own golden policies for the control plane and the nodes WHEN checked against the boundary " +
      'THEN every action they use is within it',
    () => {
      const data = path.resolve(__dirname, '../../lib/local/standins/kops/golden/ha/data');
      const golden = readdirSync(data).filter((f) => f.startsWith('aws_iam_role_policy_'));
      expect(golden).toHaveLength(2);
      const used = golden.flatMap((f) =>
        (JSON.parse(readFileSync(path.join(data, f), 'utf8')) as { Statement: Statement[] }).Statement.flatMap(actionsOf),
      );
      expect(used.length).toBeGreaterThan(60);
      const outside = [...new Set(used)].filter((action) => !boundary.some((s) => s.Effect === 'Allow' && grants(s, action)));
      expect(outside).toEqual([]);
    },
  );

  test('GIVEN the boundary WHEN read THEN it allows no IAM change but service-linked roles of Auto Scaling and ELB', () => {
    const iamStatements = boundary.filter((s) => actionsOf(s).some((a) => a.startsWith('iam:') || a === '*'));
    expect(iamStatements).toEqual([
      {
        Sid: 'ServiceLinkedRoles',
        Effect: 'Allow',
        Action: 'iam:CreateServiceLinkedRole',
        Resource: iamArn('role/aws-service-role/*'),
        Condition: { StringEquals: { 'iam:AWSServiceName': ['autoscaling.amazonaws.com', 'elasticloadbalancing.amazonaws.com'] } },
      },
    ]);
  });
});

describe('the cluster job role: IAM', () => {
  test("GIVEN the cluster role WHEN it writes a role THEN only kops's role names, only with the stack's boundary", () => {
    expect(bySid(cluster, 'NodeRoleWritesCarryBoundary')).toEqual({
      Sid: 'NodeRoleWritesCarryBoundary',
      Effect: 'Allow',
      Action: ['iam:CreateRole', 'iam:DeleteRolePolicy', 'iam:PutRolePolicy'],
      Resource: [iamArn('role/masters.*'), iamArn('role/nodes.*')],
      Condition: { StringEquals: { 'iam:PermissionsBoundary': boundaryRef } },
    });
  });

  test("GIVEN the cluster role WHEN it passes a role THEN only kops's roles, to EC2 only", () => {
    expect(bySid(cluster, 'PassNodeRolesToEc2')).toEqual({
      Sid: 'PassNodeRolesToEc2',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: [iamArn('role/masters.*'), iamArn('role/nodes.*')],
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    });
  });

  test("GIVEN the cluster role WHEN it reads, tags or deletes roles and instance profiles THEN only kops's names", () => {
    expect(bySid(cluster, 'NodeRoles')).toEqual({
      Sid: 'NodeRoles',
      Effect: 'Allow',
      Action: [
        'iam:DeleteRole',
        'iam:GetRole',
        'iam:GetRolePolicy',
        'iam:ListAttachedRolePolicies',
        'iam:ListInstanceProfilesForRole',
        'iam:ListRolePolicies',
        'iam:TagRole',
        'iam:UntagRole',
      ],
      Resource: [iamArn('role/masters.*'), iamArn('role/nodes.*')],
    });
    expect(bySid(cluster, 'NodeInstanceProfiles')).toEqual({
      Sid: 'NodeInstanceProfiles',
      Effect: 'Allow',
      Action: [
        'iam:AddRoleToInstanceProfile',
        'iam:CreateInstanceProfile',
        'iam:DeleteInstanceProfile',
        'iam:GetInstanceProfile',
        'iam:RemoveRoleFromInstanceProfile',
        'iam:TagInstanceProfile',
        'iam:UntagInstanceProfile',
      ],
      Resource: [iamArn('instance-profile/masters.*'), iamArn('instance-profile/nodes.*')],
    });
    expect(bySid(cluster, 'ServiceLinkedRoles')).toEqual({
      Sid: 'ServiceLinkedRoles',
      Effect: 'Allow',
      Action: 'iam:CreateServiceLinkedRole',
      Resource: iamArn('role/aws-service-role/*'),
      Condition: { StringEquals: { 'iam:AWSServiceName': ['autoscaling.amazonaws.com', 'elasticloadbalancing.amazonaws.com'] } },
    });
  });

  test(
    'GIVEN both build roles WHEN every statement is read ' +
      'THEN no escalation path is open: no policy on themselves, no role write without the boundary, no pass to another service',
    () => {
      expect(escalations(cluster, clusterRole, boundaryRef)).toEqual([]);
      expect(escalations(network, networkRole, boundaryRef)).toEqual([]);
      // The network job creates no IAM at all.
      expect(network.filter((s) => actionsOf(s).some((a) => a.startsWith('iam:')))).toEqual([]);
      // Role writes exist (the check above is not vacuous) and the role never names itself.
      expect(cluster.filter((s) => grants(s, 'iam:PutRolePolicy'))).toHaveLength(1);
      expect(cluster.filter((s) => grants(s, 'iam:AttachRolePolicy'))).toEqual([]);
      expect(JSON.stringify(cluster.filter((s) => actionsOf(s).some((a) => a.startsWith('iam:'))))).not.toContain(clusterRole);
    },
  );

  test(
    'fails when a statement lets the build role put a policy on any role, or pass a role to Lambda ' +
      '(the escalation check catches both)',
    () => {
      const open: Statement[] = [
        { Effect: 'Allow', Action: ['iam:PutRolePolicy'], Resource: iamArn('role/*') },
        { Effect: 'Allow', Action: 'iam:*', Resource: { 'Fn::GetAtt': [clusterRole, 'Arn'] } },
        {
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: iamArn('role/nodes.*'),
          Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
        },
      ];
      expect(escalations(open, clusterRole, boundaryRef)).toEqual(
        expect.arrayContaining([
          '["iam:PutRolePolicy"]: iam:PutRolePolicy without the boundary',
          '["iam:PutRolePolicy"]: iam:PutRolePolicy outside kops\'s role names',
          '"iam:*": iam:PutRolePolicy on the build role itself',
          '"iam:*": iam:AttachRolePolicy without the boundary',
          '"iam:*": iam:PassRole not limited to EC2',
          '"iam:PassRole": iam:PassRole not limited to EC2',
        ]),
      );
    },
  );
});

describe('the cluster job role: DNS, EC2, Auto Scaling, load balancers, queues, rules', () => {
  test('GIVEN hostedZoneIds WHEN synthesized THEN record changes are limited to those zones, in the job and in the boundary', () => {
    const expected = {
      Sid: 'DnsRecords',
      Effect: 'Allow',
      Action: [
        'route53:ChangeResourceRecordSets',
        'route53:GetHostedZone',
        'route53:ListResourceRecordSets',
        'route53:ListTagsForResource',
      ],
      Resource: zoneArn(ZONE),
    };
    expect(bySid(cluster, 'DnsRecords')).toEqual(expected);
    expect(bySid(boundary, 'DnsRecords')).toEqual(expected);
    expect(cluster.filter((s) => grants(s, 'route53:ChangeResourceRecordSets'))).toHaveLength(1);
  });

  test('GIVEN no hostedZoneIds WHEN synthesized THEN record changes may touch any zone of the account (the documented default)', () => {
    const statements = statementsOf(defaults.resources, projectRole(defaults.resources, 'buildspecs/cluster.yml'));
    expect(bySid(statements, 'DnsRecords')?.Resource).toEqual(zoneArn('*'));
  });

  test(
    'GIVEN the cluster role WHEN it changes or deletes EC2, Auto Scaling or load balancer resources ' +
      'THEN only those tagged KubernetesCluster',
    () => {
      const tagged = bySid(cluster, 'ChangeClusterTagged');
      expect(tagged?.Condition).toEqual({ Null: { 'aws:ResourceTag/KubernetesCluster': 'false' } });
      expect(tagged?.Resource).toBe('*');
      const destructive =
        /^(ec2|autoscaling|elasticloadbalancing):(Delete|Terminate|Detach|Revoke|Modify|Update|SetDesired|Suspend|Resume|Disable)/;
      for (const s of cluster.filter((st) => st.Resource === '*')) {
        const unconditioned = actionsOf(s).filter((a) => destructive.test(a));
        expect({ sid: s.Sid, unconditioned: s.Condition === undefined ? unconditioned : [] }).toEqual({ sid: s.Sid, unconditioned: [] });
      }
      expect(actionsOf(tagged as Statement)).toEqual(
        expect.arrayContaining([
          'ec2:TerminateInstances',
          'ec2:DeleteVolume',
          'ec2:DeleteSecurityGroup',
          'autoscaling:DeleteAutoScalingGroup',
          'elasticloadbalancing:DeleteLoadBalancer',
        ]),
      );
      // No service-wide wildcard is left.
      expect(cluster.flatMap(actionsOf).filter((a) => /^[a-z0-9-]+:\*$/.test(a))).toEqual([]);
    },
  );

  test("GIVEN the cluster role WHEN it manages the termination handler's queue and rules THEN only kops's names", () => {
    expect(bySid(cluster, 'TerminationQueue')?.Resource).toEqual(arn('sqs', '*-nth'));
    expect(bySid(cluster, 'TerminationRules')?.Resource).toEqual(
      ['ASGLifecycle', 'InstanceScheduledChange', 'InstanceStateChange', 'SpotInterruption'].map((s) => arn('events', `rule/*-${s}`)),
    );
  });

  test('GIVEN both job roles WHEN they use the tools cache THEN they get and put objects under tools/sha256/ only', () => {
    for (const statements of [network, cluster]) {
      const cache = bySid(statements, 'ToolsCache');
      expect(actionsOf(cache!)).toEqual(['s3:GetObject', 's3:PutObject']);
      expect(JSON.stringify(resourcesOf(cache!))).toMatch(/\/tools\/sha256\/\*"\]\]\}\]$/);
    }
  });

  test('GIVEN the network role WHEN synthesized THEN it may touch no IAM, DNS, secret, queue or rule', () => {
    const services = new Set(network.flatMap(actionsOf).map((a) => a.split(':')[0]));
    // codebuild, logs and kms: the CDK's grants for the project's own reports, logs and key.
    expect([...services].sort()).toEqual(['codebuild', 'ec2', 'kms', 'logs', 's3']);
  });
});

describe('the Lambdas: secrets and the CodeCommit repository', () => {
  const allOf = (r: Resources, hint: string) => statementsOf(r, functionRole(r, hint));
  const secretArn = (kind: string, suffix = '-??????') => arn('secretsmanager', `secret:fabricctl/*/${kind}${suffix}`);

  test('GIVEN EnsureSshKey and CheckReadiness WHEN synthesized THEN each reads only its kind of fabric secret', () => {
    const ssh = allOf(resources, 'Creates the fabric').filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
    expect(ssh).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'secretsmanager:CreateSecret',
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:RestoreSecret',
          'secretsmanager:TagResource',
        ],
        Resource: secretArn('ssh-key', '*'),
      },
    ]);
    const readiness = allOf(resources, 'Polls instances').filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
    expect(readiness).toEqual([{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArn('kubeconfig') }]);
  });

  test('GIVEN a CodeCommit repository WHEN synthesized THEN ValidateSpec may read files of that repository only', () => {
    const codecommit = allOf(resources, 'Validates').filter((s) => actionsOf(s).some((a) => a.startsWith('codecommit:')));
    expect(codecommit).toEqual([
      {
        Effect: 'Allow',
        Action: 'codecommit:GetFile',
        Resource: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':codecommit:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':fabrics'],
          ],
        },
      },
    ]);
  });

  test('GIVEN hostedZoneIds WHEN synthesized THEN CheckDns is told them, so that it reads no other zone of the name', () => {
    const env = (r: Resources) => {
      const fnId = logicalId(r, 'AWS::Lambda::Function', (p) => String(p.Description).startsWith("Checks the domain's"));
      return (r[fnId]?.Properties.Environment as { Variables: Record<string, unknown> }).Variables.HOSTED_ZONE_IDS;
    };
    expect([env(resources), env(defaults.resources)]).toEqual([ZONE, undefined]);
  });

  test('GIVEN no CodeCommit repository WHEN synthesized THEN ValidateSpec has no CodeCommit grant at all', () => {
    expect(allOf(defaults.resources, 'Validates').filter((s) => actionsOf(s).some((a) => a.startsWith('codecommit:')))).toEqual([]);
  });
});

describe('the state readers', () => {
  test('GIVEN stateAdminPrincipalArns WHEN synthesized THEN EnsureStateBucket gets both build roles and the admins', () => {
    const fnId = logicalId(resources, 'AWS::Lambda::Function', (p) => String(p.Description).startsWith('Creates or verifies'));
    expect((resources[fnId]?.Properties.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      STATE_BUILD_PRINCIPAL_ARNS: {
        'Fn::Join': ['', [{ 'Fn::GetAtt': [networkRole, 'Arn'] }, ',', { 'Fn::GetAtt': [clusterRole, 'Arn'] }]],
      },
      STATE_ADMIN_PRINCIPAL_ARNS: ADMIN,
    });
  });

  test('fails when stateAdminPrincipalArns holds something that is not an IAM role or user ARN', () => {
    expect(() => synth({ stateAdminPrincipalArns: ['Admin'] })).toThrow(
      /stateAdminPrincipalArns must be IAM role or user ARNs .*got "Admin"/,
    );
  });

  test('fails when hostedZoneIds holds something that is not a hosted zone id', () => {
    expect(() => synth({ hostedZoneIds: ['example.com'] })).toThrow(/hostedZoneIds must be Route 53 hosted zone ids .*got "example.com"/);
  });
});

/**
 * What AWS itself does with the synthesized patterns: each template value resolved as in us-east-2
 * of account 123456789012 (a log group's Arn attribute ends in `:*`, as CloudFormation documents
 * it), then matched the way IAM matches a Resource (`*` any characters, `?` one), against the ARNs
 * the services really use.
 */
describe('the grants against the ARNs AWS uses', () => {
  const PSEUDO: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-2', 'AWS::AccountId': '123456789012' };
  const logGroupName = (id: string) => String(resources[id]?.Properties.LogGroupName ?? id);
  const resolve = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const v = value as Record<string, unknown>;
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(separator);
    }
    if ('Ref' in v) return PSEUDO[v.Ref as string] ?? logGroupName(v.Ref as string);
    if ('Fn::Sub' in v) return String(v['Fn::Sub']).replace(/\$\{([^}]+)\}/g, (_, name: string) => PSEUDO[name] ?? name);
    const [id, attribute] = (v['Fn::GetAtt'] ?? []) as [string, string];
    if (resources[id]?.Type === 'AWS::Logs::LogGroup' && attribute === 'Arn')
      return `arn:aws:logs:us-east-2:123456789012:log-group:${logGroupName(id)}:*`;
    // Anything else (another resource's attribute) names no ARN these tests ask about.
    return `unresolved ${JSON.stringify(value)}`;
  };
  const iamMatches = (pattern: string, arnText: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    ).test(arnText);
  /** An unconditioned Allow of `action` on `target`. */
  const allows = (statements: Statement[], action: string, target: string) =>
    statements.some(
      (s) => s.Effect === 'Allow' && !s.Condition && grants(s, action) && resourcesOf(s).some((r) => iamMatches(resolve(r), target)),
    );

  const BUCKET = 'arn:aws:s3:::fabricctl-state-123456789012-us-east-2';
  const OBJECT = `${BUCKET}/fabrics/demo/kops/demo.example.com/cluster-completed.spec`;

  test(
    "GIVEN kops's Terraform keeps cluster files as aws_s3_object in the versioned state bucket " +
      'WHEN the provider reads them back and destroys them THEN the cluster role may read their tags and delete their versions',
    () => {
      expect(
        ['s3:GetObject', 's3:PutObject', 's3:GetObjectTagging', 's3:DeleteObject', 's3:DeleteObjectVersion'].filter(
          (a) => !allows(cluster, a, OBJECT),
        ),
      ).toEqual([]);
      expect(['s3:ListBucket', 's3:ListBucketVersions'].filter((a) => !allows(cluster, a, BUCKET))).toEqual([]);
      // The network job's Terraform keeps only its state file there: no versions to delete.
      expect(allows(network, 's3:DeleteObjectVersion', OBJECT)).toBe(false);
    },
  );

  test('GIVEN kops delete cluster WHEN it lists what the cluster owns THEN every account-wide list it stops on is allowed', () => {
    const lists = ['iam:ListRoles', 'iam:ListInstanceProfiles', 'iam:ListOpenIDConnectProviders', 'sqs:ListQueues', 'events:ListRules'];
    expect(lists.filter((a) => !allows(cluster, a, '*'))).toEqual([]);
  });

  test("GIVEN a failed build WHEN ExplainFailure reads its log stream THEN the grant matches that stream in the jobs' groups", () => {
    const explain = statementsOf(resources, functionRole(resources, 'Turns a failed build'));
    const jobGroups = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::CodeBuild::Project')
      .map(([, r]) => (r.Properties.LogsConfig as { CloudWatchLogs: { GroupName: { Ref: string } } }).CloudWatchLogs.GroupName.Ref);
    expect(new Set(jobGroups).size).toBe(2);
    for (const group of jobGroups) {
      const stream = `arn:aws:logs:us-east-2:123456789012:log-group:${logGroupName(group)}:log-stream:4f1c2a5e-93b1-4c2e-9f3a-1d2b3c4d5e6f`;
      expect({ group, allowed: allows(explain, 'logs:GetLogEvents', stream) }).toEqual({ group, allowed: true });
    }
    const other = 'arn:aws:logs:us-east-2:123456789012:log-group:/aws/lambda/someone-else:log-stream:x';
    expect(allows(explain, 'logs:GetLogEvents', other)).toBe(false);
  });

  test(
    "GIVEN a fabric's first run WHEN EnsureSshKey reads its key before it exists " +
      'THEN the grant matches the bare name (how a missing secret is authorized) as well as the created one',
    () => {
      const ssh = statementsOf(resources, functionRole(resources, 'Creates the fabric'));
      const secret = 'arn:aws:secretsmanager:us-east-2:123456789012:secret:fabricctl/demo/ssh-key';
      expect([secret, `${secret}-AbC123`].map((arnText) => allows(ssh, 'secretsmanager:GetSecretValue', arnText))).toEqual([true, true]);
      expect(allows(ssh, 'secretsmanager:GetSecretValue', secret.replace('ssh-key', 'kubeconfig'))).toBe(false);
    },
  );

  test('GIVEN the branch-deletion rule WHEN EventBridge delivers to its log group THEN the target is the ARN without :*', () => {
    const rule = Object.values(resources).find(
      (r) => r.Type === 'AWS::Events::Rule' && String(r.Properties.Description).startsWith('Deleting'),
    );
    const targets = (rule?.Properties.Targets ?? []) as Array<{ Arn: unknown }>;
    expect(targets.map((t) => resolve(t.Arn))).toEqual([
      'arn:aws:logs:us-east-2:123456789012:log-group:/aws/events/fabricctl-branch-deletions',
    ]);
  });
});
