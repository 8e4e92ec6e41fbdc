import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidArn,
  ListExecutionsCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  TaskDoesNotExist,
} from '@aws-sdk/client-sfn';
import { ExecutionStore } from '../../lib/local/account/executions';
import { HistoryRecorder } from '../../lib/local/account/history';
import { LocalStepFunctions, RunEnd } from '../../lib/local/account/sfn-service';
import { SfnEndpoint, startSfnEndpoint } from '../../lib/local/account/sfn-server';
import {
  checkExecutionName,
  errorResponse,
  paginate,
  parseExecutionArn,
  parseSfnRequest,
  parseStateMachineArn,
  SfnServiceError,
} from '../../lib/local/account/sfn-protocol';

/**
 * The local account's Step Functions endpoint, without the daemon: the AWS JSON 1.0 wire
 * (sfn-protocol.ts), and the service (sfn-service.ts) behind a real HTTP server, called with the
 * real AWS SDK. Runs are a stand-in runner the test ends by hand; no emulator, no interpreter.
 */
const MACHINE = 'arn:aws:states:us-east-2:123456789012:stateMachine:FabricOrchestrator';
const execution = (name: string) => `arn:aws:states:us-east-2:123456789012:execution:FabricOrchestrator:${name}`;
const request = (target: string | undefined, body: string) => ({
  method: 'POST',
  headers: target === undefined ? {} : { 'x-amz-target': target },
  body,
});

describe('sfn-protocol: requests', () => {
  test('GIVEN a POST with X-Amz-Target AWSStepFunctions.StartExecution and a JSON body WHEN parsed THEN the action and parameters', () => {
    expect(parseSfnRequest(request('AWSStepFunctions.StartExecution', '{"stateMachineArn":"x","input":"{}"}'))).toEqual({
      action: 'StartExecution',
      body: { stateMachineArn: 'x', input: '{}' },
    });
  });

  test('GIVEN an empty body WHEN parsed THEN no parameters (ListStateMachines takes none)', () => {
    expect(parseSfnRequest(request('AWSStepFunctions.ListStateMachines', ''))).toEqual({ action: 'ListStateMachines', body: {} });
  });

  test('fails when the target is not AWSStepFunctions.<Action>: UnknownOperationException', () => {
    expect(() => parseSfnRequest(request('DynamoDB_20120810.PutItem', '{}'))).toThrow(
      expect.objectContaining({ type: 'UnknownOperationException' }),
    );
    expect(() => parseSfnRequest(request(undefined, '{}'))).toThrow(expect.objectContaining({ type: 'UnknownOperationException' }));
  });

  test('fails when the body is not a JSON object: SerializationException', () => {
    expect(() => parseSfnRequest(request('AWSStepFunctions.StartExecution', '{nope'))).toThrow(
      expect.objectContaining({ type: 'SerializationException' }),
    );
    expect(() => parseSfnRequest(request('AWSStepFunctions.StartExecution', '[1]'))).toThrow(
      expect.objectContaining({ type: 'SerializationException' }),
    );
  });
});

describe('sfn-protocol: errors, ARNs, names, pages', () => {
  test('GIVEN a service error WHEN answered THEN HTTP 400 with __type and message, and the type in x-amzn-errortype', () => {
    const reply = errorResponse(new SfnServiceError('ExecutionDoesNotExist', 'Execution Does Not Exist: x'), 'req-1');
    expect(reply).toEqual({
      status: 400,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'req-1', 'x-amzn-errortype': 'ExecutionDoesNotExist' },
      body: JSON.stringify({ __type: 'ExecutionDoesNotExist', message: 'Execution Does Not Exist: x' }),
    });
  });

  test('GIVEN an error of the endpoint itself WHEN answered THEN HTTP 500 InternalFailure with its message', () => {
    const reply = errorResponse(new Error('disk full'), 'req-2');
    expect([reply.status, JSON.parse(reply.body)]).toEqual([
      500,
      { __type: 'InternalFailure', message: 'the local Step Functions endpoint failed: disk full' },
    ]);
  });

  test('GIVEN ARNs WHEN parsed THEN region, account, state machine and execution name', () => {
    expect(parseStateMachineArn(MACHINE)).toEqual({ region: 'us-east-2', account: '123456789012', name: 'FabricOrchestrator' });
    expect(parseExecutionArn(execution('demo-1'))).toEqual({
      region: 'us-east-2',
      account: '123456789012',
      name: 'FabricOrchestrator',
      execution: 'demo-1',
    });
  });

  test('fails when an ARN is not a state machine or execution ARN: InvalidArn', () => {
    expect(() => parseStateMachineArn(execution('demo-1'))).toThrow(
      expect.objectContaining({ type: 'InvalidArn', message: expect.stringContaining('Invalid Arn') }),
    );
    expect(() => parseExecutionArn('arn:aws:states:us-east-2:123:execution:M:x')).toThrow(expect.objectContaining({ type: 'InvalidArn' }));
    expect(() => parseExecutionArn(MACHINE)).toThrow(expect.objectContaining({ type: 'InvalidArn' }));
  });

  test('fails when an execution name has a space, a slash or more than 80 characters: InvalidName', () => {
    for (const name of ['has space', 'a/b', 'x'.repeat(81), ''])
      expect(() => checkExecutionName(name)).toThrow(expect.objectContaining({ type: 'InvalidName' }));
    expect(() => checkExecutionName('demo-7f3c0e3b2a1d')).not.toThrow();
  });

  test('GIVEN 5 items and maxResults 2 WHEN paged THEN 2, 2, 1 and no token after the last page', () => {
    const items = [1, 2, 3, 4, 5];
    const first = paginate(items, { maxResults: 2 });
    const second = paginate(items, { maxResults: 2, nextToken: first.nextToken });
    const third = paginate(items, { maxResults: 2, nextToken: second.nextToken });
    expect([first.page, second.page, third.page, third.nextToken]).toEqual([[1, 2], [3, 4], [5], undefined]);
  });

  test('fails when the next token was not made by the endpoint: InvalidToken', () => {
    expect(() => paginate([1], { nextToken: 'bm9wZQ' })).toThrow(expect.objectContaining({ type: 'InvalidToken' }));
  });
});

