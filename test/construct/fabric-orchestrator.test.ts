import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import aslValidator from 'asl-validator';
import { FabricOrchestratorStack } from '../../lib/fabric-orchestrator-stack';
import { AslDefinition, AslState, resolveDefinition } from '../../lib/definition';
import { LAMBDA_COMPUTE_MINUTES } from '../../lib/domain/contract';
import { taskStates } from '../../lib/local/task-handlers';
import { testStackProps } from '../support/stack';

/**
 * The state machine as CloudFormation receives it, resolved to runnable ASL. Bundling is off for
 * speed (the handlers' bundling is exercised by `cdk synth` in CI's synth test).
 */
function synth(): { template: Template; asl: AslDefinition; refs: Record<string, string> } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new FabricOrchestratorStack(app, 'FabricOrchestrator', testStackProps());
  const template = Template.fromStack(stack);
  const { asl, references } = resolveDefinition(template.toJSON() as never);
  return { template, asl, refs: references };
}

const { template, asl, refs } = synth();
const logicalIdOf = (prefix: string): string => {
  const match = Object.values(refs).find((id) => id.startsWith(prefix));
  if (!match) throw new Error(`no resource referenced by the definition starts with ${prefix}`);
  return match;
};
/** A top-level state without its `QueryLanguage` (asserted once, for every state, below). */
const state = (name: string): AslState => {
  const found = asl.States[name];
  if (!found) throw new Error(`state ${name} is not in the definition`);
  const { QueryLanguage: _language, ...rest } = found;
  return rest as AslState;
};
const withoutLanguage = (s: AslState | undefined): Record<string, unknown> => {
  const { QueryLanguage: _language, ...rest } = s ?? { Type: 'missing' };
  return rest;
};
const lockTable = () => logicalIdOf('OrchestratorLockTable');
const fn = (name: string) => `arn:aws:lambda:us-east-2:123456789012:function:${logicalIdOf(`Orchestrator${name}Function`)}`;
const LAMBDA_RETRY = {
  ErrorEquals: [
    'Lambda.ClientExecutionTimeoutException',
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
  ],
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
};
/** Throttling: not in CDK's recommended retry, added to every Lambda task with jittered backoff. */
const THROTTLE_RETRY = {
  ErrorEquals: ['Lambda.TooManyRequestsException'],
  IntervalSeconds: 2,
  MaxAttempts: 8,
  BackoffRate: 2,
  MaxDelaySeconds: 60,
  JitterStrategy: 'FULL',
};
const DYNAMODB_RETRY = {
  ErrorEquals: [
    'DynamoDB.ProvisionedThroughputExceededException',
    'DynamoDB.ThrottlingException',
    'DynamoDB.InternalServerErrorException',
    'DynamoDB.RequestLimitExceeded',
  ],
  IntervalSeconds: 2,
  MaxAttempts: 5,
  BackoffRate: 2,
};
const TO_FAILURE_PATH = { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'ExplainFailure' };

