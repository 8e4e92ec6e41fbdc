import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { ApprovalRequest } from '../../lib/domain/contract';
import type { AwsClients } from '../../lib/cli/aws';
import { approveWhenAsked, localAccountClients, localAccountDeps, parseRepositories } from '../../lib/cli/local-account';
import { pluginArgs } from '../../lib/cli/kubeconfig';
import { findStack } from '../../lib/cli/remote';
import type { LocalAccountState } from '../../lib/local/account/home';
import { runCli } from './support';

/** What makes --local reach a running local account, without one running: account.json as the stack, clients, approvals. */
const STATE: LocalAccountState = {
  version: 1,
  status: 'running',
  home: '/tmp/account',
  startedAt: '2026-11-26T12:00:00.000Z',
  region: 'eu-west-1',
  accountId: '123456789012',
  daemon: { pid: 1, log: '/tmp/account/daemon.log' },
  moto: { pid: 2, endpoint: 'http://127.0.0.1:4566', recording: '/tmp/account/moto/recording.jsonl', replayedRequests: 0 },
  stepFunctions: {
    endpoint: 'http://127.0.0.1:4567',
    stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:FabricOrchestrator',
  },
  stackOutputs: {
    StateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:FabricOrchestrator',
    LockTableName: 'OrchestratorLockTableB74E31B8',
    StateBucketPrefix: 'fabricctl-state',
  },
};

describe('local account clients', () => {
  test("GIVEN account.json WHEN the CLI looks the stack up THEN its outputs are the account's", async () => {
    const clients = localAccountClients(STATE)('eu-west-1');
    expect(await findStack(clients.cfn, 'FabricOrchestrator')).toEqual({
      stateMachineArn: STATE.stepFunctions?.stateMachineArn,
      stateBucketPrefix: 'fabricctl-state',
      lockTableName: 'OrchestratorLockTableB74E31B8',
    });
  });

  test('fails when another stack is named: StackNotFound, as for a stack not deployed', async () => {
    const clients = localAccountClients(STATE)('eu-west-1');
    await expect(findStack(clients.cfn, 'Other')).rejects.toMatchObject({ name: 'StackNotFound' });
    await expect(clients.cfn.send(new DescribeStacksCommand({ StackName: 'FabricOrchestrator' }))).resolves.toMatchObject({
      Stacks: [{ StackName: 'FabricOrchestrator' }],
    });
  });

  test('GIVEN the account WHEN clients are made THEN Step Functions uses its endpoint, every other service its emulator', async () => {
    const clients = localAccountClients(STATE)('eu-west-1');
    const endpointOf = async (client: { config: { endpoint?: () => Promise<{ hostname: string; port?: number }> } }) => {
      const url = await client.config.endpoint?.();
      return `${url?.hostname}:${url?.port}`;
    };
    expect(await endpointOf(clients.sfn as never)).toBe('127.0.0.1:4567');
    for (const client of [clients.s3, clients.logs, clients.ec2, clients.sts, clients.dynamodb])
      expect(await endpointOf(client as never)).toBe('127.0.0.1:4566');
  });

  test("GIVEN AWS_REGION of the real account WHEN a command runs against the local account THEN the account's region, no profile", () => {
    const deps = localAccountDeps({ io: { env: { AWS_REGION: 'us-west-2', AWS_PROFILE: 'prod' } } } as never, STATE);
    expect([deps.io.env.AWS_REGION, deps.io.env.AWS_PROFILE]).toEqual(['eu-west-1', undefined]);
  });
});

describe('local start --repository', () => {
  test('GIVEN name=dir of a git work tree, relative WHEN parsed THEN the name and the absolute folder', () => {
    const repo = mkdtempSync(join(tmpdir(), 'fabricctl-repo-'));
    execFileSync('git', ['-C', repo, 'init', '-q']);
    expect(parseRepositories([`fabrics=${basename(repo)}`], dirname(repo))).toEqual({ fabrics: repo });
  });

  test('fails when the value is not NAME=DIR of a git work tree: RepositoryInvalid, exit 2', () => {
    for (const value of ['fabrics', `fabrics=${tmpdir()}/no-such-folder`, '=here']) {
      expect(() => parseRepositories([value], tmpdir())).toThrow(expect.objectContaining({ name: 'RepositoryInvalid', exitCode: 2 }));
    }
  });
});

describe('kubeconfig --local against the account', () => {
  test(
    "GIVEN --local without --endpoint WHEN the exec plugin's arguments are written " +
      'THEN --local alone: each kubectl call finds the running account again',
    () => {
      const args = pluginArgs('kc', { region: 'us-east-2', prefix: 'fabricctl-state' }, { local: true, ttl: '1h' }, undefined);
      expect(args.slice(-2)).toEqual(['1h', '--local']);
      expect(args).not.toContain('--endpoint');
    },
  );
});

describe('approveWhenAsked (up --local --approve against the account)', () => {
  const request = (execution: string): ApprovalRequest => ({
    name: 'demo',
    execution,
    taskToken: 'local-token',
    summary: { lines: ['network: 11 to add'] } as never,
    expiresAt: '2999-01-01T00:00:00Z',
  });

  const itemOf = (asking?: ApprovalRequest) => (asking ? { fabric: { S: 'demo' }, approval: { S: JSON.stringify(asking) } } : undefined);

  test("GIVEN a run that asks later WHEN watched THEN one SendTaskSuccess for its token; another run's request is left alone", async () => {
    const answers: unknown[] = [];
    const asked = [undefined, request('arn:other'), request('arn:mine')];
    const clients = {
      // The lock item as the run leaves it: no approval first, then another run's, then this run's.
      dynamodb: { send: async (_command: GetItemCommand) => ({ Item: itemOf(asked.shift()) }) },
      sfn: { send: async (command: SendTaskSuccessCommand) => void answers.push(command.input) },
    } as unknown as AwsClients;
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    try {
      const approving = approveWhenAsked(clients, 'Locks', 'demo', 'arn:mine', new AbortController().signal, () => undefined);
      for (let i = 0; i < 3; i += 1) await jest.advanceTimersByTimeAsync(1000);
      await approving;
    } finally {
      jest.useRealTimers();
    }
    expect(answers).toEqual([{ taskToken: 'local-token', output: expect.stringContaining('"approvedBy":"local user (--approve)"') }]);
  });
});

describe('fabricctl local status without an account', () => {
  test('GIVEN an empty folder WHEN local status THEN exit 3 and how to start one', async () => {
    const run = await runCli(['local', 'status'], { env: { FABRICCTL_LOCAL_HOME: '/tmp/fabricctl-no-such-account' } });
    expect([run.code, run.out]).toEqual([
      3,
      'no local account runs in /tmp/fabricctl-no-such-account (fabricctl local start starts one)\n',
    ]);
  });

  test('fails when neither FABRICCTL_LOCAL_HOME nor HOME is set: LocalHomeUnknown, exit 2', async () => {
    const run = await runCli(['local', 'start'], { env: {} });
    expect([run.code, run.err]).toEqual([
      2,
      'error: LocalHomeUnknown: set FABRICCTL_LOCAL_HOME (or HOME) to the folder the local account keeps its state in\n',
    ]);
  });
});
