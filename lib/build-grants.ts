import { Aws, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { logicalIdOf } from './logical-id';

/**
 * What the two build jobs may do, and the permissions boundary every role they create carries.
 * README "Privilege" lists each remaining `*` with why. The names come from kops 1.36:
 * - IAM roles and instance profiles: `masters.<cluster>` and `nodes.<cluster>` (no path), where
 *   the cluster is `<fabric>.<domain>`. The construct does not know the domains (the spec names one
 *   per fabric), so the names are scoped by prefix: `masters.*`, `nodes.*`;
 * - every EC2, Auto Scaling and EventBridge resource kops creates carries `KubernetesCluster=<cluster>`;
 * - its node termination handler queue is `<cluster with dashes>-nth`, its EventBridge rules
 *   `<cluster>-<event>`.
 */

/** The IAM names kops gives the roles and instance profiles of a cluster's instance groups. */
export const KOPS_ROLE_PREFIXES = ['masters.', 'nodes.'] as const;

/** The EventBridge rules kops creates for its node termination handler, by suffix. */
export const KOPS_EVENT_RULE_SUFFIXES = ['ASGLifecycle', 'InstanceScheduledChange', 'InstanceStateChange', 'SpotInterruption'] as const;

/** Services whose service-linked roles the cluster's resources need on first use in an account. */
const SERVICE_LINKED_ROLES = ['autoscaling.amazonaws.com', 'elasticloadbalancing.amazonaws.com'];

/** The tag condition of destructive actions: only what kops (or Kubernetes for kops) tagged as a cluster's. */
export const CLUSTER_TAGGED = { Null: { 'aws:ResourceTag/KubernetesCluster': 'false' } };

export interface BuildGrantsProps {
  /** ARN pattern of the run-time state buckets (`arn:...:s3:::<prefix>-<account>-*`). */
  readonly stateBucketArn: string;
  /** Hosted zones whose records the jobs and the control plane may change; empty means any. */
  readonly hostedZoneIds: readonly string[];
}

const arn = (service: string, resource: string, region = '*') => `arn:${Aws.PARTITION}:${service}:${region}:${Aws.ACCOUNT_ID}:${resource}`;
const iamArn = (resource: string) => `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:${resource}`;

/** `role/masters.*`, `role/nodes.*` (or `instance-profile/...`). */
export function kopsIamArns(kind: 'role' | 'instance-profile'): string[] {
  return KOPS_ROLE_PREFIXES.map((prefix) => iamArn(`${kind}/${prefix}*`));
}

/** The fabric's DNS records in the allowed hosted zones: the cluster job's and the control plane's (dns-controller). */
function dnsRecordsStatement(hostedZoneIds: readonly string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DnsRecords',
    actions: ['route53:ChangeResourceRecordSets', 'route53:GetHostedZone', 'route53:ListResourceRecordSets', 'route53:ListTagsForResource'],
    resources: hostedZoneArns(hostedZoneIds),
  });
}

function hostedZoneArns(ids: readonly string[]): string[] {
  const zones = ids.length === 0 ? ['*'] : ids;
  return zones.map((id) => `arn:${Aws.PARTITION}:route53:::hostedzone/${id}`);
}

/**
 * The permissions boundary of every role the cluster job creates: the most kops's control-plane and
 * node roles may ever do, the union of kops 1.36's own policies for them (golden
 * `aws_iam_role_policy_{masters,nodes}.*_policy`), with their resources narrowed to this stack's state
 * buckets, hosted zones and queues. The roles' own policies (kops's) narrow further. No IAM write
 * is in it: a node can never widen its own or another role.
 */
