import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { dirname } from 'node:path';
import { DeleteItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { TestApiServer } from '../standins/api-server';
import { CodeCommitStandIn, startCodeCommitStandIn } from '../standins/codecommit';
import { createLocalEnvironment, EMULATOR_ACCOUNT, LocalEnvironment } from '../environment';
import { Moto, startMoto } from '../moto';
import { executeLocal, localOrchestrator, prepareEmulatorFor } from '../run';
import { forgetTaskToken, isWaiting, localTaskTokens } from '../task-tokens';
import { ExecutionStore } from './executions';
import { accountPaths, LocalAccountState, readAccountState, removeAccountState, writeAccountState } from './home';
import { ExecutionRunner, LocalStepFunctions } from './sfn-service';
import { SfnEndpoint, startSfnEndpoint } from './sfn-server';
import { HELD_BY_ME, LOCK_ATTRIBUTE, lockKey } from '../../domain/lock';

/**
 * The local account's daemon: one process that keeps, until it is stopped,
 * - moto (serial-moto-server.py) recording every request to `<home>/moto/recording.jsonl` with
 *   moto's own recorder (MOTO_ENABLE_RECORDING), and replaying it at start: moto 5.2.1 has no
 *   snapshot or state file, and replaying what was asked of it, from the same random seed, gives
 *   the same resources with the same ids;
 * - the stand-ins (public DNS, one Kubernetes API per cluster), as a local run makes them;
 * - a Step Functions endpoint that runs the synthesized state machine with executeLocal and keeps
 *   its executions in `<home>/executions`.
 * What runs, and where, is written to `<home>/account.json` once all of it answers.
 */

/** The seed moto's random ids start from, so that a replay makes the ids the first run made. */
export const MOTO_SEED = 20261126;

/** The state machine the account serves, named as the stack names it. */
export const STATE_MACHINE_NAME = 'FabricOrchestrator';

/** The callback state whose token `onApprovalRequested` reports (lib/local/run.ts). */
const APPROVAL_STATE = 'WaitForApproval';

export interface ServeOptions {
  readonly home: string;
  readonly region: string;
  /** CodeCommit repositories the runs may read `fabric.json` from: name -> local git work tree. */
  readonly repositories?: Readonly<Record<string, string>>;
  /** The Step Functions endpoint's port. @default a free one */
  readonly port?: number;
  readonly log: (line: string) => void;
}

export interface ServedAccount {
  readonly state: LocalAccountState;
  stop(): Promise<void>;
}

async function motoApi(endpoint: string, path: string): Promise<string> {
  // node:http, not fetch: a replay of a long recording outlasts fetch's 5-minute header timeout.
  return new Promise((resolve, reject) => {
    const req = request(`${endpoint}${path}`, { method: 'POST' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200) resolve(body);
        else reject(new Error(`moto ${path} answered HTTP ${res.statusCode}: ${body.slice(0, 300)}`));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function recordedRequests(file: string): number {
  if (!existsSync(file) || statSync(file).size === 0) return 0;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '').length;
}

/** The account's emulator: moto with its recorder on, brought back to where it was by a replay. */
async function startRecordingMoto(recording: string, log: (line: string) => void): Promise<{ moto: Moto; replayed: number }> {
  mkdirSync(dirname(recording), { recursive: true });
  const earlier = recordedRequests(recording);
  const moto = await startMoto({ env: { MOTO_ENABLE_RECORDING: 'true', MOTO_RECORDER_FILEPATH: recording } });
  try {
    if (earlier === 0) {
      await motoApi(moto.endpoint, `/moto-api/seed?a=${MOTO_SEED}`);
      log(`AWS emulator: moto_server on ${moto.endpoint} (pid ${moto.pid}), new: every request is recorded to ${recording}`);
    } else {
      const started = Date.now();
      await motoApi(moto.endpoint, '/moto-api/recorder/replay-recording');
      log(
        `AWS emulator: moto_server on ${moto.endpoint} (pid ${moto.pid}), ` +
          `${earlier} recorded requests replayed in ${Math.round((Date.now() - started) / 100) / 10} s`,
      );
    }
  } catch (error) {
    await moto.stop();
    throw error;
  }
  return { moto, replayed: earlier };
}

/** Locks held by executions the account's stop cut off: nobody else would release them before they expire. */
async function releaseLocksOf(lockTable: string, executionArns: readonly string[], log: (line: string) => void): Promise<void> {
  if (executionArns.length === 0) return;
  const dynamodb = new DynamoDBClient({});
  const { Items = [] } = await dynamodb.send(new ScanCommand({ TableName: lockTable, ConsistentRead: true }));
  for (const item of Items) {
    const holder = item[LOCK_ATTRIBUTE.holder]?.S;
    const fabric = item[LOCK_ATTRIBUTE.fabric]?.S;
    if (!holder || !fabric || !executionArns.includes(holder)) continue;
    try {
      await dynamodb.send(
        new DeleteItemCommand({
          TableName: lockTable,
          Key: lockKey(fabric),
          ConditionExpression: HELD_BY_ME,
          ExpressionAttributeValues: { ':me': { S: holder } },
        }),
      );
      log(`released the lock of fabric ${fabric}, held by ${holder}, which ended with the account`);
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
}

function executionRunner(env: LocalEnvironment): ExecutionRunner {
  return {
    start(execution, input, history) {
      const controller = new AbortController();
      let token: string | undefined;
      const record = (input !== null && typeof input === 'object' && !Array.isArray(input) ? input : {}) as Record<string, unknown>;
      const spec = record.spec !== null && typeof record.spec === 'object' ? (record.spec as Record<string, unknown>) : undefined;
      const done = (async () => {
        await prepareEmulatorFor(env, spec);
        return executeLocal(env, record, {
          executionName: execution.name,
          signal: controller.signal,
          onEventLog: (event) => history.log(event),
          onTask: (state, trace) => history.task(state, trace),
          onApprovalRequested: (request) => {
            token = request.taskToken;
            history.submitted(APPROVAL_STATE, { StatusCode: 200, Payload: request });
          },
        });
      })();
      return {
        done,
        stop() {
          controller.abort();
          // The interpreter no longer listens: SendTaskSuccess must answer TaskDoesNotExist.
          if (token) forgetTaskToken(token);
        },
      };
    },
  };
}

/** The stack's outputs as a deployment would show them, with the names the local account uses. */
function stackOutputs(stateMachineArn: string): Record<string, string> {
  const orchestrator = localOrchestrator();
  const outputs: Record<string, string> = { StateMachineArn: stateMachineArn, LockTableName: orchestrator.lockTable };
  const template = orchestrator.template as { Outputs?: Record<string, { Value?: unknown }> };
  const prefix = template.Outputs?.StateBucketPrefix?.Value;
  if (typeof prefix === 'string') outputs.StateBucketPrefix = prefix;
  return outputs;
}

export async function serveLocalAccount(options: ServeOptions): Promise<ServedAccount> {
  const { home, region, log } = options;
  const paths = accountPaths(home);
  const { moto, replayed } = await startRecordingMoto(paths.recording, log);
  let env: LocalEnvironment | undefined;
  let codeCommit: CodeCommitStandIn | undefined;
  let sfn: SfnEndpoint | undefined;
  let service: LocalStepFunctions | undefined;
  const orchestrator = localOrchestrator();
  const lockTable = orchestrator.lockTable;
  const stop = async (): Promise<void> => {
    if (service) {
      const running = service.runningExecutions();
      service.stopAll();
      await releaseLocksOf(lockTable, running, log).catch((error: unknown) => log(`could not release locks: ${String(error)}`));
    }
    await sfn?.stop();
    await codeCommit?.stop();
    await env?.stop();
    await moto.stop();
  };
  try {
    env = await createLocalEnvironment({ endpoint: moto.endpoint, region, log });
    // A push's run reads fabric.json at its commit from CodeCommit (not in moto): a stand-in answers
    // from local repositories, and RepositoryDoesNotExistException for any other.
    const repositories = options.repositories ?? {};
    codeCommit = await startCodeCommitStandIn(repositories);
    process.env.AWS_ENDPOINT_URL_CODECOMMIT = codeCommit.endpoint;
    log(
      `CodeCommit stand-in on ${codeCommit.endpoint}: GetFile from ${
        Object.keys(repositories).length === 0
          ? 'no repository (local start --repository name=dir adds one)'
          : Object.entries(repositories)
              .map(([name, dir]) => `${name} (${dir})`)
              .join(', ')
      }`,
    );
    const stateMachineArn = `arn:aws:states:${region}:${EMULATOR_ACCOUNT}:stateMachine:${STATE_MACHINE_NAME}`;
    service = new LocalStepFunctions({
      stateMachine: {
        arn: stateMachineArn,
        name: STATE_MACHINE_NAME,
        definition: orchestrator.asl,
        roleArn: `arn:aws:iam::${EMULATOR_ACCOUNT}:role/fabricctl-local-orchestrator`,
        creationDate: Date.now(),
      },
      region,
      store: new ExecutionStore(paths.executions),
      runner: executionRunner(env),
      tokens: { ...localTaskTokens, isWaiting },
    });
    await env.ensureLockTable(lockTable);
    const interrupted = service.load();
    if (interrupted.length > 0) log(`${interrupted.length} execution(s) that ran when the account stopped are recorded as ABORTED`);
    await releaseLocksOf(
      lockTable,
      interrupted.map((e) => e.record.executionArn),
      log,
    );
    const served = service;
    sfn = await startSfnEndpoint((action, body) => served.handle(action, body), { port: options.port });
    log(`Step Functions endpoint on ${sfn.endpoint}: ${stateMachineArn}, the synthesized definition run by aws-local-stepfunctions`);

    const state: LocalAccountState = {
      version: 1,
      status: 'running',
      home,
      startedAt: new Date().toISOString(),
      region,
      accountId: EMULATOR_ACCOUNT,
      daemon: { pid: process.pid, log: paths.log },
      moto: { pid: moto.pid, endpoint: moto.endpoint, recording: paths.recording, replayedRequests: replayed },
      stepFunctions: { endpoint: sfn.endpoint, stateMachineArn },
      publicDns: { address: env.publicDns?.address ?? '' },
      codeCommit: { endpoint: codeCommit.endpoint, repositories },
      apiServers: {},
      stackOutputs: stackOutputs(stateMachineArn),
    };
    trackApiServers(env, home);
    writeAccountState(home, state);
    return { state, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Each Kubernetes API stand-in a run starts is added to account.json (kubeconfig --local points at it). */
function trackApiServers(env: LocalEnvironment, home: string): void {
  const start = env.apiServerFor.bind(env);
  const known = new Set<string>();
  env.apiServerFor = async (clusterName: string): Promise<TestApiServer> => {
    const server = await start(clusterName);
    if (!known.has(clusterName)) {
      known.add(clusterName);
      const current = readAccountState(home);
      if (current)
        writeAccountState(home, {
          ...current,
          apiServers: { ...current.apiServers, [clusterName]: { url: `https://127.0.0.1:${server.port}`, port: server.port } },
        });
    }
    return server;
  };
}

/**
 * Runs the daemon in this process until SIGTERM or SIGINT, then stops everything it started and
 * removes account.json (only its own: a file another daemon wrote is left alone).
 */
export async function runDaemon(options: Omit<ServeOptions, 'log'>): Promise<void> {
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  if (!process.env.FABRICCTL_LOCAL_VERBOSE) process.env.FABRIC_LOG_LEVEL = 'silent';
  let served: ServedAccount | undefined;
  let stopping = false;
  const shutdown = (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${why})`);
    void (served?.stop() ?? Promise.resolve())
      .catch((error: unknown) => log(`stop failed: ${String(error)}`))
      .finally(() => {
        if (readAccountState(options.home)?.daemon.pid === process.pid) removeAccountState(options.home);
        log('stopped');
        process.exit(code);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  // A daemon that died on an error would leave moto behind: stop everything instead.
  process.on('uncaughtException', (error) => {
    log(`uncaught: ${error.stack ?? String(error)}`);
    shutdown('uncaught exception', 1);
  });
  process.on('unhandledRejection', (error) => {
    log(`unhandled rejection: ${(error as Error)?.stack ?? String(error)}`);
    shutdown('unhandled rejection', 1);
  });
  try {
    served = await serveLocalAccount({ ...options, log });
    log(`local account running in ${options.home} (pid ${process.pid})`);
  } catch (error) {
    log(`failed to start: ${(error as Error).stack ?? String(error)}`);
    shutdown('start failed', 1);
  }
}
