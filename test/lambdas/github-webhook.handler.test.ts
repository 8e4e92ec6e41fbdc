import { createHmac } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateStateMachineCommand, DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CloudWatchLogsClient, CreateLogGroupCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { FunctionUrlEvent, HttpResponse } from '../../lambdas/github-webhook/core';
import { describeWithMoto, useMoto } from '../support/moto';

/**
 * The receiver end to end with the real SDK against moto (Secrets Manager, Step Functions
 * CreateStateMachine/StartExecution/DescribeExecution/ListExecutions, EventBridge PutEvents with a
 * CloudWatch Logs target), and a local HTTP server standing in for GitHub's contents API.
 * Each push test uses its own commit, so each execution name is new.
 */
const SECRET = 'webhook secret from Secrets Manager';
const TOKEN = 'ghp_test_token';
const SPEC = { name: 'demo', domain: 'example.com' };
const commit = (n: number): string => n.toString(16).padEnd(40, 'c');

describeWithMoto('github-webhook handler against moto', () => {
  useMoto();
  let github: Server;
  const githubRequests: { url: string; authorization?: string }[] = [];
  let handler: (event: FunctionUrlEvent) => Promise<HttpResponse>;
  let stateMachineArn: string;
  const sfn = (): SFNClient => new SFNClient({ region: 'us-east-2' });

  beforeAll(async () => {
    github = createServer((req: IncomingMessage, res) => {
      githubRequests.push({ url: req.url ?? '', authorization: req.headers.authorization });
      if (req.url?.startsWith('/repos/octo/fabrics/contents/fabric.json?ref=')) {
        res.writeHead(200, { 'content-type': 'application/vnd.github.raw+json' }).end(JSON.stringify(SPEC));
      } else {
        res.writeHead(404).end('{"message":"Not Found"}');
      }
    });
    await new Promise<void>((resolve) => github.listen(0, '127.0.0.1', resolve));

    const secrets = new SecretsManagerClient({ region: 'us-east-2' });
    const webhookSecret = await secrets.send(new CreateSecretCommand({ Name: 'fabricctl/github/webhook', SecretString: SECRET }));
    const token = await secrets.send(new CreateSecretCommand({ Name: 'fabricctl/github/token', SecretString: TOKEN }));
    const machine = await sfn().send(
      new CreateStateMachineCommand({
        name: 'FabricOrchestrator',
        definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
        roleArn: 'arn:aws:iam::123456789012:role/fabric',
      }),
    );
    stateMachineArn = machine.stateMachineArn ?? '';
    const logs = new CloudWatchLogsClient({ region: 'us-east-2' });
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/test/fabric-events' }));
    const events = new EventBridgeClient({ region: 'us-east-2' });
    await events.send(new PutRuleCommand({ Name: 'fabric-events', EventPattern: JSON.stringify({ source: ['fabricctl'] }) }));
    await events.send(new PutTargetsCommand({ Rule: 'fabric-events', Targets: [{ Id: 'log', Arn: 'arn:aws:logs:us-east-2:123456789012:log-group:/test/fabric-events' }] }));

    process.env.WEBHOOK_SECRET_ARN = webhookSecret.ARN;
    process.env.GITHUB_TOKEN_SECRET_ARN = token.ARN;
    process.env.STATE_MACHINE_ARN = stateMachineArn;
    process.env.GITHUB_API_URL = `http://127.0.0.1:${(github.address() as AddressInfo).port}`;
    process.env.MAX_BODY_BYTES = '65536';
    // Loaded after moto is up: the handler reads its environment and builds its clients at load.
    ({ handler } = await import('../../lambdas/github-webhook/handler'));
  });

  afterAll(async () => {
    await new Promise((resolve) => github.close(resolve));
    for (const name of ['WEBHOOK_SECRET_ARN', 'GITHUB_TOKEN_SECRET_ARN', 'STATE_MACHINE_ARN', 'GITHUB_API_URL', 'MAX_BODY_BYTES']) delete process.env[name];
  });

  function delivery(payload: Record<string, unknown>, options: { event?: string; id?: string; signature?: string | null } = {}): FunctionUrlEvent {
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = { 'x-github-event': options.event ?? 'push', 'x-github-delivery': options.id ?? `delivery-${Math.random()}` };
    if (options.signature !== null) headers['x-hub-signature-256'] = options.signature ?? `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    return { headers, body: Buffer.from(body).toString('base64'), isBase64Encoded: true };
  }
  const push = (sha: string, ref = 'refs/heads/fabric/demo'): Record<string, unknown> => ({ ref, before: '0'.repeat(40), after: sha, repository: { full_name: 'octo/fabrics' } });
  const executions = async (): Promise<string[]> =>
    ((await sfn().send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? []).map((e) => e.name ?? '');

  test('GIVEN a valid signed push to fabric/demo WHEN received THEN 202 and a provision execution of that commit with the spec read from GitHub', async () => {
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
    expect(githubRequests.at(-1)).toEqual({ url: `/repos/octo/fabrics/contents/fabric.json?ref=${commit(1)}`, authorization: `Bearer ${TOKEN}` });
  });

  test('GIVEN a push already received WHEN the same delivery is replayed THEN 200 duplicate and still one execution of that commit', async () => {
    const first = delivery(push(commit(2)), { id: 'same-delivery' });
    expect((await handler(first)).statusCode).toBe(202);
    const replay = await handler(first);
    expect(replay.statusCode).toBe(200);
    expect(JSON.parse(replay.body)).toMatchObject({ duplicate: true });
    expect((await executions()).filter((n) => n === `demo-${commit(2).slice(0, 12)}`)).toHaveLength(1);
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
    const response = await handler(delivery({ ref: 'refs/heads/fabric/demo', before: commit(1), after: '0'.repeat(40), deleted: true, repository: { full_name: 'octo/fabrics' } }));
    expect(response.statusCode).toBe(202);
    expect(await executions()).toEqual(before);
    const logged = await new CloudWatchLogsClient({ region: 'us-east-2' }).send(new FilterLogEventsCommand({ logGroupName: '/test/fabric-events' }));
    const events = (logged.events ?? []).map((e) => JSON.parse(e.message ?? '{}') as { 'detail-type': string; detail: { name: string } });
    expect(events).toEqual([expect.objectContaining({ 'detail-type': 'Fabric Branch Deleted', detail: expect.objectContaining({ name: 'demo' }) })]);
  });
});
