import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { DEFAULT_REGION } from '../domain/spec';
import {
  LocalAccountNeedsSources,
  LocalAccountNotRunning,
  LocalAccountRunning,
  LocalAccountStartFailed,
  localAccountStatus,
  runningLocalAccount,
  startLocalAccount,
  stopLocalAccount,
} from '../local/account/control';
import { LocalAccountState, localHome } from '../local/account/home';
import { assertLocalPrerequisites } from '../local/prerequisites';
import type { ApprovalRequest } from '../domain/contract';
import { approve, pendingApproval, stepFunctionsTokens } from './approval';
import type { AwsClientFactory, AwsClients } from './aws';
import type { CliDeps, GlobalOptions } from './commands';
import { CliError, EXIT, ExitCode, printJson, table, wantsJson } from './io';
import { DEFAULT_STACK } from './remote';

/**
 * `fabricctl local start|status|stop`, and what makes the other commands' `--local` work against a
 * running local account: AWS clients pointed at its emulator and its Step Functions endpoint, and
 * its account.json in place of the stack's CloudFormation outputs.
 */

function homeOf(deps: CliDeps): string {
  const home = localHome(deps.io.env);
  if (home === undefined)
    throw new CliError(
      EXIT.USAGE,
      'LocalHomeUnknown',
      'set FABRICCTL_LOCAL_HOME (or HOME) to the folder the local account keeps its state in',
    );
  return home;
}

/** The running account, or `LocalAccountNotRunning` (exit 3). */
export function requireLocalAccount(deps: CliDeps): LocalAccountState {
  const home = localHome(deps.io.env);
  const state = runningLocalAccount(home);
  if (!state) {
    const error = new LocalAccountNotRunning(home);
    throw new CliError(EXIT.NOT_FOUND, error.name, error.message);
  }
  return state;
}

/** The running account, if there is one (the `up|plan|down --local` choice). */
export function findLocalAccount(deps: CliDeps): LocalAccountState | undefined {
  return runningLocalAccount(localHome(deps.io.env));
}

/** DescribeStacks answered from account.json: the stack the local account stands for, and no other. */
function stackLookup(state: LocalAccountState): Pick<CloudFormationClient, 'send'> {
  const send = async (command: unknown): Promise<unknown> => {
    if (!(command instanceof DescribeStacksCommand)) throw new Error('the local account answers CloudFormation DescribeStacks only');
    const name = command.input.StackName ?? DEFAULT_STACK;
    if (name !== DEFAULT_STACK) {
      const error = new Error(
        `Stack with id ${name} does not exist (the local account in ${state.home} stands for stack ${DEFAULT_STACK})`,
      );
      error.name = 'ValidationError';
      throw error;
    }
    return {
      Stacks: [
        {
          StackName: name,
          StackStatus: 'CREATE_COMPLETE',
          Outputs: Object.entries(state.stackOutputs ?? {}).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
        },
      ],
    };
  };
  return { send } as unknown as Pick<CloudFormationClient, 'send'>;
}

/** Clients of the local account: AWS services at its emulator, Step Functions at its own endpoint. */
export function localAccountClients(state: LocalAccountState): AwsClientFactory {
  const motoEndpoint = state.moto?.endpoint;
  const sfnEndpoint = state.stepFunctions?.endpoint;
  if (!motoEndpoint || !sfnEndpoint)
    throw new CliError(
      EXIT.FAILED,
      'LocalAccountIncomplete',
      `the local account in ${state.home} has no emulator or Step Functions endpoint in account.json: ` +
        `fabricctl local stop, then start it again`,
    );
  // Fake credentials: nothing pointed here can reach a real account.
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  return (region): AwsClients => {
    const moto = { region, endpoint: motoEndpoint, credentials, maxAttempts: 3 };
    return {
      region,
      cfn: stackLookup(state),
      sfn: new SFNClient({ region, endpoint: sfnEndpoint, credentials, maxAttempts: 3 }),
      s3: new S3Client({ ...moto, forcePathStyle: true }),
      logs: new CloudWatchLogsClient(moto),
      ec2: new EC2Client(moto),
      sts: new STSClient(moto),
      dynamodb: new DynamoDBClient(moto),
    };
  };
}

