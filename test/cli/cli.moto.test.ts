import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { FabricRecord } from '../../lib/domain/contract';
import { stateBucketName } from '../../lib/domain/naming';
import { parseFabricSpec } from '../../lib/domain/spec';
import { describeWithMoto, useMoto } from '../support/moto';
import { runCli, tempDir } from './support';

/**
 * The CLI with the real AWS SDK against moto: CloudFormation DescribeStacks (the stack lookup),
 * Step Functions StartExecution / DescribeExecution / DescribeStateMachine / GetExecutionHistory
 * (moto serves a canned history of a one-Pass-state run), S3 and STS (fabric records), EC2 (init).
 * What moto cannot do (a real execution's history, build logs) is covered with aws-sdk-client-mock
 * in commands.test.ts.
 */
const REGION = 'us-east-2';
const ACCOUNT = '123456789012';
const BUCKET = stateBucketName(ACCOUNT, REGION);
const opts = { region: REGION };
const LOCK_TABLE = 'FabricOrchestrator-LockTable';

describeWithMoto('fabricctl against moto', () => {
  useMoto();
  let stateMachineArn: string;

  beforeAll(async () => {
    const machine = await new SFNClient(opts).send(
      new CreateStateMachineCommand({
        name: 'FabricOrchestrator-machine',
        definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
        roleArn: `arn:aws:iam::${ACCOUNT}:role/fabric`,
      }),
    );
    stateMachineArn = machine.stateMachineArn ?? '';
    await new CloudFormationClient(opts).send(
      new CreateStackCommand({
        StackName: 'FabricOrchestrator',
        TemplateBody: JSON.stringify({
          Resources: { Placeholder: { Type: 'AWS::S3::Bucket' } },
          Outputs: {
            StateMachineArn: { Value: stateMachineArn },
            StateBucketPrefix: { Value: 'fabricctl-state' },
            LockTableName: { Value: LOCK_TABLE },
          },
        }),
      }),
    );
    await new DynamoDBClient(opts).send(
      new CreateTableCommand({
        TableName: LOCK_TABLE,
        KeySchema: [{ AttributeName: 'fabric', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'fabric', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const s3 = new S3Client({ ...opts, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }));
    const spec = parseFabricSpec({ name: 'demo', domain: 'example.com', zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'] });
    const record: FabricRecord = {
      name: 'demo',
      clusterName: 'demo.example.com',
      status: 'READY',
      spec,
      zones: spec.zones ?? [],
      outputs: { vpcId: 'vpc-0123', subnetIds: { 'us-east-2a': 'subnet-a' }, apiName: 'api.demo.example.com', stateBucket: BUCKET },
      lastExecution: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:demo-recorded`,
      createdAt: '2026-11-25T12:00:00Z',
      updatedAt: '2026-11-26T11:00:00Z',
    };
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'fabrics/demo/fabric.json', Body: JSON.stringify(record) }));
  });

  function specDir(): string {
    const dir = tempDir();
    writeFileSync(join(dir, 'fabric.json'), JSON.stringify({ name: 'demo', domain: 'example.com' }));
    return dir;
  }

  test("GIVEN a deployed stack WHEN up --no-watch THEN its outputs' state machine has an execution with the provision input", async () => {
    const run = await runCli(['up', 'fabric.json', '--no-watch', '--json'], {
      cwd: specDir(),
      git: () => ({ commit: 'f'.repeat(40), clean: true }),
    });
    expect(run.code).toBe(0);
    const { executionArn } = JSON.parse(run.out) as { executionArn: string };
    const execution = await new SFNClient(opts).send(new DescribeExecutionCommand({ executionArn }));
    expect(execution.name).toBe('demo-ffffffffffff');
    expect(execution.stateMachineArn).toBe(stateMachineArn);
    expect(JSON.parse(execution.input ?? '{}')).toEqual({ action: 'provision', spec: { name: 'demo', domain: 'example.com' } });
  });

  test('GIVEN an execution WHEN up --watch THEN its history is followed to the end and the run exits 0', async () => {
    const run = await runCli(['up', 'fabric.json', '--watch'], { cwd: specDir() });
    expect(run.err).toBe('');
    expect(run.out).toMatch(/ ✓ .+\n/);
    expect(run.out).toContain('status: SUCCEEDED');
    expect(run.code).toBe(0);
  });

  test('GIVEN a stack name that does not exist WHEN up THEN exit 3', async () => {
    expect((await runCli(['up', 'fabric.json', '--stack', 'Nope'], { cwd: specDir() })).code).toBe(3);
  });

  test('GIVEN a fabric record WHEN status demo --json THEN the record is printed', async () => {
    const run = await runCli(['status', 'demo', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ name: 'demo', status: 'READY', zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'] });
  });

  test('GIVEN a fabric record WHEN list THEN one row with status, zones, last execution and age', async () => {
    const run = await runCli(['list']);
    expect(run.code).toBe(0);
    expect(run.out.split('\n')[1]).toMatch(/^demo\s+READY\s+us-east-2a,us-east-2b,us-east-2c\s+demo\.example\.com\s+demo-recorded\s+24h$/);
  });

  test('fails when the fabric has no record: status exits 3', async () => {
    const run = await runCli(['status', 'ghost']);
    expect(run.code).toBe(3);
    expect(run.err).toContain('FabricNotFound');
  });

  test("GIVEN a record whose last execution exists WHEN logs --json THEN that execution's steps are listed", async () => {
    const started = await new SFNClient(opts).send(new StartExecutionCommand({ stateMachineArn, name: 'logs-run', input: '{}' }));
    const s3 = new S3Client({ ...opts, forcePathStyle: true });
    const spec = parseFabricSpec({ name: 'logsdemo', domain: 'example.com' });
    const record = {
      name: 'logsdemo',
      clusterName: 'logsdemo.example.com',
      status: 'FAILED',
      spec,
      zones: ['us-east-2a'],
      outputs: { stateBucket: BUCKET },
      lastExecution: started.executionArn,
      createdAt: '2026-11-26T11:00:00Z',
      updatedAt: '2026-11-26T11:00:00Z',
    };
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'fabrics/logsdemo/fabric.json', Body: JSON.stringify(record) }));
    const run = await runCli(['logs', 'logsdemo', '--json']);
    expect(run.code).toBe(0);
    const logs = JSON.parse(run.out) as { execution: string; steps: { type: string }[] };
    expect(logs.execution).toBe(started.executionArn);
    expect(logs.steps.map((s) => s.type)).toEqual(expect.arrayContaining(['executionStarted', 'stateEntered', 'stateExited']));
  });

  test('GIVEN moto us-east-2 WHEN init THEN its three available zones are pinned', async () => {
    const cwd = tempDir();
    const run = await runCli(['init', 'demo', '--domain', 'example.com'], { cwd });
    expect(run.code).toBe(0);
    expect(JSON.parse(readFileSync(join(cwd, 'fabric.json'), 'utf8'))).toEqual({
      name: 'demo',
      domain: 'example.com',
      region: 'us-east-2',
      zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'],
    });
  });

  test('fails when nothing waits for approval: approve exits 3 naming the holder or saying no run waits', async () => {
    const none = await runCli(['approve', 'demo']);
    expect({ code: none.code, err: none.err }).toEqual({
      code: 3,
      err: 'error: NotAwaitingApproval: no run of fabric demo is waiting for approval (fabricctl status demo shows its state)\n',
    });
    await new DynamoDBClient(opts).send(
      new PutItemCommand({
        TableName: LOCK_TABLE,
        Item: { fabric: { S: 'demo' }, holder: { S: 'arn:aws:states:us-east-2:123456789012:execution:FabricOrchestrator:busy' } },
      }),
    );
    const busy = await runCli(['reject', 'demo']);
    expect(busy.err).toMatch(/NotAwaitingApproval: fabric demo is locked by arn:.*:busy, which is not waiting for approval/);
  });

  test('GIVEN the stack WHEN extend demo 36h THEN an extend execution starts with the fabric, its region and the duration', async () => {
    const run = await runCli(['extend', 'demo', '36h', '--json']);
    expect(run.code).toBe(0);
    const { executionArn, extendBy } = JSON.parse(run.out) as { executionArn: string; extendBy: string };
    expect(extendBy).toBe('36h');
    const execution = await new SFNClient(opts).send(new DescribeExecutionCommand({ executionArn }));
    expect(JSON.parse(execution.input ?? '{}')).toEqual({ action: 'extend', name: 'demo', region: 'us-east-2', extendBy: '36h' });
    const bad = await runCli(['extend', 'demo', 'soon']);
    expect(bad.code).toBe(2);
  });
});
