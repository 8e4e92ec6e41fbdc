import { createEmulatedStateMachine } from '../support/step-functions';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CloudWatchLogsClient, CreateLogGroupCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { FunctionUrlEvent, HttpResponse } from '../../lambdas/github-webhook/core';
import { describeWithMoto, useMoto } from '../support/moto';

/**
 * The receiver end to end with the real SDK against moto (Secrets Manager, Step Functions
 * CreateStateMachine/StartExecution/DescribeExecution/ListExecutions, EventBridge PutEvents with a
 * CloudWatch Logs target, DynamoDB conditional writes for the delivery log), and a local HTTP server
 * standing in for GitHub's contents API. Each push test uses its own commit and delivery id.
 */
const SECRET = 'webhook secret from Secrets Manager';
const TOKEN = 'ghp_test_token';
const SPEC = { name: 'demo', domain: 'example.com' };
const commit = (n: number): string => n.toString(16).padEnd(40, 'c');

describeWithMoto('github-webhook handler against moto', () => {
  useMoto();
  let github: Server;
  const githubRequests: { url: string; authorization?: string }[] = [];
  /** Commits GitHub answers 503 for, once each (a GitHub outage during one delivery). */
  const failOnce = new Set<string>();
  const TABLE = 'fabricctl-github-deliveries';
  const dynamodb = (): DynamoDBClient => new DynamoDBClient({ region: 'us-east-2' });
  let handler: (event: FunctionUrlEvent) => Promise<HttpResponse>;
  let stateMachineArn: string;
  const sfn = (): SFNClient => new SFNClient({ region: 'us-east-2' });

  beforeAll(async () => {
    github = createServer((req: IncomingMessage, res) => {
      githubRequests.push({ url: req.url ?? '', authorization: req.headers.authorization });
      const failing = [...failOnce].find((sha) => req.url?.endsWith(`?ref=${sha}`));
      if (failing !== undefined) {
        failOnce.delete(failing);
        res.writeHead(503).end('{"message":"Service Unavailable"}');
      } else if (req.url?.startsWith('/repos/octo/fabrics/contents/fabric.json?ref=')) {
        res.writeHead(200, { 'content-type': 'application/vnd.github.raw+json' }).end(JSON.stringify(SPEC));
      } else {
        res.writeHead(404).end('{"message":"Not Found"}');
      }
    });
    await new Promise<void>((resolve) => github.listen(0, '127.0.0.1', resolve));

    const secrets = new SecretsManagerClient({ region: 'us-east-2' });
    const webhookSecret = await secrets.send(new CreateSecretCommand({ Name: 'fabricctl/github/webhook', SecretString: SECRET }));
    const token = await secrets.send(new CreateSecretCommand({ Name: 'fabricctl/github/token', SecretString: TOKEN }));
    stateMachineArn = await createEmulatedStateMachine(sfn());
    const logs = new CloudWatchLogsClient({ region: 'us-east-2' });
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/test/fabric-events' }));
    const events = new EventBridgeClient({ region: 'us-east-2' });
    await events.send(new PutRuleCommand({ Name: 'fabric-events', EventPattern: JSON.stringify({ source: ['fabricctl'] }) }));
    await events.send(
      new PutTargetsCommand({
        Rule: 'fabric-events',
        Targets: [{ Id: 'log', Arn: 'arn:aws:logs:us-east-2:123456789012:log-group:/test/fabric-events' }],
      }),
    );

    await dynamodb().send(
      new CreateTableCommand({
        TableName: TABLE,
        KeySchema: [{ AttributeName: 'delivery', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'delivery', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );

    process.env.WEBHOOK_SECRET_ARN = webhookSecret.ARN;
    process.env.DELIVERY_TABLE_NAME = TABLE;
    process.env.GITHUB_TOKEN_SECRET_ARN = token.ARN;
    process.env.STATE_MACHINE_ARN = stateMachineArn;
    process.env.GITHUB_API_URL = `http://127.0.0.1:${(github.address() as AddressInfo).port}`;
    process.env.MAX_BODY_BYTES = '65536';
    // Loaded after moto is up: the handler reads its environment and builds its clients at load.
    ({ handler } = await import('../../lambdas/github-webhook/handler'));
  });

  afterAll(async () => {
    await new Promise((resolve) => github.close(resolve));
    for (const name of [
      'WEBHOOK_SECRET_ARN',
      'DELIVERY_TABLE_NAME',
      'GITHUB_TOKEN_SECRET_ARN',
      'STATE_MACHINE_ARN',
      'GITHUB_API_URL',
      'MAX_BODY_BYTES',
    ])
      delete process.env[name];
  });

  function delivery(
    payload: Record<string, unknown>,
    options: { event?: string; id?: string | null; signature?: string | null } = {},
  ): FunctionUrlEvent {
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = { 'x-github-event': options.event ?? 'push' };
    if (options.id !== null) headers['x-github-delivery'] = options.id ?? randomUUID();
    if (options.signature !== null)
      headers['x-hub-signature-256'] = options.signature ?? `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    return { headers, body: Buffer.from(body).toString('base64'), isBase64Encoded: true };
  }
  const push = (sha: string, ref = 'refs/heads/fabric/demo'): Record<string, unknown> => ({
    ref,
    before: '0'.repeat(40),
    after: sha,
    repository: { full_name: 'octo/fabrics' },
  });
  const deliveryItem = async (id: string) =>
    (await dynamodb().send(new GetItemCommand({ TableName: TABLE, Key: { delivery: { S: id } } }))).Item;
  const executions = async (): Promise<string[]> =>
    ((await sfn().send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? []).map((e) => e.name ?? '');

  test('GIVEN a valid signed push to fabric/demo WHEN received THEN 202, a provision of the commit with the spec from GitHub', async () => {
    const response = await handler(delivery(push(commit(1))));
    expect(response.statusCode).toBe(202);
    const { executionArn } = JSON.parse(response.body) as { executionArn: string };
    const execution = await sfn().send(new DescribeExecutionCommand({ executionArn }));
    expect(execution.name).toBe(`demo-${commit(1).slice(0, 12)}`);
    expect(JSON.parse(execution.input ?? '{}')).toEqual({
      action: 'provision',
      spec: SPEC,
      source: { provider: 'github', repository: 'octo/fabrics', branch: 'fabric/demo', commit: commit(1) },
    });
    expect(githubRequests.at(-1)).toEqual({
      url: `/repos/octo/fabrics/contents/fabric.json?ref=${commit(1)}`,
      authorization: `Bearer ${TOKEN}`,
    });
  });

  test('GIVEN a received push WHEN its delivery is replayed THEN 200 duplicate delivery; still one execution of that commit', async () => {
    const first = delivery(push(commit(2)));
    expect((await handler(first)).statusCode).toBe(202);
    const replay = await handler(first);
    expect({ status: replay.statusCode, body: JSON.parse(replay.body) }).toEqual({ status: 200, body: { status: 'duplicate delivery' } });
    expect((await executions()).filter((n) => n === `demo-${commit(2).slice(0, 12)}`)).toHaveLength(1);
  });

  test('GIVEN a handled push THEN its delivery id is kept about 30 days by TTL, with no lease left to take over', async () => {
    const id = randomUUID();
    const before = Math.floor(Date.now() / 1000);
    expect((await handler(delivery(push(commit(10)), { id }))).statusCode).toBe(202);
    const item = await deliveryItem(id);
    expect(item && { status: item.status, leaseUntil: item.leaseUntil }).toEqual({ status: { S: 'handled' }, leaseUntil: undefined });
    expect(Number(item?.expiresAt?.N) - before).toBeGreaterThanOrEqual(30 * 24 * 3600);
    expect(Number(item?.expiresAt?.N) - before).toBeLessThan(30 * 24 * 3600 + 60);
  });

  test("GIVEN the same push under a new delivery id (a second webhook) THEN 200 duplicate of that commit's execution", async () => {
    expect((await handler(delivery(push(commit(11))))).statusCode).toBe(202);
    const second = await handler(delivery(push(commit(11))));
    expect(second.statusCode).toBe(200);
    expect(JSON.parse(second.body)).toMatchObject({
      duplicate: true,
      executionArn: expect.stringContaining(`demo-${commit(11).slice(0, 12)}`),
    });
  });

  test('fails when GitHub is down during a delivery: an error, and the redelivery (same id) starts the run', async () => {
    const id = randomUUID();
    failOnce.add(commit(12));
    await expect(handler(delivery(push(commit(12)), { id }))).rejects.toThrow(/503/);
    expect((await deliveryItem(id))?.status).toEqual({ S: 'released' });
    const redelivery = await handler(delivery(push(commit(12)), { id }));
    expect(redelivery.statusCode).toBe(202);
    expect(await executions()).toContain(`demo-${commit(12).slice(0, 12)}`);
  });

  test('GIVEN a delivery claimed by an invocation that crashed WHEN redelivered after its lease THEN it is handled', async () => {
    const id = randomUUID();
    const past = Math.floor(Date.now() / 1000) - 10;
    await dynamodb().send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { delivery: { S: id }, status: { S: 'claimed' }, leaseUntil: { N: String(past) }, expiresAt: { N: String(past + 3600) } },
      }),
    );
    expect((await handler(delivery(push(commit(13)), { id }))).statusCode).toBe(202);
  });

  test('GIVEN a delivery being handled (claim within its lease) WHEN the same id arrives THEN 200 duplicate delivery', async () => {
    const id = randomUUID();
    const later = Math.floor(Date.now() / 1000) + 100;
    await dynamodb().send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { delivery: { S: id }, status: { S: 'claimed' }, leaseUntil: { N: String(later) }, expiresAt: { N: String(later + 3600) } },
      }),
    );
    const response = await handler(delivery(push(commit(14)), { id }));
    expect(JSON.parse(response.body)).toEqual({ status: 'duplicate delivery' });
    expect(await executions()).not.toContain(`demo-${commit(14).slice(0, 12)}`);
  });

  test('fails when a signed push has no delivery id: 400 and nothing recorded or started', async () => {
    const rows = async () => (await dynamodb().send(new ScanCommand({ TableName: TABLE }))).Count;
    const [before, beforeRows] = [await executions(), await rows()];
    const response = await handler(delivery(push(commit(15)), { id: null }));
    expect({ status: response.statusCode, error: JSON.parse(response.body).error }).toEqual({ status: 400, error: 'DeliveryIdMissing' });
    expect(await executions()).toEqual(before);
    expect(await rows()).toBe(beforeRows);
  });

  test('fails when an unsigned push is replayed many times: 401 each time and the delivery log does not grow', async () => {
    const rows = async () => (await dynamodb().send(new ScanCommand({ TableName: TABLE }))).Count;
    const beforeRows = await rows();
    for (let i = 0; i < 3; i += 1) expect((await handler(delivery(push(commit(16)), { signature: null }))).statusCode).toBe(401);
    expect(await rows()).toBe(beforeRows);
  });

  test('fails when the signature was made with another secret: 401 and no execution', async () => {
    const before = await executions();
    const forged = delivery(push(commit(3)), { signature: `sha256=${createHmac('sha256', 'guess').update('x').digest('hex')}` });
    expect((await handler(forged)).statusCode).toBe(401);
    expect(await executions()).toEqual(before);
  });

  test('fails when there is no signature: 401 and no execution', async () => {
    const before = await executions();
    expect((await handler(delivery(push(commit(4)), { signature: null }))).statusCode).toBe(401);
    expect(await executions()).toEqual(before);
  });

  test('GIVEN a signed issues event WHEN received THEN it is ignored (202) and starts nothing', async () => {
    const before = await executions();
    const response = await handler(delivery({ action: 'opened' }, { event: 'issues' }));
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toMatchObject({ ignored: true });
    expect(await executions()).toEqual(before);
  });

  test('GIVEN a signed push to main WHEN received THEN it is ignored (202) and starts nothing', async () => {
    const before = await executions();
    const response = await handler(delivery(push(commit(5), 'refs/heads/main')));
    expect(JSON.parse(response.body)).toMatchObject({ ignored: true, reason: expect.stringContaining('refs/heads/main') });
    expect(await executions()).toEqual(before);
  });

  test('fails when the body is over MAX_BODY_BYTES: 413 and no execution', async () => {
    const before = await executions();
    const response = await handler(delivery({ ...push(commit(6)), padding: 'x'.repeat(70000) }));
    expect(response.statusCode).toBe(413);
    expect(await executions()).toEqual(before);
  });

  test('GIVEN a signed deletion of fabric/demo WHEN received THEN nothing starts and a Fabric Branch Deleted event is put', async () => {
    const before = await executions();
    const response = await handler(
      delivery({
        ref: 'refs/heads/fabric/demo',
        before: commit(1),
        after: '0'.repeat(40),
        deleted: true,
        repository: { full_name: 'octo/fabrics' },
      }),
    );
    expect(response.statusCode).toBe(202);
    expect(await executions()).toEqual(before);
    const logged = await new CloudWatchLogsClient({ region: 'us-east-2' }).send(
      new FilterLogEventsCommand({ logGroupName: '/test/fabric-events' }),
    );
    const events = (logged.events ?? []).map((e) => JSON.parse(e.message ?? '{}') as { 'detail-type': string; detail: { name: string } });
    expect(events).toEqual([
      expect.objectContaining({ 'detail-type': 'Fabric Branch Deleted', detail: expect.objectContaining({ name: 'demo' }) }),
    ]);
  });
});