export class NodeRoleBoundary extends iam.ManagedPolicy {
  constructor(scope: Construct, id: string, props: BuildGrantsProps) {
    super(scope, id, {
      description: 'fabricctl: the permissions boundary of the control-plane and node roles kops creates',
      statements: [
        new iam.PolicyStatement({
          sid: 'Describe',
          actions: [
            'autoscaling:Describe*',
            'ec2:Describe*',
            'ec2:GetInstanceTypesFromInstanceRequirements',
            'elasticloadbalancing:Describe*',
            'route53:ListHostedZones',
            'kms:DescribeKey',
            'kms:CreateGrant',
          ],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'ClusterResources',
          actions: [
            'autoscaling:CompleteLifecycleAction',
            'autoscaling:SetDesiredCapacity',
            'autoscaling:TerminateInstanceInAutoScalingGroup',
            'ec2:AttachVolume',
            'ec2:AuthorizeSecurityGroupIngress',
            'ec2:CopyVolumes',
            'ec2:CreateSecurityGroup',
            'ec2:CreateTags',
            'ec2:CreateVolume',
            'ec2:DeleteSecurityGroup',
            'ec2:DeleteTags',
            'ec2:DeleteVolume',
            'ec2:DetachVolume',
            'ec2:ModifyInstanceAttribute',
            'ec2:ModifyVolume',
            'ec2:RevokeSecurityGroupIngress',
            'elasticloadbalancing:AddTags',
            'elasticloadbalancing:ApplySecurityGroupsToLoadBalancer',
            'elasticloadbalancing:AttachLoadBalancerToSubnets',
            'elasticloadbalancing:ConfigureHealthCheck',
            'elasticloadbalancing:CreateListener',
            'elasticloadbalancing:CreateLoadBalancer',
            'elasticloadbalancing:CreateLoadBalancerListeners',
            'elasticloadbalancing:CreateLoadBalancerPolicy',
            'elasticloadbalancing:CreateTargetGroup',
            'elasticloadbalancing:DeleteListener',
            'elasticloadbalancing:DeleteLoadBalancer',
            'elasticloadbalancing:DeleteLoadBalancerListeners',
            'elasticloadbalancing:DeleteTargetGroup',
            'elasticloadbalancing:DeregisterInstancesFromLoadBalancer',
            'elasticloadbalancing:DeregisterTargets',
            'elasticloadbalancing:DetachLoadBalancerFromSubnets',
            'elasticloadbalancing:ModifyListener',
            'elasticloadbalancing:ModifyLoadBalancerAttributes',
            'elasticloadbalancing:ModifyTargetGroup',
            'elasticloadbalancing:ModifyTargetGroupAttributes',
            'elasticloadbalancing:RegisterInstancesWithLoadBalancer',
            'elasticloadbalancing:RegisterTargets',
            'elasticloadbalancing:SetLoadBalancerPoliciesForBackendServer',
            'elasticloadbalancing:SetLoadBalancerPoliciesOfListener',
          ],
          // The cloud controller creates load balancers, volumes and security groups at run time.
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'Encryption',
          actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
          resources: ['*'],
          conditions: { StringLike: { 'kms:ViaService': ['ec2.*.amazonaws.com', 's3.*.amazonaws.com'] } },
        }),
        new iam.PolicyStatement({
          sid: 'StateStoreBuckets',
          actions: ['s3:GetBucketLocation', 's3:GetEncryptionConfiguration', 's3:ListBucket', 's3:ListBucketVersions'],
          resources: [props.stateBucketArn],
        }),
        new iam.PolicyStatement({ sid: 'StateStoreRead', actions: ['s3:Get*'], resources: [`${props.stateBucketArn}/fabrics/*/kops/*`] }),
        new iam.PolicyStatement({
          sid: 'EtcdBackups',
          actions: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:GetObject', 's3:PutObject'],
          resources: [`${props.stateBucketArn}/fabrics/*/kops/*/backups/etcd/*`],
        }),
        dnsRecordsStatement(props.hostedZoneIds),
        new iam.PolicyStatement({
          sid: 'DnsChanges',
          actions: ['route53:GetChange'],
          resources: [`arn:${Aws.PARTITION}:route53:::change/*`],
        }),
        new iam.PolicyStatement({
          sid: 'TerminationQueue',
          actions: ['sqs:DeleteMessage', 'sqs:ReceiveMessage'],
          resources: [arn('sqs', '*-nth')],
        }),
        new iam.PolicyStatement({
          sid: 'ServiceLinkedRoles',
          actions: ['iam:CreateServiceLinkedRole'],
          resources: [iamArn('role/aws-service-role/*')],
          conditions: { StringEquals: { 'iam:AWSServiceName': SERVICE_LINKED_ROLES } },
        }),
      ],
    });
    const ack = (finding: string, reason: string) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    const bucket = `arn:<AWS::Partition>:s3:::${stateBucketPattern(props.stateBucketArn)}`;
    Validations.of(this).acknowledge(
      ack(
        'Resource::*',
        "A boundary caps actions, not resources: the cluster's volumes, groups and load balancers do not exist before it runs " +
          "(the roles' own kops policies condition them on KubernetesCluster).",
      ),
      ack('Action::autoscaling:Describe*', 'Read-only: the cloud controller and the node termination handler read Auto Scaling groups.'),
      ack('Action::ec2:Describe*', 'Read-only: the cloud controller, kops-controller and the EBS CSI driver read EC2.'),
      ack('Action::elasticloadbalancing:Describe*', 'Read-only: the cloud controller reads the load balancers it manages.'),
      ack(
        'Action::kms:GenerateDataKey*',
        'Encrypted volumes and state objects, only through EC2 and S3 (kms:ViaService), as kops grants it.',
      ),
      ack('Action::kms:ReEncrypt*', 'Encrypted volumes and state objects, only through EC2 and S3 (kms:ViaService), as kops grants it.'),
      ack(
        'Action::s3:Get*',
        "kops's own grant to the control plane: it reads its cluster's configuration, keys and manifests from the state store.",
      ),
      ack(
        `Resource::${bucket}/fabrics/*/kops/*`,
        "The state store of the fabrics' clusters; fabric and cluster names are known at run time.",
      ),
      ack(`Resource::${bucket}/fabrics/*/kops/*/backups/etcd/*`, "etcd-manager's backups, under each cluster's state store."),
      ack(
        `Resource::${bucket}`,
        'State buckets are created per fabric region at run time; the pattern matches only our prefix and account.',
      ),
      ack(
        'Resource::arn:<AWS::Partition>:route53:::change/*',
        'Route 53 change ids are made by each change: GetChange cannot be scoped further.',
      ),
      ack(
        'Resource::arn:<AWS::Partition>:sqs:*:<AWS::AccountId>:*-nth',
        "The node termination handler's queue, named after the cluster at run time.",
      ),
      ack(
        'Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/aws-service-role/*',
        'Only the Auto Scaling and Elastic Load Balancing service-linked roles (iam:AWSServiceName).',
      ),
      ...(props.hostedZoneIds.length === 0
        ? [
            ack(
              'Resource::arn:<AWS::Partition>:route53:::hostedzone/*',
              "No hostedZoneIds given: the fabric domains' zones are found at run time (set hostedZoneIds to narrow it).",
            ),
          ]
        : []),
    );
  }
}

