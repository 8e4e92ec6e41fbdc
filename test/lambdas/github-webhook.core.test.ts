import { createHmac } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  buildExecutionRequest,
  classify,
  fetchSpec,
  FunctionUrlEvent,
  rawBody,
  receive,
  ReceiverDeps,
  verifySignature,
} from '../../lambdas/github-webhook/core';

/** Core tests: no network. The SDK clients are mocked with aws-sdk-client-mock (moto is used by the handler test). */
const SECRET = 'It is a secret to everybody';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const STATE_MACHINE = 'arn:aws:states:us-east-2:123456789012:stateMachine:Fabric';
const SPEC = { name: 'demo', domain: 'example.com' };
/** X-GitHub-Delivery values are GUIDs. */
const DELIVERY = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

function sign(body: string | Buffer, secret = SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function pushPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ref: 'refs/heads/fabric/demo',
    before: 'a'.repeat(40),
    after: COMMIT,
    deleted: false,
    repository: { full_name: 'octo/fabrics' },
    ...overrides,
  };
}

function delivery(
  payload: unknown,
  options: { event?: string; signature?: string | null; id?: string | null; base64?: boolean } = {},
): FunctionUrlEvent {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    'x-github-event': options.event ?? 'push',
    ...(options.id === null ? {} : { 'x-github-delivery': options.id ?? DELIVERY }),
    'content-type': 'application/json',
  };
  if (options.signature !== null) headers['x-hub-signature-256'] = options.signature ?? sign(body);
  return options.base64
    ? { headers, body: Buffer.from(body).toString('base64'), isBase64Encoded: true }
    : { headers, body, isBase64Encoded: false };
}

describe('verifySignature', () => {
  test('GIVEN the HMAC of the body with the secret WHEN verified THEN it is valid', () => {
    expect(verifySignature(Buffer.from('{"a":1}'), sign('{"a":1}'), SECRET)).toBe('valid');
  });
  test('fails when the signature was made with another secret', () => {
    expect(verifySignature(Buffer.from('{"a":1}'), sign('{"a":1}', 'other'), SECRET)).toBe('mismatch');
  });
  test('fails when the body differs from the signed one by one byte', () => {
    expect(verifySignature(Buffer.from('{"a":2}'), sign('{"a":1}'), SECRET)).toBe('mismatch');
  });
  test('fails when the signature is absent', () => {
    expect(verifySignature(Buffer.from('x'), undefined, SECRET)).toBe('missing');
  });
  test('fails when the signature is the SHA-1 header format', () => {
    expect(verifySignature(Buffer.from('x'), 'sha1=abcdef', SECRET)).toBe('malformed');
  });
  test('fails (without throwing) when the hex digest is truncated', () => {
    expect(verifySignature(Buffer.from('x'), sign('x').slice(0, 20), SECRET)).toBe('mismatch');
  });
});

describe('rawBody', () => {
  test('GIVEN a base64-encoded function URL body WHEN read THEN the decoded bytes are returned', () => {
    expect(rawBody({ body: Buffer.from('héllo').toString('base64'), isBase64Encoded: true }).toString('utf8')).toBe('héllo');
  });
});