/** Runs the test ends itself: `end(name, ...)` finishes one. */
function manualRunner() {
  const pending = new Map<string, { resolve: (end: RunEnd) => void; history: HistoryRecorder; stopped: boolean }>();
  return {
    runner: {
      start(record: { name: string }, _input: unknown, history: HistoryRecorder) {
        let resolve!: (end: RunEnd) => void;
        const done = new Promise<RunEnd>((r) => {
          resolve = r;
        });
        const run = { resolve, history, stopped: false };
        pending.set(record.name, run);
        return {
          done,
          stop: () => {
            run.stopped = true;
            resolve({ status: 'FAILED', error: 'ExecutionAborted', cause: 'stopped' });
          },
        };
      },
    },
    end(name: string, end: RunEnd): void {
      pending.get(name)?.resolve(end);
    },
    stopped: (name: string) => pending.get(name)?.stopped ?? false,
  };
}

const flushed = () => new Promise((resolve) => setImmediate(resolve));

describe('LocalStepFunctions behind the endpoint, called with the AWS SDK', () => {
  let endpoint: SfnEndpoint;
  let sfn: SFNClient;
  let runs: ReturnType<typeof manualRunner>;
  const waiting = new Map<string, (output: unknown) => void>();
  const service = () =>
    new LocalStepFunctions({
      stateMachine: {
        arn: MACHINE,
        name: 'FabricOrchestrator',
        definition: { StartAt: 'Done', States: { Done: { Type: 'Succeed' } } },
        roleArn: 'arn:aws:iam::123456789012:role/r',
        creationDate: Date.UTC(2026, 10, 26),
      },
      region: 'us-east-2',
      store: new ExecutionStore(undefined),
      runner: runs.runner,
      tokens: {
        isWaiting: (token) => waiting.has(token),
        sendTaskSuccess: async (token, output) => waiting.get(token)?.(output),
        sendTaskFailure: async () => undefined,
      },
    });

  beforeEach(async () => {
    runs = manualRunner();
    const local = service();
    endpoint = await startSfnEndpoint((action, body) => local.handle(action, body));
    sfn = new SFNClient({
      region: 'us-east-2',
      endpoint: endpoint.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  });
  afterEach(async () => {
    sfn.destroy();
    await endpoint.stop();
  });

  test('GIVEN a started execution WHEN described THEN RUNNING with its input and a start date the SDK reads as a Date', async () => {
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'demo-1', input: '{"action":"plan"}' }));
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: execution('demo-1') }));
    expect(started.executionArn).toBe(execution('demo-1'));
    expect(described).toMatchObject({ status: 'RUNNING', name: 'demo-1', stateMachineArn: MACHINE, input: '{"action":"plan"}' });
    expect(described.startDate).toBeInstanceOf(Date);
  });

  test('GIVEN a run that ends WHEN described THEN its status, output and stop date', async () => {
    await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'demo-2' }));
    runs.end('demo-2', { status: 'SUCCEEDED', output: { status: 'READY' } });
    await flushed();
    expect(await sfn.send(new DescribeExecutionCommand({ executionArn: execution('demo-2') }))).toMatchObject({
      status: 'SUCCEEDED',
      output: '{"status":"READY"}',
      stopDate: expect.any(Date),
    });
  });

  test('fails when the execution does not exist: the SDK throws ExecutionDoesNotExist with the message', async () => {
    const call = sfn.send(new DescribeExecutionCommand({ executionArn: execution('nope') }));
    await expect(call).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(call).rejects.toThrow(`Execution Does Not Exist: '${execution('nope')}'`);
  });

  test('fails when an ARN is malformed: InvalidArn; when it names another state machine: StateMachineDoesNotExist', async () => {
    await expect(sfn.send(new DescribeExecutionCommand({ executionArn: 'garbage' }))).rejects.toBeInstanceOf(InvalidArn);
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE.replace('FabricOrchestrator', 'Other') })),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
  });

  test(
    'GIVEN a running execution WHEN started again with the same name and input ' +
      'THEN the same execution; with another input THEN ExecutionAlreadyExists',
    async () => {
      const first = await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'demo-3', input: '{"a":1}' }));
      const again = await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'demo-3', input: '{"a":1}' }));
      expect(again.executionArn).toBe(first.executionArn);
      await expect(
        sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'demo-3', input: '{"a":2}' })),
      ).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    },
  );

  test('fails when the input is not JSON: InvalidExecutionInput', async () => {
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'demo-4', input: '{' }))).rejects.toMatchObject({
      name: 'InvalidExecutionInput',
    });
  });

  test('GIVEN a running execution WHEN stopped THEN ABORTED with the given error and cause; history ends in ExecutionAborted', async () => {
    await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'demo-5' }));
    await sfn.send(new StopExecutionCommand({ executionArn: execution('demo-5'), error: 'Manual', cause: 'not today' }));
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: execution('demo-5') }));
    expect(runs.stopped('demo-5')).toBe(true);
    expect(await sfn.send(new DescribeExecutionCommand({ executionArn: execution('demo-5') }))).toMatchObject({
      status: 'ABORTED',
      error: 'Manual',
      cause: 'not today',
    });
    expect(history.events?.map((e) => e.type)).toEqual(['ExecutionStarted', 'ExecutionAborted']);
    expect(history.events?.[1]?.executionAbortedEventDetails).toEqual({ error: 'Manual', cause: 'not today' });
  });

  test('GIVEN three executions WHEN listed with a status filter THEN newest first, only those with that status', async () => {
    for (const name of ['a', 'b', 'c']) {
      await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name }));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    runs.end('b', { status: 'FAILED', error: 'FabricSpecInvalid', cause: 'name' });
    await flushed();
    const all = await sfn.send(new ListExecutionsCommand({ stateMachineArn: MACHINE }));
    const failed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: MACHINE, statusFilter: 'FAILED' }));
    expect(all.executions?.map((e) => e.name)).toEqual(['c', 'b', 'a']);
    expect(failed.executions?.map((e) => [e.name, e.status])).toEqual([['b', 'FAILED']]);
  });

  test('fails when SendTaskSuccess names a token no task waits on: TaskDoesNotExist', async () => {
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: 'local-gone', output: '{}' }))).rejects.toBeInstanceOf(TaskDoesNotExist);
  });

  test('GIVEN a task waiting on a token WHEN SendTaskSuccess names it THEN the task gets the output as JSON', async () => {
    const answered = new Promise((resolve) => waiting.set('local-token-1', resolve));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: 'local-token-1', output: '{"approvedBy":"me"}' }));
    expect(await answered).toEqual({ approvedBy: 'me' });
  });

  test('fails when the action is not one the endpoint answers: UnknownOperationException naming those it does', async () => {
    const response = await fetch(endpoint.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'AWSStepFunctions.CreateStateMachine', 'content-type': 'application/x-amz-json-1.0' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      __type: 'UnknownOperationException',
      message: expect.stringContaining('does not implement CreateStateMachine'),
    });
  });
});