describe('FabricOrchestrator state machine', () => {
  test('GIVEN the stack WHEN synthesized THEN the definition is valid ASL in JSONPath with a timeout', () => {
    const { isValid, errors } = aslValidator(asl as never);
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
    expect(asl.StartAt).toBe('ValidateSpec');
    expect(asl.TimeoutSeconds).toBe(3 * 3600);
    expect(JSON.stringify(asl)).not.toMatch(/JSONata|\{%/);
    for (const s of Object.values(asl.States)) expect(s.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
  });

  test(
    'GIVEN a run WHEN the spec is validated ' +
      'THEN the whole input and the execution go to the validator, and a rejection skips the lock',
    () => {
      expect(state('ValidateSpec')).toEqual({
        Type: 'Task',
        Resource: fn('ValidateSpec'),
        Parameters: { 'input.$': '$', 'execution.$': '$$.Execution.Id', 'startedAt.$': '$$.Execution.StartTime' },
        ResultPath: '$.fabric',
        TimeoutSeconds: 60,
        Retry: [LAMBDA_RETRY, THROTTLE_RETRY],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'EmitSpecRejected' }],
        Next: 'AcquireLock',
      });
    },
  );

  test(
    'GIVEN a valid spec WHEN the lock is taken ' +
      'THEN it is a conditional write naming the execution, retried with bounded backoff, busy reported with the holder',
    () => {
      expect(state('AcquireLock')).toEqual({
        Type: 'Task',
        Resource: 'arn:aws:states:::dynamodb:putItem',
        Parameters: {
          TableName: lockTable(),
          Item: {
            fabric: { 'S.$': '$.fabric.name' },
            holder: { 'S.$': '$.fabric.execution' },
            expiresAt: { 'S.$': '$.fabric.lock.expiresAt' },
            ttl: { 'N.$': 'States.JsonToString($.fabric.lock.ttl)' },
            action: { 'S.$': '$.fabric.action' },
          },
          ConditionExpression: 'attribute_not_exists(fabric) OR holder = :me OR expiresAt < :started',
          ExpressionAttributeValues: {
            ':me': { 'S.$': '$.fabric.execution' },
            ':started': { 'S.$': '$$.Execution.StartTime' },
          },
        },
        ResultPath: null,
        TimeoutSeconds: 30,
        Retry: [
          {
            ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'],
            IntervalSeconds: 15,
            MaxAttempts: 10,
            BackoffRate: 1.5,
            MaxDelaySeconds: 120,
            JitterStrategy: 'FULL',
          },
          DYNAMODB_RETRY,
        ],
        Catch: [
          { ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: '$.error', Next: 'ReadLockHolder' },
          TO_FAILURE_PATH,
        ],
        Next: 'IsLeaseExtension',
      });
      expect(state('FabricBusy')).toEqual({
        Type: 'Pass',
        Parameters: {
          Error: 'FabricBusy',
          'Cause.$':
            "States.Format('fabric {} is locked by execution {} until {}; wait for it to finish or stop it, then retry', " +
            '$.fabric.name, $.lockHolder.holder, $.lockHolder.expiresAt)',
        },
        ResultPath: '$.error',
        Next: 'ExplainFailure',
      });
    },
  );

  test('GIVEN any way out WHEN the lock is released THEN only the holder can delete it', () => {
    for (const name of ['ReleaseLock', 'ReleaseLockAfterPlan', 'ReleaseLockAfterDestroy', 'ReleaseLockAfterFailure']) {
      expect(state(name)).toMatchObject({
        Type: 'Task',
        Resource: 'arn:aws:states:::dynamodb:deleteItem',
        Parameters: {
          TableName: lockTable(),
          Key: { fabric: { 'S.$': '$.fabric.name' } },
          ConditionExpression: 'holder = :me',
          ExpressionAttributeValues: { ':me': { 'S.$': '$.fabric.execution' } },
        },
        ResultPath: null,
      });
    }
  });

  test(
    'GIVEN the lock WHEN preparing ' + 'THEN zones, bucket and DNS run in parallel, DNS is skipped for destroy, results land in $.prepared',
    () => {
      const prepare = state('Prepare');
      expect(prepare).toMatchObject({
        Type: 'Parallel',
        ResultSelector: { 'zones.$': '$[0]', 'stateBucket.$': '$[1]', 'dns.$': '$[2]' },
        ResultPath: '$.prepared',
        Catch: [TO_FAILURE_PATH],
        Next: 'ChooseAction',
      });
      const branches = prepare.Branches as AslDefinition[];
      expect(branches.map((b) => b.StartAt)).toEqual(['DiscoverZones', 'EnsureStateBucket', 'NeedsDnsCheck']);
      expect(withoutLanguage(branches[0]?.States.DiscoverZones)).toEqual({
        Type: 'Task',
        Resource: fn('DiscoverZones'),
        Parameters: { 'fabric.$': '$.fabric' },
        TimeoutSeconds: 60,
        Retry: [LAMBDA_RETRY, THROTTLE_RETRY],
        End: true,
      });
      expect(withoutLanguage(branches[1]?.States.EnsureStateBucket)).toEqual({
        Type: 'Task',
        Resource: fn('EnsureStateBucket'),
        Parameters: { 'fabric.$': '$.fabric' },
        TimeoutSeconds: 90,
        Retry: [LAMBDA_RETRY, THROTTLE_RETRY],
        End: true,
      });
      expect(withoutLanguage(branches[2]?.States.NeedsDnsCheck)).toEqual({
        Type: 'Choice',
        Choices: [{ Variable: '$.fabric.action', StringEquals: 'destroy', Next: 'SkipDnsCheck' }],
        Default: 'CheckDns',
      });
      expect(withoutLanguage(branches[2]?.States.CheckDns)).toEqual({
        Type: 'Task',
        Resource: fn('CheckDns'),
        Parameters: { 'fabric.$': '$.fabric' },
        TimeoutSeconds: 60,
        Retry: [LAMBDA_RETRY, THROTTLE_RETRY, { ErrorEquals: ['DnsLookupFailed'], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2 }],
        End: true,
      });
    },
  );

  test(
    'GIVEN a provision WHEN the network job runs ' +
      'THEN it waits for the build, passes per-run values as overrides and parses FABRIC_RESULT',
    () => {
      const network = state('NetworkJob');
      expect(network).toMatchObject({
        Type: 'Task',
        Resource: 'arn:aws:states:::codebuild:startBuild.sync',
        ResultSelector: { 'result.$': 'States.StringToJson($.Build.ExportedEnvironmentVariables[0].Value)', 'buildId.$': '$.Build.Id' },
        ResultPath: '$.jobs.network',
        TimeoutSeconds: (60 + 30 + 10) * 60,
        Catch: [TO_FAILURE_PATH],
        Next: 'ClusterJobCompute',
      });
      const parameters = network.Parameters as { ProjectName: string; EnvironmentVariablesOverride: Array<Record<string, string>> };
      expect(parameters.ProjectName).toBe(logicalIdOf('OrchestratorNetworkProject'));
      const overrides = Object.fromEntries(parameters.EnvironmentVariablesOverride.map((v) => [v.Name, v]));
      expect(overrides.ACTION).toEqual({ Name: 'ACTION', Type: 'PLAINTEXT', Value: 'provision' });
      expect(overrides.FABRIC_NAME).toEqual({ Name: 'FABRIC_NAME', Type: 'PLAINTEXT', 'Value.$': '$.fabric.buildEnv.FABRIC_NAME' });
      expect(overrides.ZONES_CSV).toEqual({ Name: 'ZONES_CSV', Type: 'PLAINTEXT', 'Value.$': '$.prepared.zones.zonesCsv' });
      expect(overrides.STATE_BUCKET_EXISTS).toEqual({
        Name: 'STATE_BUCKET_EXISTS',
        Type: 'PLAINTEXT',
        'Value.$': "States.Format('{}', $.prepared.stateBucket.exists)",
      });
      // Nothing secret travels as a plaintext override: only the public half of the SSH key.
      const cluster = state('ClusterJob').Parameters as typeof parameters;
      const clusterNames = cluster.EnvironmentVariablesOverride.map((v) => v.Name);
      expect(clusterNames).toEqual(expect.arrayContaining(['VPC_ID', 'SUBNET_IDS_CSV', 'SSH_PUBLIC_KEY']));
      expect(JSON.stringify(cluster)).not.toMatch(/private/i);
    },
  );

  test(
    'GIVEN a provision WHEN ValidateSpec chose Lambda compute (a new fabric) ' +
      'THEN each job runs as the same task on the Lambda-compute project',
    () => {
      for (const job of ['NetworkJob', 'ClusterJob']) {
        expect(state(`${job}Compute`)).toEqual({
          Type: 'Choice',
          Comment: 'Lambda compute starts in seconds but ends a build at 15 minutes: only for a new fabric, which never rolls.',
          Choices: [{ Variable: '$.fabric.buildCompute', StringEquals: 'ec2', Next: job }],
          Default: `${job}OnLambda`,
        });
        const onEc2 = state(job);
        const onLambda = state(`${job}OnLambda`);
        const project = job === 'NetworkJob' ? 'Network' : 'Cluster';
        expect(onLambda).toEqual({
          ...onEc2,
          Parameters: { ...(onEc2.Parameters as object), ProjectName: logicalIdOf(`Orchestrator${project}LambdaProject`) },
        });
      }
      expect(state('ClusterJob').Next).toBe('StartReadinessClock');
      expect(state('NetworkJobOnLambda').Next).toBe('ClusterJobCompute');
    },
  );

  test('GIVEN the cluster job WHEN waiting for readiness THEN a Lambda poll and a Wait form a loop that ends on ready', () => {
    expect(state('StartReadinessClock')).toEqual({
      Type: 'Pass',
      Result: { ready: false, attempts: 0 },
      ResultPath: '$.readiness',
      Next: 'CheckReadiness',
    });
    expect(state('CheckReadiness')).toEqual({
      Type: 'Task',
      Resource: fn('CheckReadiness'),
      Parameters: {
        'fabric.$': '$.fabric',
        'prepared.$': '$.prepared',
        'cluster.$': '$.jobs.cluster.result',
        'readiness.$': '$.readiness',
      },
      ResultPath: '$.readiness',
      TimeoutSeconds: 60,
      Retry: [LAMBDA_RETRY, THROTTLE_RETRY],
      Catch: [TO_FAILURE_PATH],
      Next: 'IsClusterReady',
    });
    expect(state('IsClusterReady')).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.readiness.ready', BooleanEquals: true, Next: 'RecordReady' }],
      Default: 'WaitBeforeNextCheck',
    });
    expect(state('WaitBeforeNextCheck')).toEqual({ Type: 'Wait', Seconds: 10, Next: 'CheckReadiness' });
  });

  test(
    'GIVEN any failure WHEN caught ' +
      'THEN it is explained, the record written while the lock is held, the lock released, the event put, ' +
      'and the run fails with the original error',
    () => {
      expect(state('ExplainFailure')).toEqual({
        Type: 'Task',
        Resource: fn('ExplainFailure'),
        Parameters: { 'fabric.$': '$.fabric', 'error.$': '$.error' },
        ResultPath: '$.error',
        TimeoutSeconds: 60,
        Retry: [LAMBDA_RETRY, THROTTLE_RETRY],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failurePath.explain', Next: 'RecordFailure' }],
        Next: 'RecordFailure',
      });
      // A run that does not hold the lock (FabricBusy) fails here with LockNotHeld and goes on.
      expect(state('RecordFailure')).toEqual({
        Type: 'Task',
        Resource: fn('RecordFabric'),
        Parameters: { status: 'FAILED', 'state.$': '$' },
        ResultPath: null,
        TimeoutSeconds: 60,
        Retry: [LAMBDA_RETRY, THROTTLE_RETRY],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failurePath.record', Next: 'ReleaseLockAfterFailure' }],
        Next: 'ReleaseLockAfterFailure',
      });
      expect(state('ReleaseLockAfterFailure')).toMatchObject({
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failurePath.release', Next: 'EmitFabricFailed' }],
        Next: 'EmitFabricFailed',
      });
      expect(state('EmitFabricFailed')).toEqual({
        Type: 'Task',
        Resource: 'arn:aws:states:::events:putEvents',
        Parameters: {
          Entries: [
            {
              Detail: {
                'name.$': '$.fabric.name',
                'execution.$': '$$.Execution.Id',
                'error.$': '$.error.Error',
                'cause.$': '$.error.Cause',
              },
              DetailType: 'Fabric Failed',
              Source: 'fabricctl',
            },
          ],
        },
        ResultPath: null,
        TimeoutSeconds: 30,
        Retry: [
          { ErrorEquals: ['EventBridge.EventBridgeException', 'States.TaskFailed'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 },
        ],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failurePath.emit', Next: 'FabricFailed' }],
        Next: 'FabricFailed',
      });
      expect(state('FabricFailed')).toEqual({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    },
  );

  test('GIVEN every Task after the lock WHEN it fails THEN a Catch leads into the failure path (nothing is silent)', () => {
    const failurePath = new Set([
      'ExplainFailure',
      'ReleaseLockAfterFailure',
      'RecordFailure',
      'EmitFabricFailed',
      'ValidateSpec',
      'EmitSpecRejected',
      'ReadLockHolder',
    ]);
    for (const [name, s] of Object.entries(asl.States)) {
      if ((s.Type !== 'Task' && s.Type !== 'Parallel') || failurePath.has(name)) continue;
      const catches = (s.Catch ?? []) as Array<{ ErrorEquals: string[]; Next: string }>;
      expect({ name, catchesAll: catches.some((c) => c.ErrorEquals.includes('States.ALL') && c.Next === 'ExplainFailure') }).toEqual({
        name,
        catchesAll: true,
      });
    }
  });

  test(
    'GIVEN one Lambda task WHEN synthesized ' +
      "THEN it waits its function timeout plus 30 s and retries throttling after CDK's recommended retry",
    () => {
      const ensureSshKey = state('EnsureSshKey');
      // EnsureSshKey's function has a 60 s timeout.
      expect({ TimeoutSeconds: ensureSshKey.TimeoutSeconds, Retry: ensureSshKey.Retry }).toEqual({
        TimeoutSeconds: 90,
        Retry: [
          {
            ErrorEquals: [
              'Lambda.ClientExecutionTimeoutException',
              'Lambda.ServiceException',
              'Lambda.AWSLambdaException',
              'Lambda.SdkClientException',
            ],
            IntervalSeconds: 2,
            MaxAttempts: 6,
            BackoffRate: 2,
          },
          {
            ErrorEquals: ['Lambda.TooManyRequestsException'],
            IntervalSeconds: 2,
            MaxAttempts: 8,
            BackoffRate: 2,
            MaxDelaySeconds: 60,
            JitterStrategy: 'FULL',
          },
        ],
      });
    },
  );

  test(
    'GIVEN every Task, inside Parallel branches too, WHEN synthesized ' + "THEN each has a timeout and retries its service's throttling",
    () => {
      const projectMinutes = (name: string) => {
        const project = template.toJSON().Resources[name] as {
          Properties: { TimeoutInMinutes?: number; QueuedTimeoutInMinutes?: number; Environment: { Type: string } };
        };
        // Lambda compute takes no timeouts: CodeBuild ends such a build at 15 minutes.
        if (project.Properties.Environment.Type === 'LINUX_LAMBDA_CONTAINER') return LAMBDA_COMPUTE_MINUTES;
        return (project.Properties.TimeoutInMinutes ?? NaN) + (project.Properties.QueuedTimeoutInMinutes ?? NaN);
      };
      const throttling: Array<[RegExp, string]> = [
        [/^arn:aws:lambda:/, 'Lambda.TooManyRequestsException'],
        [/^arn:aws:states:::lambda:invoke\.waitForTaskToken$/, 'Lambda.TooManyRequestsException'],
        [/^arn:aws:states:::dynamodb:/, 'DynamoDB.ThrottlingException'],
        [/^arn:aws:states:::events:/, 'EventBridge.EventBridgeException'],
        [/^arn:aws:states:::codebuild:/, 'CodeBuild.AccountLimitExceededException'],
      ];
      const tasks = taskStates(asl);
      expect(tasks.length).toBeGreaterThanOrEqual(25);
      for (const [name, s] of tasks) {
        const resource = String(s.Resource);
        const error = throttling.find(([pattern]) => pattern.test(resource))?.[1];
        const retried = ((s.Retry ?? []) as Array<{ ErrorEquals: string[] }>).some(
          (r) => error !== undefined && r.ErrorEquals.includes(error),
        );
        const timeout = s.TimeoutSeconds as number | undefined;
        // A build task outlives CodeBuild's own run and queue limits, so CodeBuild ends a stuck build first.
        const build = resource.startsWith('arn:aws:states:::codebuild:');
        const project = (s.Parameters as { ProjectName?: string } | undefined)?.ProjectName ?? '';
        // The approval wait's bound is the run's own (ValidateSpec sets it from the stack's approvalTimeout).
        const callback = resource.endsWith('.waitForTaskToken');
        const enough = callback
          ? s.TimeoutSecondsPath === '$.fabric.approval.timeoutSeconds'
          : timeout !== undefined && (build ? timeout > projectMinutes(project) * 60 : timeout >= 30 && timeout <= 300);
        expect({ name, error, retried, enough }).toEqual({ name, error: expect.any(String), retried: true, enough: true });
      }
    },
  );

  test('GIVEN destroy WHEN chosen THEN the cluster goes before the network and the state bucket is kept', () => {
    expect(state('ChooseAction')).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.fabric.action', StringEquals: 'destroy', Next: 'RecordDestroying' },
        { Variable: '$.fabric.action', StringEquals: 'plan', Next: 'PlanNetworkJob' },
      ],
      Default: 'RecordProvisioning',
    });
    expect(state('RecordDestroying').Next).toBe('DestroyClusterJob');
    expect(state('DestroyClusterJob').Next).toBe('DestroyNetworkJob');
    expect(state('DestroyNetworkJob').Next).toBe('RecordDestroyed');
    expect(JSON.stringify(asl)).not.toMatch(/DeleteBucket/);
  });

  test(
    'GIVEN a provision that needs approval WHEN synthesized ' +
      'THEN it plans, records AWAITING_APPROVAL, waits on a task token bounded by the run, and applies only the approved digests',
    () => {
      expect(state('NeedsApproval')).toEqual({
        Type: 'Choice',
        Choices: [{ Variable: '$.fabric.approval.required', BooleanEquals: true, Next: 'PlanNetworkForApproval' }],
        Default: 'NoApprovalNeeded',
      });
      expect(state('PlanNetworkForApproval').Next).toBe('PlanClusterForApproval');
      expect(state('PlanClusterForApproval').Next).toBe('RecordAwaitingApproval');
      expect(state('RecordAwaitingApproval').Next).toBe('WaitForApproval');
      const wait = state('WaitForApproval');
      expect({
        Resource: wait.Resource,
        TimeoutSecondsPath: wait.TimeoutSecondsPath,
        ResultPath: wait.ResultPath,
        Next: wait.Next,
        Catch: wait.Catch,
      }).toEqual({
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        TimeoutSecondsPath: '$.fabric.approval.timeoutSeconds',
        ResultPath: '$.approvalDecision',
        Next: 'HoldApprovedPlan',
        Catch: [
          { ErrorEquals: ['States.Timeout'], ResultPath: '$.timeout', Next: 'ApprovalTimedOut' },
          { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'ExplainFailure' },
        ],
      });
      expect((wait.Parameters as { Payload: unknown }).Payload).toEqual({ 'taskToken.$': '$$.Task.Token', 'state.$': '$' });
      expect(state('ApprovalTimedOut')).toMatchObject({
        Type: 'Pass',
        ResultPath: '$.error',
        Next: 'ExplainFailure',
        Parameters: { Error: 'ApprovalTimedOut' },
      });
      expect(state('HoldApprovedPlan')).toMatchObject({
        Parameters: { 'network.$': '$.jobs.network.result.planDigest', 'cluster.$': '$.jobs.cluster.result.planDigest' },
        ResultPath: '$.approvedPlan',
        Next: 'RecordApproved',
      });
      expect(state('RecordApproved').Next).toBe('NetworkJobCompute');
      expect(state('NoApprovalNeeded')).toEqual({
        Type: 'Pass',
        Result: { network: '', cluster: '' },
        ResultPath: '$.approvedPlan',
        Next: 'NetworkJobCompute',
      });
      const digestOf = (job: string) =>
        (
          state(job).Parameters as { EnvironmentVariablesOverride: Array<{ Name: string; Value?: string; 'Value.$'?: string }> }
        ).EnvironmentVariablesOverride.find((v) => v.Name === 'APPROVED_PLAN_DIGEST');
      for (const compute of ['', 'OnLambda']) {
        expect(digestOf(`NetworkJob${compute}`)).toEqual({
          Name: 'APPROVED_PLAN_DIGEST',
          Type: 'PLAINTEXT',
          'Value.$': '$.approvedPlan.network',
        });
        expect(digestOf(`ClusterJob${compute}`)).toEqual({
          Name: 'APPROVED_PLAN_DIGEST',
          Type: 'PLAINTEXT',
          'Value.$': '$.approvedPlan.cluster',
        });
      }
    },
  );

  test(
    'GIVEN a drift check or a lease extension WHEN synthesized ' +
      'THEN drift is recorded and announced only when found, and extend touches only the record',
    () => {
      expect(state('IsDriftCheck')).toEqual({
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: '$.fabric.check', IsPresent: true },
              { Variable: '$.fabric.check', StringEquals: 'drift' },
            ],
            Next: 'RecordDriftCheck',
          },
        ],
        Default: 'ReleaseLockAfterPlan',
      });
      expect(state('HasDrifted')).toEqual({
        Type: 'Choice',
        Choices: [{ Variable: '$.record.drift.drifted', BooleanEquals: true, Next: 'EmitFabricDrifted' }],
        Default: 'ReleaseLockAfterPlan',
      });
      expect(state('IsLeaseExtension')).toEqual({
        Type: 'Choice',
        Choices: [{ Variable: '$.fabric.action', StringEquals: 'extend', Next: 'RecordLease' }],
        Default: 'Prepare',
      });
      expect(state('RecordLease').Next).toBe('ReleaseLockAfterExtend');
    },
  );
});