describe('classify', () => {
  test('GIVEN a push to fabric/demo WHEN classified THEN it is a push of that commit', () => {
    expect(classify('push', pushPayload())).toEqual({
      kind: 'push',
      repository: 'octo/fabrics',
      branch: 'fabric/demo',
      name: 'demo',
      commit: COMMIT,
    });
  });
  test('GIVEN a push to main WHEN classified THEN it is ignored with a reason', () => {
    expect(classify('push', pushPayload({ ref: 'refs/heads/main' }))).toEqual({
      kind: 'ignore',
      reason: expect.stringContaining('refs/heads/main'),
    });
  });
  test('GIVEN a fabric branch whose name is not a fabric name as written WHEN classified THEN misnamed, naming the branch to use', () => {
    expect(classify('push', pushPayload({ ref: 'refs/heads/fabric/demo-' }))).toEqual({
      kind: 'misnamed',
      reason: 'branch fabric/demo-: does not name a fabric: a fabric named demo lives on branch fabric/demo',
    });
    expect(classify('push', pushPayload({ ref: 'refs/heads/fabric/d\u00e9mo' })).kind).toBe('misnamed');
    // Its deletion concerns no fabric.
    expect(classify('push', pushPayload({ ref: 'refs/heads/fabric/demo-', deleted: true, after: '0'.repeat(40) })).kind).toBe('ignore');
  });
  test('GIVEN a tag named fabric/demo WHEN classified THEN it is ignored', () => {
    expect(classify('push', pushPayload({ ref: 'refs/tags/fabric/demo' })).kind).toBe('ignore');
  });
  test('GIVEN a branch deletion WHEN classified THEN it is a deletion, not a push', () => {
    expect(classify('push', pushPayload({ deleted: true, after: '0'.repeat(40) }))).toMatchObject({
      kind: 'deleted',
      name: 'demo',
      before: 'a'.repeat(40),
    });
  });
  test('GIVEN an issues event WHEN classified THEN it is ignored', () => {
    expect(classify('issues', {}).kind).toBe('ignore');
  });
  test('fails when the push has no repository', () => {
    expect(classify('push', { ref: 'refs/heads/fabric/demo', after: COMMIT }).kind).toBe('invalid');
  });
});

describe('buildExecutionRequest', () => {
  test('GIVEN a verified push and its spec WHEN built THEN the input is a provision with the GitHub source', () => {
    const push = classify('push', pushPayload());
    if (push.kind !== 'push') throw new Error('expected a push');
    expect(buildExecutionRequest(STATE_MACHINE, push, SPEC)).toEqual({
      stateMachineArn: STATE_MACHINE,
      name: 'demo-0123456789ab',
      input: {
        action: 'provision',
        spec: SPEC,
        source: { provider: 'github', repository: 'octo/fabrics', branch: 'fabric/demo', commit: COMMIT },
      },
    });
  });
});