describe('LocalStepFunctions: executions kept in a folder', () => {
  test(
    'GIVEN an execution that ended and one still running WHEN a new service loads the folder ' +
      'THEN both are there, the running one ABORTED by the account stop',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sfn-store-'));
      const runs = manualRunner();
      const options = (store: ExecutionStore) => ({
        stateMachine: {
          arn: MACHINE,
          name: 'FabricOrchestrator',
          definition: { StartAt: 'Done', States: { Done: { Type: 'Succeed' } } },
          roleArn: 'r',
          creationDate: 0,
        },
        region: 'us-east-2',
        store,
        runner: runs.runner,
        tokens: { isWaiting: () => false, sendTaskSuccess: async () => undefined, sendTaskFailure: async () => undefined },
      });
      const firstStore = new ExecutionStore(dir);
      const first = new LocalStepFunctions(options(firstStore));
      await first.handle('StartExecution', { stateMachineArn: MACHINE, name: 'done-1' });
      await first.handle('StartExecution', { stateMachineArn: MACHINE, name: 'cut-1' });
      runs.end('done-1', { status: 'SUCCEEDED', output: {} });
      await flushed();
      // What a process that ends writes last (the store writes in the background otherwise).
      firstStore.flush();

      const second = new LocalStepFunctions(options(new ExecutionStore(dir)));
      const interrupted = second.load();
      expect(readdirSync(dir).sort()).toEqual(['cut-1.json', 'done-1.json']);
      expect(interrupted.map((e) => e.record.name)).toEqual(['cut-1']);
      expect(await second.handle('DescribeExecution', { executionArn: execution('done-1') })).toMatchObject({ status: 'SUCCEEDED' });
      expect(await second.handle('DescribeExecution', { executionArn: execution('cut-1') })).toMatchObject({
        status: 'ABORTED',
        error: 'LocalAccountStopped',
      });
      const history = (await second.handle('GetExecutionHistory', { executionArn: execution('cut-1') })) as { events: { type: string }[] };
      expect(history.events.map((e) => e.type)).toEqual(['ExecutionStarted', 'ExecutionAborted']);
    },
  );
});