/** `<prefix>-<AWS::AccountId>-*` as cdk-nag prints the state bucket pattern. */
function stateBucketPattern(stateBucketArn: string): string {
  const name = stateBucketArn.split(':::')[1] ?? '';
  return name.replace(Aws.ACCOUNT_ID, '<AWS::AccountId>');
}

/** Acknowledgements every CodeBuild project needs for the grants the CDK itself adds. */
function acknowledgeProjectDefaults(project: codebuild.Project, logicalId: string): void {
  Validations.of(project).acknowledge(
    { id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason: "CodeBuild's grant on the project's own KMS key." },
    { id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', reason: "CodeBuild's grant on the project's own KMS key." },
    { id: 'AwsSolutions-IAM5[Action::s3:GetBucket*]', reason: 'Read access to the job source asset (grantRead).' },
    { id: 'AwsSolutions-IAM5[Action::s3:GetObject*]', reason: 'Read access to the job source asset (grantRead).' },
    { id: 'AwsSolutions-IAM5[Action::s3:List*]', reason: 'Read access to the job source asset (grantRead).' },
    {
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
      reason: 'The job source is a CDK asset in the bootstrap bucket.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/codebuild/<${logicalId}>:*]`,
      reason: "CodeBuild's default grant on the project's own log group.",
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:report-group/<${logicalId}>-*]`,
      reason: "CodeBuild's default grant on the project's own report groups.",
    },
  );
}

/**
 * A job's Lambda-compute project runs under its EC2 project's role: CodeBuild's default grants for
 * the second project's own log group and report groups land in that role's policy.
 */
export function acknowledgeSharedRole(roleOwner: codebuild.Project, sibling: codebuild.Project): void {
  const logicalId = logicalIdOf(sibling);
  Validations.of(roleOwner).acknowledge(
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/codebuild/<${logicalId}>:*]`,
      reason: "CodeBuild's default grant on the Lambda-compute project's own log group, in the role both projects share.",
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:report-group/<${logicalId}>-*]`,
      reason: "CodeBuild's default grant on the Lambda-compute project's own report groups, in the role both projects share.",
    },
  );
}

/** Both jobs keep their Terraform state (and kops its state store) under `fabrics/` of the state buckets. */
function grantState(project: codebuild.Project, stateBucketArn: string): void {
  project.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'StateBuckets',
      actions: ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetBucketVersioning'],
      resources: [stateBucketArn],
    }),
  );
  project.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'StateObjects',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resources: [`${stateBucketArn}/fabrics/*`],
    }),
  );
  // install-tools.sh keeps its downloads there, named by their pinned SHA-256 (the AWS provider's zip
  // by the package hash its lock file pins), and checks each cached copy against its pin (Terraform
  // checks the provider): a planted object is never run.
  project.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'ToolsCache',
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: [`${stateBucketArn}/tools/sha256/*`],
    }),
  );
}

function acknowledgeState(project: codebuild.Project, stateBucketArn: string): void {
  const bucket = `arn:<AWS::Partition>:s3:::${stateBucketPattern(stateBucketArn)}`;
  Validations.of(project).acknowledge(
    {
      id: `AwsSolutions-IAM5[Resource::${bucket}]`,
      reason: 'State buckets are created per fabric region at run time; the pattern matches only our prefix and account.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::${bucket}/fabrics/*]`,
      reason: 'Terraform state and the kops state store of every fabric live under fabrics/ of the run-time state buckets.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::${bucket}/tools/sha256/*]`,
      reason: "The jobs' tool downloads, one object per pinned SHA-256 (install-tools.sh checks each copy against it).",
    },
  );
}

/**
 * The network job: Terraform creates and destroys the fabric's VPC, subnets, internet gateway, route
 * table and one security group (terraform/network), and keeps its state in the state bucket. It
 * creates no IAM, no DNS and no secret, so it gets none of those.
 */
export function grantNetworkBuilder(project: codebuild.Project, props: BuildGrantsProps, logicalId: string): void {
  project.addToRolePolicy(new iam.PolicyStatement({ sid: 'Describe', actions: ['ec2:Describe*'], resources: ['*'] }));
  project.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'Network',
      actions: [
        'ec2:AssociateRouteTable',
        'ec2:AttachInternetGateway',
        'ec2:AuthorizeSecurityGroupEgress',
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:CreateInternetGateway',
        'ec2:CreateRoute',
        'ec2:CreateRouteTable',
        'ec2:CreateSecurityGroup',
        'ec2:CreateSubnet',
        'ec2:CreateTags',
        'ec2:CreateVpc',
        'ec2:DeleteInternetGateway',
        'ec2:DeleteRoute',
        'ec2:DeleteRouteTable',
        'ec2:DeleteSecurityGroup',
        'ec2:DeleteSubnet',
        'ec2:DeleteTags',
        'ec2:DeleteVpc',
        'ec2:DetachInternetGateway',
        'ec2:DisassociateRouteTable',
        'ec2:ModifySubnetAttribute',
        'ec2:ModifyVpcAttribute',
        'ec2:ReplaceRoute',
        'ec2:RevokeSecurityGroupEgress',
        'ec2:RevokeSecurityGroupIngress',
      ],
      // The VPC does not exist before the run, and the network's resources carry no cluster tag (README).
      resources: ['*'],
    }),
  );
  grantState(project, props.stateBucketArn);
  acknowledgeProjectDefaults(project, logicalId);
  acknowledgeState(project, props.stateBucketArn);
  Validations.of(project).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Action::ec2:Describe*]',
      reason: 'Read-only: the Terraform AWS provider reads back every VPC resource it manages.',
    },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'EC2 Describe* has no resource-level permissions; the VPC and its parts do not exist before the run ' +
        'and carry no cluster tag (README, Privilege).',
    },
  );
}

