import { Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { FabricFunctions } from './fabric-orchestrator';
import { logicalIdOf } from './logical-id';
import { STATE_LOCK_PATTERN } from './orchestrator-functions';

/**
 * The cdk-nag findings the orchestrator acknowledges, each by its exact finding (the resource it
 * names) and why that grant is as narrow as it can be. The build projects' are in build-grants.ts.
 */
export function acknowledgeOrchestratorFindings(o: {
  readonly stateMachine: sfn.StateMachine;
  readonly functions: FabricFunctions;
  readonly stateBucketPrefix: string;
  readonly hostedZoneIds: readonly string[];
}): void {
  const functions = Object.values(o.functions) as lambda.IFunction[];
  Validations.of(o.stateMachine).acknowledge(
    ...functions.map((f) => ({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(f)}.Arn>:*]`,
      reason: 'The state machine may invoke any version of its own functions (the LambdaInvoke grant).',
    })),
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "The state machine's log delivery (logs:*LogDelivery*, DescribeLogGroups, PutResourcePolicy) " +
        'and X-Ray trace writes have no resource-level permissions.',
    },
  );
  // Each function names the findings of its own grants (the build projects: lib/build-grants.ts).
  const f = o.functions;
  const bucket = `arn:<AWS::Partition>:s3:::${o.stateBucketPrefix}-<AWS::AccountId>-*`;
  const ack = (fn: lambda.IFunction, finding: string, reason: string) =>
    Validations.of(fn).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  for (const fn of [f.validateSpec, f.discoverZones, f.recordFabric, f.ensureStateBucket]) {
    ack(
      fn,
      `Resource::${bucket}`,
      'State buckets are created per fabric region at run time; the pattern matches only our prefix and account.',
    );
  }
  ack(
    f.ensureStateBucket,
    `Resource::${bucket}/${STATE_LOCK_PATTERN}`,
    "Only Terraform's lock objects (<state key>.tflock) of the run-time state buckets: stale ones are released.",
  );
  for (const fn of [f.validateSpec, f.discoverZones, f.recordFabric]) {
    ack(
      fn,
      `Resource::${bucket}/fabrics/*`,
      'Fabric records live at fabrics/<name>/fabric.json of the run-time state buckets; the name is known at run time.',
    );
  }
  ack(
    f.sweepFabrics,
    `Resource::${bucket}`,
    'The sweep lists the fabric records of every state bucket (one per region, created at run time).',
  );
  ack(
    f.sweepFabrics,
    `Resource::${bucket}/fabrics/*/fabric.json`,
    'The sweep reads fabric records only (fabrics/<name>/fabric.json), never state or kops secrets.',
  );
  ack(
    f.sweepFabrics,
    'Resource::*',
    's3:ListAllMyBuckets has no resource-level permission: the sweep finds the state buckets of each region by name.',
  );
  ack(
    f.ensureSshKey,
    'Resource::arn:<AWS::Partition>:secretsmanager:*:<AWS::AccountId>:secret:fabricctl/*/ssh-key*',
    "Each fabric's SSH key, fabricctl/<name>/ssh-key (read before it exists, so its bare name too); the name is known at run time.",
  );
  ack(
    f.checkReadiness,
    'Resource::arn:<AWS::Partition>:secretsmanager:*:<AWS::AccountId>:secret:fabricctl/*/kubeconfig-??????',
    "Each fabric's admin kubeconfig, fabricctl/<name>/kubeconfig; the name is known at run time.",
  );
  if (o.hostedZoneIds.length === 0) {
    for (const fn of [f.checkDns, f.checkReadiness]) {
      ack(
        fn,
        'Resource::arn:<AWS::Partition>:route53:::hostedzone/*',
        "No hostedZoneIds given: the domain's zone is found at run time from the spec (read-only here).",
      );
    }
  }
}