describe('FabricOrchestrator resources', () => {
  test('GIVEN the stack WHEN synthesized THEN the state machine logs every event without execution data and is traced', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
    // Under /aws/vendedlogs/ the group needs no room in the account's CloudWatch Logs resource policy.
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')).map((g) => String(g.Properties.LogGroupName ?? ''));
    expect(groups.filter((name) => name.startsWith('/aws/vendedlogs/states/'))).toEqual([
      expect.stringMatching(/^\/aws\/vendedlogs\/states\/FabricOrchestrator[A-Za-z0-9]+$/),
    ]);
  });

  test('GIVEN the functions WHEN synthesized THEN each runs on Node.js 24, arm64, traced', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(10);
    for (const resource of Object.values(functions)) {
      expect(resource.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
    }
  });

  test('GIVEN the build jobs WHEN synthesized THEN their buildspecs come from the job source and their artifacts are KMS-encrypted', () => {
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Source: Match.objectLike({ Type: 'S3', BuildSpec: 'buildspecs/network.yml' }),
      EncryptionKey: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Source: Match.objectLike({ Type: 'S3', BuildSpec: 'buildspecs/cluster.yml' }),
      EncryptionKey: Match.anyValue(),
    });
  });

  test('GIVEN RecordFabric WHEN synthesized THEN it is told the lock table and may read only its items', () => {
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: 'Writes the fabric record to the state bucket' },
    });
    const [id, recordFabric] = Object.entries(functions)[0] ?? [];
    expect(
      (recordFabric as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables
        .LOCK_TABLE_NAME,
    ).toEqual({ Ref: lockTable() });
    const role = (recordFabric as { Properties: { Role: { 'Fn::GetAtt': [string, string] } } }).Properties.Role['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p as { Properties: { Roles: Array<{ Ref: string }> } }).Properties.Roles.some((r) => r.Ref === role),
    );
    const statements = policies.flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } } }).Properties.PolicyDocument
          .Statement,
    );
    expect(id).toBeDefined();
    expect(statements.filter((st) => JSON.stringify(st.Action).includes('dynamodb:'))).toEqual([
      { Action: 'dynamodb:GetItem', Effect: 'Allow', Resource: { 'Fn::GetAtt': [lockTable(), 'Arn'] } },
    ]);
  });

  test('GIVEN the lock table WHEN synthesized THEN locks expire by TTL and the table has point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: 'fabric', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
  });

  test('GIVEN the stack WHEN synthesized THEN fabricctl finds the state machine in the outputs', () => {
    template.hasOutput('StateMachineArn', {});
  });

  test('fails when the state bucket prefix is not a valid bucket name part', () => {
    expect(() => new FabricOrchestratorStack(new App(), 'Bad', testStackProps({ stateBucketPrefix: 'Bad_Prefix' }))).toThrow(
      /stateBucketPrefix/,
    );
  });
});