/**
 * The cluster job: kops writes Terraform that Terraform applies (instances through Auto Scaling,
 * launch templates, volumes, security groups, a key pair, the node roles and instance profiles, the
 * termination handler's queue and rules), kops pre-creates DNS records, the job deletes the load
 * balancers Kubernetes made, and the admin kubeconfig goes to Secrets Manager.
 *
 * The escalation paths are closed: every role write (CreateRole, PutRolePolicy, DeleteRolePolicy)
 * requires `boundary` on the role (`iam:PermissionsBoundary`), and only kops's role names; nothing
 * may attach managed policies, change a boundary, or touch the build roles; roles are passed to EC2
 * only (`iam:PassedToService`).
 */
export function grantClusterBuilder(
  project: codebuild.Project,
  props: BuildGrantsProps & { readonly boundary: iam.IManagedPolicy },
  logicalId: string,
): void {
  const add = (statement: iam.PolicyStatement) => project.addToRolePolicy(statement);
  add(
    new iam.PolicyStatement({
      sid: 'Describe',
      actions: [
        'autoscaling:Describe*',
        'ec2:Describe*',
        'elasticloadbalancing:Describe*',
        // `kops delete cluster` lists these account-wide to find the cluster's own (ListResourcesAWS
        // in kops's pkg/resources/aws) and stops at the first refused list; a refused GetRole,
        // GetInstanceProfile or GetOpenIDConnectProvider of someone else's it only warns about.
        'events:ListRules',
        'iam:ListInstanceProfiles',
        'iam:ListOpenIDConnectProviders',
        'iam:ListRoles',
        'route53:ListHostedZones',
        'route53:ListHostedZonesByName',
        'sqs:ListQueues',
      ],
      resources: ['*'],
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'CreateClusterResources',
      actions: [
        'autoscaling:CreateAutoScalingGroup',
        'ec2:CreateLaunchTemplate',
        'ec2:CreateLaunchTemplateVersion',
        'ec2:CreateSecurityGroup',
        'ec2:CreateVolume',
        'ec2:ImportKeyPair',
        'ec2:RunInstances',
      ],
      // What is created has no ARN before the run; Auto Scaling checks RunInstances against this role.
      resources: ['*'],
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'TagOnCreate',
      actions: ['ec2:CreateTags'],
      resources: ['*'],
      conditions: {
        StringEquals: {
          'ec2:CreateAction': ['CreateLaunchTemplate', 'CreateSecurityGroup', 'CreateVolume', 'ImportKeyPair', 'RunInstances'],
        },
      },
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'ChangeClusterTagged',
      actions: [
        'autoscaling:CompleteLifecycleAction',
        'autoscaling:CreateOrUpdateTags',
        'autoscaling:DeleteAutoScalingGroup',
        'autoscaling:DeleteLifecycleHook',
        'autoscaling:DeleteTags',
        'autoscaling:DisableMetricsCollection',
        'autoscaling:EnableMetricsCollection',
        'autoscaling:PutLifecycleHook',
        'autoscaling:ResumeProcesses',
        'autoscaling:SetDesiredCapacity',
        'autoscaling:SuspendProcesses',
        'autoscaling:TerminateInstanceInAutoScalingGroup',
        'autoscaling:UpdateAutoScalingGroup',
        'ec2:AttachVolume',
        'ec2:AuthorizeSecurityGroupEgress',
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:CreateTags',
        'ec2:DeleteKeyPair',
        'ec2:DeleteLaunchTemplate',
        'ec2:DeleteLaunchTemplateVersions',
        'ec2:DeleteSecurityGroup',
        'ec2:DeleteTags',
        'ec2:DeleteVolume',
        'ec2:DetachVolume',
        'ec2:ModifyInstanceAttribute',
        'ec2:ModifyLaunchTemplate',
        'ec2:ModifySecurityGroupRules',
        'ec2:ModifyVolume',
        'ec2:RevokeSecurityGroupEgress',
        'ec2:RevokeSecurityGroupIngress',
        'ec2:TerminateInstances',
        'elasticloadbalancing:DeleteLoadBalancer',
        'elasticloadbalancing:DeleteTargetGroup',
      ],
      resources: ['*'],
      conditions: CLUSTER_TAGGED,
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'SecurityGroupRules',
      actions: [
        'ec2:AuthorizeSecurityGroupEgress',
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:ModifySecurityGroupRules',
        'ec2:RevokeSecurityGroupEgress',
        'ec2:RevokeSecurityGroupIngress',
      ],
      // A rule is a resource of its own in these requests and carries no tags: its group's tag decides (above).
      resources: [arn('ec2', 'security-group-rule/*')],
    }),
  );

  const roles = kopsIamArns('role');
  const boundary = { StringEquals: { 'iam:PermissionsBoundary': props.boundary.managedPolicyArn } };
  add(
    new iam.PolicyStatement({
      sid: 'NodeRoleWritesCarryBoundary',
      actions: ['iam:CreateRole', 'iam:DeleteRolePolicy', 'iam:PutRolePolicy'],
      resources: roles,
      conditions: boundary,
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'NodeRoles',
      actions: [
        'iam:DeleteRole',
        'iam:GetRole',
        'iam:GetRolePolicy',
        'iam:ListAttachedRolePolicies',
        'iam:ListInstanceProfilesForRole',
        'iam:ListRolePolicies',
        'iam:TagRole',
        'iam:UntagRole',
      ],
      resources: roles,
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'PassNodeRolesToEc2',
      actions: ['iam:PassRole'],
      resources: roles,
      conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'NodeInstanceProfiles',
      actions: [
        'iam:AddRoleToInstanceProfile',
        'iam:CreateInstanceProfile',
        'iam:DeleteInstanceProfile',
        'iam:GetInstanceProfile',
        'iam:RemoveRoleFromInstanceProfile',
        'iam:TagInstanceProfile',
        'iam:UntagInstanceProfile',
      ],
      resources: kopsIamArns('instance-profile'),
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'ServiceLinkedRoles',
      actions: ['iam:CreateServiceLinkedRole'],
      resources: [iamArn('role/aws-service-role/*')],
      conditions: { StringEquals: { 'iam:AWSServiceName': SERVICE_LINKED_ROLES } },
    }),
  );

  add(dnsRecordsStatement(props.hostedZoneIds));
  add(
    new iam.PolicyStatement({ sid: 'DnsChanges', actions: ['route53:GetChange'], resources: [`arn:${Aws.PARTITION}:route53:::change/*`] }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'TerminationQueue',
      actions: [
        'sqs:CreateQueue',
        'sqs:DeleteQueue',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ListQueueTags',
        'sqs:SetQueueAttributes',
        'sqs:TagQueue',
        'sqs:UntagQueue',
      ],
      resources: [arn('sqs', '*-nth')],
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'TerminationRules',
      actions: [
        'events:DeleteRule',
        'events:DescribeRule',
        'events:ListTagsForResource',
        'events:ListTargetsByRule',
        'events:PutRule',
        'events:PutTargets',
        'events:RemoveTargets',
        'events:TagResource',
        'events:UntagResource',
      ],
      resources: KOPS_EVENT_RULE_SUFFIXES.map((suffix) => arn('events', `rule/*-${suffix}`)),
    }),
  );
  grantState(project, props.stateBucketArn);
  // kops's Terraform keeps the cluster's files as aws_s3_object resources in the state bucket: the
  // AWS provider reads each object's tags back (GetObjectTagging) and, the bucket being versioned,
  // deletes every version of one (ListObjectVersions, DeleteObject with VersionId), as
  // `kops delete cluster` does for its state store.
  add(new iam.PolicyStatement({ sid: 'StateBucketVersions', actions: ['s3:ListBucketVersions'], resources: [props.stateBucketArn] }));
  add(
    new iam.PolicyStatement({
      sid: 'StateObjectVersionsAndTags',
      actions: ['s3:DeleteObjectVersion', 's3:GetObjectTagging'],
      resources: [`${props.stateBucketArn}/fabrics/*`],
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'KubeconfigSecret',
      actions: [
        'secretsmanager:CreateSecret',
        'secretsmanager:DeleteSecret',
        'secretsmanager:DescribeSecret',
        'secretsmanager:PutSecretValue',
        'secretsmanager:TagResource',
      ],
      resources: [arn('secretsmanager', 'secret:fabricctl/*/kubeconfig-??????')],
    }),
  );

  acknowledgeProjectDefaults(project, logicalId);
  acknowledgeState(project, props.stateBucketArn);
  const ack = (finding: string, reason: string) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  Validations.of(project).acknowledge(
    ack(
      'Resource::*',
      'Describe and List calls have no resource-level permissions; created resources have no ARN before the run; ' +
        'changes to existing ones require the KubernetesCluster tag (README, Privilege).',
    ),
    ack('Action::autoscaling:Describe*', 'Read-only: Terraform and kops read back the Auto Scaling groups.'),
    ack('Action::ec2:Describe*', 'Read-only: Terraform and kops read back every EC2 resource.'),
    ack('Action::elasticloadbalancing:Describe*', 'Read-only: teardown finds the load balancers Kubernetes made by their tags.'),
    ack(
      'Resource::arn:<AWS::Partition>:ec2:*:<AWS::AccountId>:security-group-rule/*',
      'Security group rules carry no tags; the rule changes are allowed only together with a cluster-tagged group.',
    ),
    ack(
      'Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/masters.*',
      "kops names the control-plane role masters.<fabric>.<domain>; writes need the stack's boundary on it.",
    ),
    ack(
      'Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/nodes.*',
      "kops names the node role nodes.<fabric>.<domain>; writes need the stack's boundary on it.",
    ),
    ack(
      'Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:instance-profile/masters.*',
      'kops names the control-plane instance profile masters.<fabric>.<domain>.',
    ),
    ack(
      'Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:instance-profile/nodes.*',
      'kops names the node instance profile nodes.<fabric>.<domain>.',
    ),
    ack(
      'Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/aws-service-role/*',
      'Only the Auto Scaling and Elastic Load Balancing service-linked roles (iam:AWSServiceName).',
    ),
    ack(
      'Resource::arn:<AWS::Partition>:route53:::change/*',
      'Route 53 change ids are made by each change: GetChange cannot be scoped further.',
    ),
    ack(
      'Resource::arn:<AWS::Partition>:sqs:*:<AWS::AccountId>:*-nth',
      "kops's node termination handler queue, named <cluster>-nth at run time.",
    ),
    ...KOPS_EVENT_RULE_SUFFIXES.map((suffix) =>
      ack(
        `Resource::arn:<AWS::Partition>:events:*:<AWS::AccountId>:rule/*-${suffix}`,
        `kops's ${suffix} rule for its node termination handler, named after the cluster at run time.`,
      ),
    ),
    ack(
      'Resource::arn:<AWS::Partition>:secretsmanager:*:<AWS::AccountId>:secret:fabricctl/*/kubeconfig-??????',
      "Each fabric's admin kubeconfig; the fabric name is known at run time.",
    ),
    ...(props.hostedZoneIds.length === 0
      ? [
          ack(
            'Resource::arn:<AWS::Partition>:route53:::hostedzone/*',
            "No hostedZoneIds given: the fabric domains' zones are found at run time (set hostedZoneIds to narrow it).",
          ),
        ]
      : []),
  );
}

/**
 * Who may read kops's secrets and Terraform state in the state buckets (lambdas/ensure-state-bucket):
 * the build roles and the account's chosen admins, passed to EnsureStateBucket's environment.
 */
export function stateReaderEnvironment(buildRoles: readonly iam.IRole[], adminPrincipalArns: readonly string[]): Record<string, string> {
  return {
    STATE_BUILD_PRINCIPAL_ARNS: buildRoles.map((r) => r.roleArn).join(','),
    ...(adminPrincipalArns.length > 0 ? { STATE_ADMIN_PRINCIPAL_ARNS: adminPrincipalArns.join(',') } : {}),
  };
}