/**
 * The command's dependencies against the account: its clients, and its region unless `--region`
 * says otherwise (AWS_REGION is for the real account, not this one).
 */
export function localAccountDeps(deps: CliDeps, state: LocalAccountState): CliDeps {
  const env: NodeJS.ProcessEnv = { ...deps.io.env, AWS_REGION: state.region, AWS_DEFAULT_REGION: state.region };
  delete env.AWS_PROFILE;
  return { ...deps, io: { ...deps.io, env }, clients: localAccountClients(state), configRegion: async () => state.region };
}

/**
 * `up --local --approve` against the account: the run asks as a cloud run does (its token on the
 * lock item), and this answers it for the user once it asks. Stops when `signal` aborts.
 */
export function approveWhenAsked(
  clients: AwsClients,
  lockTable: string,
  name: string,
  executionArn: string,
  signal: AbortSignal,
  onAnswer: (request: ApprovalRequest) => void,
): Promise<void> {
  const dynamodb = clients.dynamodb;
  if (!dynamodb) return Promise.resolve();
  return (async () => {
    while (!signal.aborted) {
      try {
        const request = await pendingApproval(dynamodb, lockTable, name);
        if (request.execution === executionArn) {
          await approve(request, stepFunctionsTokens(clients.sfn), 'local user (--approve)', new Date());
          onAnswer(request);
          return;
        }
      } catch (error) {
        if ((error as Error).name !== 'NotAwaitingApproval') throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
}

// ---------- local start, status, stop ----------

export interface LocalStartOptions extends GlobalOptions {
  readonly port?: string;
  readonly verbose?: boolean;
  /** `name=dir`: CodeCommit repositories answered from local git work trees. */
  readonly repository?: readonly string[];
}

/** `--repository name=dir` as name -> absolute path of a git work tree. */
export function parseRepositories(values: readonly string[], cwd: string): Record<string, string> {
  const repositories: Record<string, string> = {};
  for (const value of values) {
    const match = /^([\w.-]{1,100})=(.+)$/.exec(value);
    const dir = match ? resolve(cwd, match[2] ?? '') : '';
    const isWorkTree =
      match !== null && spawnSync('git', ['-C', dir, 'rev-parse', '--is-inside-work-tree'], { encoding: 'utf8' }).stdout.trim() === 'true';
    if (!match || !isWorkTree) {
      throw new CliError(
        EXIT.USAGE,
        'RepositoryInvalid',
        `--repository ${JSON.stringify(value)}: give NAME=DIR, ` +
          `a CodeCommit repository name and the folder of a local git work tree holding its branches`,
      );
    }
    repositories[match[1] ?? ''] = dir;
  }
  return repositories;
}

function describeState(state: LocalAccountState): string {
  const rows: string[][] = [['daemon', String(state.daemon.pid), '-', `log ${state.daemon.log}`]];
  if (state.moto)
    rows.push([
      'AWS emulator (moto)',
      String(state.moto.pid),
      state.moto.endpoint,
      state.moto.replayedRequests > 0 ? `${state.moto.replayedRequests} recorded requests replayed` : 'new',
    ]);
  if (state.stepFunctions)
    rows.push(['Step Functions', String(state.daemon.pid), state.stepFunctions.endpoint, state.stepFunctions.stateMachineArn]);
  if (state.publicDns) rows.push(['public DNS stand-in', String(state.daemon.pid), state.publicDns.address, '']);
  if (state.codeCommit)
    rows.push([
      'CodeCommit stand-in',
      String(state.daemon.pid),
      state.codeCommit.endpoint,
      Object.keys(state.codeCommit.repositories).join(', '),
    ]);
  for (const [cluster, api] of Object.entries(state.apiServers ?? {}))
    rows.push([`Kubernetes API stand-in`, String(state.daemon.pid), api.url, cluster]);
  return table(['PART', 'PID', 'ENDPOINT', ''], rows);
}

export async function localStartCommand(deps: CliDeps, options: LocalStartOptions): Promise<ExitCode> {
  const home = homeOf(deps);
  const port = options.port === undefined ? undefined : Number(options.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535))
    throw new CliError(EXIT.USAGE, 'PortInvalid', `--port ${options.port}: give a TCP port number (0 for a free one)`);
  const repositories = parseRepositories(options.repository ?? [], deps.io.cwd);
  // Its runs need what local runs need: a missing tool is named now, not in a build later.
  (deps.checkLocalPrerequisites ?? assertLocalPrerequisites)({});
  let state: LocalAccountState;
  try {
    state = await startLocalAccount({ home, region: options.region ?? DEFAULT_REGION, port, repositories, verbose: options.verbose });
  } catch (error) {
    if (error instanceof LocalAccountRunning) throw new CliError(EXIT.FAILED, error.name, error.message, error.state);
    if (error instanceof LocalAccountStartFailed) throw new CliError(EXIT.FAILED, error.name, error.message);
    if (error instanceof LocalAccountNeedsSources) throw new CliError(EXIT.USAGE, error.name, error.message);
    throw error;
  }
  if (wantsJson(options)) {
    printJson(deps.io, state);
    return EXIT.OK;
  }
  const sfn = state.stepFunctions;
  deps.io.out(
    `local account running in ${home} (region ${state.region}, account ${state.accountId})\n${describeState(state)}` +
      `\nnext:\n  fabricctl up --local fabric.json         # runs in this account; status, list, logs, approve, down take --local too\n` +
      (sfn ? `  aws stepfunctions list-executions --endpoint-url ${sfn.endpoint} --state-machine-arn ${sfn.stateMachineArn}\n` : '') +
      `  fabricctl local stop                      # state is kept in ${home}\n`,
  );
  return EXIT.OK;
}

export async function localStatusCommand(deps: CliDeps, options: GlobalOptions): Promise<ExitCode> {
  const home = homeOf(deps);
  const status = await localAccountStatus(home);
  const exit = status.status === 'stopped' ? EXIT.NOT_FOUND : status.status === 'degraded' ? EXIT.FAILED : EXIT.OK;
  if (wantsJson(options)) {
    printJson(deps.io, status);
    return exit;
  }
  if (status.status === 'stopped') {
    deps.io.out(`no local account runs in ${home} (fabricctl local start starts one)\n`);
    return exit;
  }
  deps.io.out(
    `local account in ${home}: ${status.status}${status.state ? ` since ${status.state.startedAt}, region ${status.state.region}` : ''}\n`,
  );
  deps.io.out(
    table(
      ['PART', 'PID', 'ENDPOINT', 'ALIVE'],
      status.components.map((c) => [c.name, c.pid === undefined ? '-' : String(c.pid), c.endpoint ?? '-', c.alive ? 'yes' : 'no']),
    ),
  );
  if (status.status === 'degraded')
    deps.io.out('some parts are gone: fabricctl local stop, then fabricctl local start (the state in the folder is kept)\n');
  return exit;
}

export async function localStopCommand(deps: CliDeps, options: GlobalOptions): Promise<ExitCode> {
  const home = homeOf(deps);
  const report = await stopLocalAccount(home);
  if (wantsJson(options)) {
    printJson(deps.io, report);
    return report.remaining.length === 0 ? EXIT.OK : EXIT.FAILED;
  }
  if (!report.wasRunning) {
    deps.io.out(`no local account runs in ${home}; nothing to stop\n`);
    return EXIT.OK;
  }
  const names = (parts: readonly { name: string; pid: number }[]) => parts.map((p) => `${p.name} (pid ${p.pid})`).join(', ');
  if (report.stopped.length > 0)
    deps.io.out(`stopped ${names(report.stopped)}; the account's state stays in ${home} for the next fabricctl local start\n`);
  else deps.io.out(`nothing was running any more; cleared ${home}/account.json\n`);
  if (report.remaining.length > 0) {
    deps.io.err(`would not stop: ${names(report.remaining)}\n`);
    return EXIT.FAILED;
  }
  return EXIT.OK;
}