describe('cdk-nag AwsSolutions', () => {
  test(
    'GIVEN the AWS Solutions rules WHEN the app is synthesized ' +
      'THEN there is no unacknowledged finding and every acknowledgment has a reason',
    () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new FabricOrchestratorStack(app, 'FabricOrchestrator', testStackProps());
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      // synth() throws listing the findings when any is not acknowledged.
      expect(() => app.synth()).not.toThrow();
      // Acknowledgments are kept as `aws:cdk:acknowledged-rules` metadata: { "Annotation::<rule>[<finding>]": reason }.
      const acknowledged = stack.node
        .findAll()
        .flatMap((c) => c.node.metadata)
        .filter((m) => m.type === 'aws:cdk:acknowledged-rules')
        .flatMap((m) => Object.entries(m.data as Record<string, string>));
      expect(acknowledged.length).toBeGreaterThan(20);
      for (const [rule, reason] of acknowledged) {
        // One finding each (a bare rule id would silence every finding of that rule), with a real reason.
        expect({
          rule,
          names: /^Annotation::AwsSolutions-[A-Z]+\d+(\[[^\]]+\])?$/.test(rule),
          reasoned: reason.trim().length >= 30,
        }).toEqual({ rule, names: true, reasoned: true });
      }
    },
  );

  test(
    'GIVEN the git triggers (CodeCommit rule, GitHub webhook) WHEN synthesized ' +
      'THEN the rules still pass and the webhook has a function URL',
    () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new FabricOrchestratorStack(
        app,
        'FabricOrchestrator',
        testStackProps({ codeCommitRepositoryName: 'fabrics', githubWebhook: true }),
      );
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      expect(() => app.synth()).not.toThrow();
      const withTriggers = Template.fromStack(stack);
      withTriggers.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
      withTriggers.hasResourceProperties('AWS::Events::Rule', { EventPattern: Match.objectLike({ source: ['aws.codecommit'] }) });
      withTriggers.hasOutput('GithubWebhookUrl', {});
    },
  );
});