describe('receive', () => {
  const sfnMock = mockClient(SFNClient);
  const eventsMock = mockClient(EventBridgeClient);
  const dynamodbMock = mockClient(DynamoDBClient);
  const NOW = new Date('2026-11-26T10:00:00Z');
  const NOW_S = NOW.getTime() / 1000;
  let fetched: string[];
  const deps = (): ReceiverDeps => ({
    webhookSecret: async () => SECRET,
    githubToken: async () => 'token-1',
    sfn: new SFNClient({ region: 'us-east-2' }),
    events: new EventBridgeClient({ region: 'us-east-2' }),
    deliveries: { dynamodb: new DynamoDBClient({ region: 'us-east-2' }), table: 'deliveries' },
    now: () => NOW,
    stateMachineArn: STATE_MACHINE,
    eventBusName: 'default',
    githubApiUrl: 'https://github.test',
    maxBodyBytes: 4096,
    fetchImpl: (async (url: string) => {
      fetched.push(url);
      return new Response(JSON.stringify(SPEC), { status: 200 });
    }) as unknown as typeof fetch,
  });
  beforeEach(() => {
    sfnMock.reset();
    eventsMock.reset();
    dynamodbMock.reset();
    dynamodbMock.on(PutItemCommand).resolves({});
    fetched = [];
    sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'no', $metadata: {} }));
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date() });
    eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  });

  test('GIVEN a signed base64-encoded push WHEN received THEN 202 and one StartExecution with the deterministic name', async () => {
    const response = await receive(delivery(pushPayload(), { base64: true }), deps());
    expect(response.statusCode).toBe(202);
    expect(sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name)).toEqual(['demo-0123456789ab']);
    expect(fetched).toEqual([`https://github.test/repos/octo/fabrics/contents/fabric.json?ref=${COMMIT}`]);
  });

  test('GIVEN two deliveries racing WHEN the second StartExecution says ExecutionAlreadyExists THEN it answers 200 duplicate', async () => {
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const response = await receive(delivery(pushPayload(), { id: '9b2f4c1e-0d3a-4e5f-8a6b-7c8d9e0f1a2b' }), deps());
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ duplicate: true });
  });

  test('GIVEN a signed non-push event whose body is not JSON WHEN received THEN it is ignored (202), its body unread', async () => {
    const body = 'not json';
    const response = await receive(
      { headers: { 'x-github-event': 'ping', 'x-hub-signature-256': sign(body) }, body, isBase64Encoded: false },
      deps(),
    );
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toEqual({ ignored: true, reason: expect.stringContaining('ping') });
    expect(sfnMock.calls()).toHaveLength(0);
  });

  test('fails when the body is over the limit: 413 before any signature work or AWS call', async () => {
    const big = delivery(pushPayload({ padding: 'x'.repeat(5000) }), { signature: 'sha256=00' });
    const response = await receive(big, {
      ...deps(),
      webhookSecret: async () => {
        throw new Error('must not be read');
      },
    });
    expect(response.statusCode).toBe(413);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  test('fails when the fabric.json is missing at the commit: 422 and no execution', async () => {
    const response = await receive(delivery(pushPayload()), {
      ...deps(),
      fetchImpl: (async () => new Response('{"message":"Not Found"}', { status: 404 })) as unknown as typeof fetch,
    });
    expect(response.statusCode).toBe(422);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  const answering = (status: number, headers: Record<string, string> = {}) =>
    (async () => new Response('{"message":"Not Found"}', { status, headers })) as unknown as typeof fetch;

  test.each([404, 401, 403])(
    'fails when fabric.json is read without a token and GitHub answers %i: 422 naming the token option a private repository needs',
    async (status) => {
      const response = await receive(delivery(pushPayload()), {
        ...deps(),
        githubToken: async () => undefined,
        fetchImpl: answering(status),
      });
      expect(response.statusCode).toBe(422);
      expect(JSON.parse(response.body)).toEqual({
        error: 'SpecNotReadable',
        reason:
          `GitHub answered ${status} for fabric.json in octo/fabrics at ${COMMIT}, read without a token. ` +
          'If the repository is private, the webhook needs a token that can read its contents: store one in Secrets Manager ' +
          'and pass it with ' +
          'the githubTokenSecret option of the GitHub webhook (`npx cdk deploy -c fabricctl:githubTokenSecretArn=<secret ARN>`). ' +
          'If it is public, commit a fabric.json at the root of the branch (fabricctl init writes one).',
      });
      expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    },
  );

  test('fails when fabric.json is missing and a token is configured: 422 saying not found, without suggesting a token', async () => {
    const response = await receive(delivery(pushPayload()), { ...deps(), fetchImpl: answering(404) });
    expect(response.statusCode).toBe(422);
    expect(JSON.parse(response.body).reason).toBe(
      `fabric.json not found in octo/fabrics at ${COMMIT}: ` +
        `commit a fabric.json at the root of the branch (fabricctl init writes one), ` +
        `and check that the webhook's token can read the repository`,
    );
  });

  test('fails when the anonymous rate limit is used up (403, none remaining): thrown, so GitHub can redeliver later', async () => {
    const limited = answering(403, { 'x-ratelimit-remaining': '0' });
    await expect(receive(delivery(pushPayload()), { ...deps(), githubToken: async () => undefined, fetchImpl: limited })).rejects.toThrow(
      /answered 403/,
    );
  });

  test('fails when GitHub answers 500: the error is thrown so the delivery is marked failed', async () => {
    await expect(
      receive(delivery(pushPayload()), {
        ...deps(),
        fetchImpl: (async () => new Response('boom', { status: 500 })) as unknown as typeof fetch,
      }),
    ).rejects.toThrow(/500/);
  });

  /** The delivery-log writes, in order, as plain PutItem inputs. */
  const deliveryWrites = () => dynamodbMock.commandCalls(PutItemCommand).map((c) => c.args[0].input);
  const claim = {
    TableName: 'deliveries',
    Item: {
      delivery: { S: DELIVERY },
      status: { S: 'claimed' },
      leaseUntil: { N: String(NOW_S + 120) },
      expiresAt: { N: String(NOW_S + 30 * 24 * 3600) },
    },
    ConditionExpression: 'attribute_not_exists(#delivery) OR #leaseUntil < :now',
    ExpressionAttributeNames: { '#delivery': 'delivery', '#leaseUntil': 'leaseUntil' },
    ExpressionAttributeValues: { ':now': { N: String(NOW_S) } },
  };
  const settled = (status: 'handled' | 'released') => ({
    TableName: 'deliveries',
    Item: {
      delivery: { S: DELIVERY },
      status: { S: status },
      expiresAt: { N: String(NOW_S + 30 * 24 * 3600) },
      ...(status === 'released' ? { leaseUntil: { N: '0' } } : {}),
    },
  });

  test(
    'GIVEN a new signed push WHEN received ' +
      'THEN its delivery id is claimed before anything starts and kept 30 days, with no lease, once the run started',
    async () => {
      expect((await receive(delivery(pushPayload()), deps())).statusCode).toBe(202);
      expect(deliveryWrites()).toEqual([claim, settled('handled')]);
    },
  );

  test(
    'GIVEN a delivery id seen before WHEN the delivery is replayed ' +
      'THEN 200 duplicate delivery, and neither GitHub nor Step Functions is asked',
    async () => {
      dynamodbMock
        .on(PutItemCommand)
        .rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
      const response = await receive(delivery(pushPayload()), deps());
      expect({ status: response.statusCode, body: JSON.parse(response.body) }).toEqual({
        status: 200,
        body: { status: 'duplicate delivery' },
      });
      expect(sfnMock.calls()).toHaveLength(0);
      expect(fetched).toEqual([]);
    },
  );

  test('GIVEN a deletion delivered twice WHEN the id is seen before THEN the Fabric Branch Deleted event is not put again', async () => {
    dynamodbMock
      .on(PutItemCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    const response = await receive(delivery(pushPayload({ deleted: true, after: '0'.repeat(40) })), deps());
    expect(JSON.parse(response.body)).toEqual({ status: 'duplicate delivery' });
    expect(eventsMock.calls()).toHaveLength(0);
  });

  test('fails when GitHub cannot be read: the claim is released, so a redelivery under the same id is handled', async () => {
    await expect(
      receive(delivery(pushPayload()), {
        ...deps(),
        fetchImpl: (async () => new Response('boom', { status: 500 })) as unknown as typeof fetch,
      }),
    ).rejects.toThrow(/500/);
    expect(deliveryWrites()).toEqual([claim, settled('released')]);
  });

  test('fails when fabric.json is unreadable (422): the claim is released, so the pusher can fix it and redeliver', async () => {
    const response = await receive(delivery(pushPayload()), {
      ...deps(),
      fetchImpl: (async () => new Response('{}', { status: 404 })) as unknown as typeof fetch,
    });
    expect(response.statusCode).toBe(422);
    expect(deliveryWrites()).toEqual([claim, settled('released')]);
  });

  test('fails when a signed push has no X-GitHub-Delivery: 400 saying it is required, nothing recorded or started', async () => {
    const response = await receive(delivery(pushPayload(), { id: null }), deps());
    expect({ status: response.statusCode, body: JSON.parse(response.body) }).toEqual({
      status: 400,
      body: {
        error: 'DeliveryIdMissing',
        reason: 'X-GitHub-Delivery is required on a push: GitHub sends a GUID with every delivery, and replays are refused by it',
      },
    });
    expect(dynamodbMock.calls()).toHaveLength(0);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  test('fails when a signed push has an X-GitHub-Delivery that is not a GUID: 400 naming the value, nothing recorded', async () => {
    const response = await receive(delivery(pushPayload(), { id: 'replay-1' }), deps());
    expect({ status: response.statusCode, body: JSON.parse(response.body) }).toEqual({
      status: 400,
      body: {
        error: 'DeliveryIdInvalid',
        reason: 'X-GitHub-Delivery must be the GUID GitHub sends (8-4-4-4-12 hexadecimal digits); got "replay-1"',
      },
    });
    expect(dynamodbMock.calls()).toHaveLength(0);
  });

  test('fails when the push is not signed: 401 and its delivery id is not recorded', async () => {
    expect((await receive(delivery(pushPayload(), { signature: null }), deps())).statusCode).toBe(401);
    expect((await receive(delivery(pushPayload(), { signature: sign('{}', 'guess') }), deps())).statusCode).toBe(401);
    expect(dynamodbMock.calls()).toHaveLength(0);
  });

  test('GIVEN a signed ping without a delivery id WHEN received THEN it is ignored (202) and nothing is recorded', async () => {
    const body = '{}';
    const response = await receive(
      { headers: { 'x-github-event': 'ping', 'x-hub-signature-256': sign(body) }, body, isBase64Encoded: false },
      deps(),
    );
    expect(response.statusCode).toBe(202);
    expect(dynamodbMock.calls()).toHaveLength(0);
  });

  test('GIVEN a signed push to another branch WHEN received THEN it is ignored and its delivery id is not recorded', async () => {
    expect((await receive(delivery(pushPayload({ ref: 'refs/heads/main' })), deps())).statusCode).toBe(202);
    expect(dynamodbMock.calls()).toHaveLength(0);
  });
});

describe('fetchSpec', () => {
  /** GitHub's contents API answering 200 with the given file text. */
  const github = (text: string): typeof fetch => (async () => new Response(text, { status: 200 })) as typeof fetch;
  const options = { apiUrl: 'https://api.github.com', repository: 'octo/fabrics', commit: COMMIT };

  test('GIVEN fabric.json with a UTF-8 byte order mark WHEN fetched THEN the spec is read', async () => {
    expect(await fetchSpec({ ...options, fetchImpl: github(`\ufeff${JSON.stringify(SPEC)}`) })).toEqual(SPEC);
  });

  test('fails when fabric.json is larger than a run can take: SpecNotReadable 422 with its size, before it is parsed', async () => {
    const text = `{"name": "demo", "domain": "example.com", "tags": {"a": "${'x'.repeat(70_000)}"}}`;
    await expect(fetchSpec({ ...options, fetchImpl: github(text) })).rejects.toMatchObject({
      name: 'SpecNotReadable',
      status: 422,
      message:
        `fabric.json in octo/fabrics at ${COMMIT} is ${text.length} bytes, over 65536: ` +
        'a spec is a few hundred bytes (fabricctl init writes one), and a run takes at most 256 KiB of input',
    });
  });

  test('fails when fabric.json nests deeper than any spec: SpecNotReadable 422 naming the field, not a RangeError', async () => {
    // As deep as fits under MAX_SPEC_BYTES: deep enough that a recursive walk would overflow the stack.
    const text = `{"name": "demo", "domain": "example.com", "tags": {"a": ${'['.repeat(30_000)}${']'.repeat(30_000)}}}`;
    await expect(fetchSpec({ ...options, fetchImpl: github(text) })).rejects.toMatchObject({
      name: 'SpecNotReadable',
      status: 422,
      message:
        `fabric.json in octo/fabrics at ${COMMIT}: tags.a.0.0.0.0.0.0.0.0 is a value nested more than 10 levels deep; ` +
        `remove the nesting: a fabric spec nests at most 3 levels (kubernetes.nodes.min), ` +
        `see the spec reference in README.md`,
    });
  });
});
