/**
 * A local STAND-IN FOR AWS CODEBUILD, used by local mode for `codebuild:startBuild.sync` tasks
 * (CodeBuild builds cannot run in the AWS emulator). It is not CodeBuild: it runs the real
 * buildspec with the machine's own bash, in the source directory, with no container.
 *
 * What it mirrors, because the state machine depends on it:
 * - buildspec version 0.2: phases install, pre_build, build, post_build run in ONE shell session,
 *   so `cd`, variables and exports persist from command to command and phase to phase;
 * - a failing command fails its phase and skips the phase's remaining commands; `finally` still runs;
 * - phase transitions: a failure in install or pre_build skips build and post_build; a failure in
 *   build still runs post_build; `on-failure: CONTINUE` goes on to the next phase (the build still
 *   fails); `CODEBUILD_BUILD_SUCCEEDING` is 1 or 0 as in CodeBuild;
 * - environment precedence: buildspec `env.variables` < project environment < start-build overrides;
 * - `env.exported-variables` are read from the shell after the last phase;
 * - the result is the response Step Functions gives for `startBuild.sync` (`{ Build: {...} }`,
 *   PascalCase, times in epoch milliseconds); a build that does not succeed makes the task fail
 *   with error `States.TaskFailed` and the JSON of the build as cause;
 * - log lines go to CloudWatch Logs (group `/aws/codebuild/<project>`, stream = the build's UUID)
 *   when an AWS endpoint (the emulator) is set, and to `onLine` as they happen.
 * Its own log lines start with `[CodeBuild stand-in]`.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  type InputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export const LOG_PREFIX = '[CodeBuild stand-in]';

export type EnvironmentVariableType = 'PLAINTEXT' | 'PARAMETER_STORE' | 'SECRETS_MANAGER';

/** As in StartBuild's `EnvironmentVariablesOverride` (Step Functions Parameters are PascalCase). */
export interface EnvironmentVariable {
  readonly Name: string;
  readonly Value: string;
  readonly Type?: EnvironmentVariableType;
}

export interface RunBuildOptions {
  readonly projectName: string;
  /** The buildspec file, relative to `sourceDir` or absolute. */
  readonly buildspecPath: string;
  /** The build's working directory (CODEBUILD_SRC_DIR). */
  readonly sourceDir: string;
  /** The project's environment variables. */
  readonly environment?: readonly EnvironmentVariable[] | Readonly<Record<string, string>>;
  /** The task's `EnvironmentVariablesOverride`. */
  readonly overrides?: readonly EnvironmentVariable[];
  /** Where CloudWatch Logs are written. @default process.env.AWS_ENDPOINT_URL; no endpoint, no CloudWatch Logs */
  readonly logsEndpoint?: string;
  /** @default process.env.AWS_REGION, else us-east-2 */
  readonly region?: string;
  /** @default 123456789012 (the emulator's account) */
  readonly accountId?: string;
  /** Build timeout; the build ends TIMED_OUT. @default 60 */
  readonly timeoutInMinutes?: number;
  /** The process environment the shell starts from (the "image"). @default process.env */
  readonly baseEnv?: NodeJS.ProcessEnv;
  /** Called with every log line as it is produced. */
  readonly onLine?: (line: string) => void;
}

export type BuildStatus = 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'TIMED_OUT' | 'IN_PROGRESS' | 'STOPPED';
export type PhaseType =
  | 'SUBMITTED' | 'QUEUED' | 'PROVISIONING' | 'DOWNLOAD_SOURCE' | 'INSTALL' | 'PRE_BUILD' | 'BUILD'
  | 'POST_BUILD' | 'UPLOAD_ARTIFACTS' | 'FINALIZING' | 'COMPLETED';

export interface BuildPhase {
  readonly PhaseType: PhaseType;
  readonly PhaseStatus?: BuildStatus;
  readonly StartTime: number;
  readonly EndTime?: number;
  readonly DurationInSeconds?: number;
  readonly Contexts?: readonly PhaseContext[];
}

export interface PhaseContext {
  readonly StatusCode: string;
  readonly Message: string;
}

export interface Build {
  readonly Id: string;
  readonly Arn: string;
  readonly BuildNumber: number;
  readonly StartTime: number;
  readonly EndTime: number;
  readonly CurrentPhase: 'COMPLETED';
  readonly BuildStatus: BuildStatus;
  readonly BuildComplete: true;
  readonly ProjectName: string;
  readonly Phases: readonly BuildPhase[];
  readonly Source: { readonly Type: 'NO_SOURCE'; readonly Buildspec: string; readonly Location: string };
  readonly SecondarySources: readonly never[];
  readonly SecondarySourceVersions: readonly never[];
  readonly Artifacts: { readonly Location: string };
  readonly SecondaryArtifacts: readonly never[];
  readonly Cache: { readonly Type: 'NO_CACHE' };
  readonly Environment: {
    readonly Type: 'LINUX_CONTAINER';
    readonly Image: string;
    readonly ComputeType: 'BUILD_GENERAL1_SMALL';
    readonly PrivilegedMode: false;
    readonly ImagePullCredentialsType: 'CODEBUILD';
    readonly EnvironmentVariables: readonly { readonly Name: string; readonly Value: string; readonly Type: EnvironmentVariableType }[];
  };
  readonly ServiceRole: string;
  readonly Logs: {
    readonly GroupName: string;
    readonly StreamName: string;
    readonly DeepLink: string;
    readonly CloudWatchLogsArn: string;
    readonly CloudWatchLogs: { readonly Status: 'ENABLED'; readonly GroupName: string; readonly StreamName: string };
  };
  readonly TimeoutInMinutes: number;
  readonly QueuedTimeoutInMinutes: number;
  readonly Initiator: string;
  readonly EncryptionKey: string;
  readonly ExportedEnvironmentVariables: readonly { readonly Name: string; readonly Value: string }[];
}

/** What Step Functions returns for `arn:aws:states:::codebuild:startBuild.sync`. */
export interface StartBuildSyncOutput {
  readonly Build: Build;
}

/** The task failure Step Functions reports for a build that did not succeed. */
export class BuildTaskFailed extends Error {
  readonly build: Build;
  /** The Cause as Step Functions puts it: the JSON of the build. */
  readonly cause: string;
  constructor(build: Build) {
    const cause = JSON.stringify(build);
    super(cause);
    this.name = 'States.TaskFailed';
    this.build = build;
    this.cause = cause;
  }
}

/** The buildspec cannot be run (the real service fails such a build in DOWNLOAD_SOURCE). */
class BuildspecInvalid extends Error {
  constructor(path: string, problem: string) {
    super(`${LOG_PREFIX} buildspec ${path}: ${problem}`);
    this.name = 'BuildspecInvalid';
  }
}

// ---------------------------------------------------------------------------------------------
// Buildspec

type PhaseName = 'install' | 'pre_build' | 'build' | 'post_build';
const PHASES: readonly { readonly name: PhaseName; readonly type: PhaseType }[] = [
  { name: 'install', type: 'INSTALL' },
  { name: 'pre_build', type: 'PRE_BUILD' },
  { name: 'build', type: 'BUILD' },
  { name: 'post_build', type: 'POST_BUILD' },
];

interface PhaseSpec {
  readonly commands: readonly string[];
  readonly finally: readonly string[];
  readonly onFailure: 'ABORT' | 'CONTINUE';
}

interface Buildspec {
  readonly variables: Readonly<Record<string, string>>;
  readonly exportedVariables: readonly string[];
  readonly phases: Readonly<Record<PhaseName, PhaseSpec>>;
}

const ENV_KEYS = new Set(['shell', 'variables', 'exported-variables', 'git-credential-helper']);
const PHASE_KEYS = new Set(['commands', 'finally', 'on-failure', 'runtime-versions', 'run-as']);
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(path: string, where: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new BuildspecInvalid(path, `${where} must be a list of strings (quote commands that contain ': ')`);
  }
  return value as string[];
}

/** Parses and checks a version 0.2 buildspec; rejects what this stand-in would not run faithfully. */
function parseBuildspec(text: string, path = 'buildspec.yml'): Buildspec {
  const doc: unknown = parseYaml(text);
  if (!isRecord(doc)) throw new BuildspecInvalid(path, 'is not a YAML mapping');
  if (String(doc.version) !== '0.2') {
    throw new BuildspecInvalid(path, `version must be 0.2 (one shell session for all commands); got ${JSON.stringify(doc.version)}`);
  }
  const env = doc.env ?? {};
  if (!isRecord(env)) throw new BuildspecInvalid(path, 'env must be a mapping');
  for (const key of Object.keys(env)) {
    if (!ENV_KEYS.has(key)) throw new BuildspecInvalid(path, `env.${key} is not supported by the local stand-in`);
  }
  if (env.shell !== undefined && env.shell !== 'bash') throw new BuildspecInvalid(path, `env.shell must be bash; got ${JSON.stringify(env.shell)}`);
  const variables: Record<string, string> = {};
  if (env.variables !== undefined) {
    if (!isRecord(env.variables)) throw new BuildspecInvalid(path, 'env.variables must be a mapping');
    for (const [name, value] of Object.entries(env.variables)) {
      if (!NAME.test(name)) throw new BuildspecInvalid(path, `env.variables: ${name} is not a variable name`);
      variables[name] = String(value);
    }
  }
  const exportedVariables = stringList(path, 'env.exported-variables', env['exported-variables']);
  for (const name of exportedVariables) {
    if (!NAME.test(name)) throw new BuildspecInvalid(path, `env.exported-variables: ${name} is not a variable name`);
  }
  const phasesDoc = doc.phases ?? {};
  if (!isRecord(phasesDoc)) throw new BuildspecInvalid(path, 'phases must be a mapping');
  for (const key of Object.keys(phasesDoc)) {
    if (!PHASES.some((p) => p.name === key)) throw new BuildspecInvalid(path, `unknown phase ${key}`);
  }
  const phases = {} as Record<PhaseName, PhaseSpec>;
  for (const { name } of PHASES) {
    const phase = phasesDoc[name] ?? {};
    if (!isRecord(phase)) throw new BuildspecInvalid(path, `phases.${name} must be a mapping`);
    for (const key of Object.keys(phase)) {
      if (!PHASE_KEYS.has(key)) throw new BuildspecInvalid(path, `phases.${name}.${key} is not a phase setting`);
    }
    const onFailure = phase['on-failure'] ?? 'ABORT';
    if (onFailure !== 'ABORT' && onFailure !== 'CONTINUE') {
      throw new BuildspecInvalid(path, `phases.${name}.on-failure must be ABORT or CONTINUE here; got ${JSON.stringify(onFailure)}`);
    }
    phases[name] = {
      commands: stringList(path, `phases.${name}.commands`, phase.commands),
      finally: stringList(path, `phases.${name}.finally`, phase.finally),
      onFailure,
    };
  }
  return { variables, exportedVariables, phases };
}

// ---------------------------------------------------------------------------------------------
// One bash session, driven command by command

function lines(stream: Readable, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      let index = pending.indexOf('\n');
      while (index >= 0) {
        onLine(pending.slice(0, index));
        pending = pending.slice(index + 1);
        index = pending.indexOf('\n');
      }
    });
    stream.on('end', () => {
      if (pending !== '') onLine(pending);
      resolve();
    });
  });
}

/**
 * The shell reads driver lines on stdin; every command is a file sourced in the session with
 * stdin from /dev/null (so no command can eat the driver's input) and its status reported on fd 3.
 */
class ShellSession {
  private readonly child;
  private readonly statusWaiters: ((line: string | undefined) => void)[] = [];
  private readonly statusLines: string[] = [];
  private exited = false;
  private counter = 0;
  readonly closed: Promise<void>;

  constructor(cwd: string, env: NodeJS.ProcessEnv, private readonly scratch: string, log: (line: string) => void) {
    this.child = spawn('bash', ['--noprofile', '--norc'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe', 'pipe'], detached: true });
    const control = this.child.stdio[3] as Readable;
    const outputs = Promise.all([lines(this.child.stdout, log), lines(this.child.stderr, log)]);
    void lines(control, (line) => {
      const waiter = this.statusWaiters.shift();
      if (waiter) waiter(line);
      else this.statusLines.push(line);
    });
    this.closed = new Promise((resolve) => {
      this.child.on('close', () => {
        this.exited = true;
        for (const waiter of this.statusWaiters.splice(0)) waiter(undefined);
        void outputs.then(() => resolve());
      });
    });
    this.child.stdin.on('error', () => undefined);
  }

  get alive(): boolean {
    return !this.exited;
  }

  private nextControlLine(): Promise<string | undefined> {
    const ready = this.statusLines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.exited) return Promise.resolve(undefined);
    return new Promise((resolve) => this.statusWaiters.push(resolve));
  }

  /** Runs one command in the session; resolves to its exit status, or undefined if the shell is gone. */
  async run(command: string): Promise<number | undefined> {
    if (this.exited) return undefined;
    const file = join(this.scratch, `command-${++this.counter}.sh`);
    writeFileSync(file, `${command}\n`);
    this.child.stdin.write(`. '${file}' </dev/null 3>&-; printf '%s\\n' "$?" >&3\n`);
    const line = await this.nextControlLine();
    return line === undefined ? undefined : Number(line);
  }

  /** Reads variables from the session (base64, so values may hold newlines). */
  async read(names: readonly string[]): Promise<{ Name: string; Value: string }[]> {
    const found: { Name: string; Value: string }[] = [];
    for (const name of names) {
      if (this.exited) break;
      this.child.stdin.write(`if [[ -v ${name} ]]; then printf 'set %s\\n' "$(printf '%s' "\${${name}}" | base64 -w0)" >&3; else printf 'unset\\n' >&3; fi\n`);
      const line = await this.nextControlLine();
      if (line?.startsWith('set ')) found.push({ Name: name, Value: Buffer.from(line.slice(4), 'base64').toString('utf8') });
    }
    return found;
  }

  async close(): Promise<void> {
    if (!this.exited) this.child.stdin.end('exit 0\n');
    await this.closed;
  }

  kill(): void {
    const pid = this.child.pid;
    if (pid !== undefined && !this.exited) {
      try {
        process.kill(-pid, 'SIGKILL'); // the session's own process group: bash and what it started
      } catch {
        // already gone
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Environment

function normaliseEnvironment(environment: RunBuildOptions['environment']): EnvironmentVariable[] {
  if (environment === undefined) return [];
  if (Array.isArray(environment)) return [...(environment as readonly EnvironmentVariable[])];
  return Object.entries(environment as Readonly<Record<string, string>>).map(([Name, Value]) => ({ Name, Value, Type: 'PLAINTEXT' }));
}

async function resolveValue(variable: EnvironmentVariable, region: string): Promise<string> {
  const type = variable.Type ?? 'PLAINTEXT';
  if (type === 'PLAINTEXT') return variable.Value;
  if (type === 'SECRETS_MANAGER') {
    // CodeBuild's reference format: secret-id[:json-key[:version-stage[:version-id]]]; the id may be an ARN.
    const arnParts = variable.Value.startsWith('arn:') ? 7 : 1;
    const parts = variable.Value.split(':');
    const secretId = parts.slice(0, arnParts).join(':');
    const [jsonKey, versionStage, versionId] = parts.slice(arnParts);
    const secret = await new SecretsManagerClient({ region }).send(
      new GetSecretValueCommand({ SecretId: secretId, VersionStage: versionStage || undefined, VersionId: versionId || undefined }),
    );
    const text = secret.SecretString ?? '';
    if (!jsonKey) return text;
    const value: unknown = (JSON.parse(text) as Record<string, unknown>)[jsonKey];
    if (value === undefined) throw new Error(`${LOG_PREFIX} secret ${secretId} has no key ${jsonKey} (variable ${variable.Name})`);
    return String(value);
  }
  throw new Error(`${LOG_PREFIX} environment variable ${variable.Name}: type ${type} is not supported locally; use PLAINTEXT or SECRETS_MANAGER`);
}

// ---------------------------------------------------------------------------------------------
// CloudWatch Logs

async function writeLogs(endpoint: string, region: string, group: string, stream: string, events: readonly InputLogEvent[]): Promise<void> {
  const client = new CloudWatchLogsClient({ region, endpoint, maxAttempts: 5 });
  try {
    await client.send(new CreateLogGroupCommand({ logGroupName: group }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceAlreadyExistsException') throw error;
  }
  await client.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
  // PutLogEvents takes at most 10,000 events and about 1 MB per call.
  let batch: InputLogEvent[] = [];
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    await client.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents: batch }));
    batch = [];
    bytes = 0;
  };
  for (const event of events) {
    const size = Buffer.byteLength(event.message ?? '') + 26;
    if (batch.length >= 10000 || bytes + size > 900_000) await flush();
    batch.push(event);
    bytes += size;
  }
  await flush();
}

// ---------------------------------------------------------------------------------------------
// The build

const buildNumbers = new Map<string, number>();

function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

/**
 * Runs a build as `codebuild:startBuild.sync` would, and returns Step Functions' output for it.
 * Throws `BuildTaskFailed` (name `States.TaskFailed`) when the build does not succeed.
 */
export async function runBuild(options: RunBuildOptions): Promise<StartBuildSyncOutput> {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-2';
  const accountId = options.accountId ?? '123456789012';
  const timeoutInMinutes = options.timeoutInMinutes ?? 60;
  const uuid = randomUUID();
  const id = `${options.projectName}:${uuid}`;
  const buildNumber = (buildNumbers.get(options.projectName) ?? 0) + 1;
  buildNumbers.set(options.projectName, buildNumber);
  const group = `/aws/codebuild/${options.projectName}`;
  const events: InputLogEvent[] = [];
  const log = (line: string): void => {
    events.push({ timestamp: Date.now(), message: line });
    options.onLine?.(line);
  };
  const say = (message: string): void => log(`${LOG_PREFIX} ${timestamp(Date.now())} ${message}`);

  const startTime = Date.now();
  const phases: BuildPhase[] = [];
  const finishPhase = (type: PhaseType, start: number, status: BuildStatus, contexts: BuildPhase['Contexts'] = []): void => {
    const end = Date.now();
    phases.push({ PhaseType: type, PhaseStatus: status, StartTime: start, EndTime: end, DurationInSeconds: Math.round((end - start) / 1000), Contexts: contexts });
  };
  for (const type of ['SUBMITTED', 'QUEUED'] as const) finishPhase(type, startTime, 'SUCCEEDED');

  const projectVariables = normaliseEnvironment(options.environment);
  const overrides = [...(options.overrides ?? [])];
  const buildspecFile = isAbsolute(options.buildspecPath) ? options.buildspecPath : join(options.sourceDir, options.buildspecPath);

  // PROVISIONING: the environment. DOWNLOAD_SOURCE: the buildspec (the source is already here).
  let provisionStart = Date.now();
  let shellEnv: NodeJS.ProcessEnv;
  let spec: Buildspec;
  const scratch = mkdtempSync(join(tmpdir(), 'codebuild-stand-in-'));
  const variables = new Map<string, EnvironmentVariable>();
  try {
    for (const variable of [...projectVariables, ...overrides]) {
      if (!NAME.test(variable.Name)) throw new Error(`${LOG_PREFIX} ${variable.Name} is not an environment variable name`);
      variables.set(variable.Name, variable);
    }
    const resolved: Record<string, string> = {};
    for (const variable of variables.values()) resolved[variable.Name] = await resolveValue(variable, region);
    finishPhase('PROVISIONING', provisionStart, 'SUCCEEDED');
    provisionStart = Date.now();
    spec = parseBuildspec(readFileSync(buildspecFile, 'utf8'), options.buildspecPath);
    shellEnv = {
      ...(options.baseEnv ?? process.env),
      ...spec.variables,
      ...resolved,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      CODEBUILD_BUILD_ID: id,
      CODEBUILD_BUILD_ARN: `arn:aws:codebuild:${region}:${accountId}:build/${id}`,
      CODEBUILD_BUILD_NUMBER: String(buildNumber),
      CODEBUILD_INITIATOR: 'fabricctl-local',
      CODEBUILD_SRC_DIR: options.sourceDir,
      CODEBUILD_LOG_PATH: uuid,
      CODEBUILD_BUILD_SUCCEEDING: '1',
      // Each build gets its own TMPDIR, as each CodeBuild build gets its own container.
      TMPDIR: scratch,
    };
    finishPhase('DOWNLOAD_SOURCE', provisionStart, 'SUCCEEDED');
  } catch (error) {
    const message = (error as Error).message;
    say(`Phase context status code: CLIENT_ERROR Message: ${message}`);
    const failedType = phases.some((p) => p.PhaseType === 'PROVISIONING') ? 'DOWNLOAD_SOURCE' : 'PROVISIONING';
    finishPhase(failedType, provisionStart, 'FAILED', [{ StatusCode: 'CLIENT_ERROR', Message: message }]);
    rmSync(scratch, { recursive: true, force: true });
    return finish('FAILED', []);
  }

  say(`Running build ${id} of ${options.projectName} with ${options.buildspecPath} in ${options.sourceDir}`);
  const session = new ShellSession(options.sourceDir, shellEnv, scratch, log);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    say(`Build timed out after ${timeoutInMinutes} minutes`);
    session.kill();
  }, timeoutInMinutes * 60_000);

  // The session has its own process group (so a timeout can stop all of it): stop it too if this process exits.
  const stopOnExit = (): void => session.kill();
  process.once('exit', stopOnExit);
  // The phase context CodeBuild reports for a command that failed (or was cut off by the timeout).
  const commandFailure = (command: string, status: number | undefined): PhaseContext => ({
    StatusCode: timedOut ? 'BUILD_TIMED_OUT' : 'COMMAND_EXECUTION_ERROR',
    Message: `Error while executing command: ${command}. Reason: ${status === undefined ? 'the shell exited' : `exit status ${status}`}`,
  });
  let succeeding = true;
  let exported: { Name: string; Value: string }[] = [];
  try {
    let skipTo: PhaseName | 'end' | undefined;
    for (const { name, type } of PHASES) {
      if (skipTo === 'end') break;
      if (skipTo !== undefined && skipTo !== name) continue;
      skipTo = undefined;
      const phase = spec.phases[name];
      const start = Date.now();
      say(`Entering phase ${type}`);
      await session.run(`export CODEBUILD_BUILD_SUCCEEDING=${succeeding ? 1 : 0}`);
      let failure: PhaseContext | undefined;
      for (const command of phase.commands) {
        say(`Running command ${command}`);
        const status = await session.run(command);
        if (status !== 0) {
          failure = commandFailure(command, status);
          break;
        }
      }
      for (const command of phase.finally) {
        say(`Running command ${command}`);
        const status = await session.run(command);
        if (status !== 0 && failure === undefined) failure = commandFailure(command, status);
      }
      const status: BuildStatus = failure === undefined ? 'SUCCEEDED' : timedOut ? 'TIMED_OUT' : 'FAILED';
      if (failure) say(`Phase context status code: ${failure.StatusCode} Message: ${failure.Message}`);
      say(`Phase complete: ${type} State: ${status}`);
      finishPhase(type, start, status, failure ? [failure] : []);
      if (failure === undefined) continue;
      succeeding = false;
      if (timedOut || !session.alive) skipTo = 'end';
      else if (phase.onFailure === 'CONTINUE') skipTo = undefined;
      // CodeBuild's transitions: install and pre_build failures end the build; a build failure still runs post_build.
      else skipTo = name === 'build' ? 'post_build' : 'end';
    }
    if (session.alive && !timedOut) exported = await session.read(spec.exportedVariables);
  } finally {
    clearTimeout(timer);
    process.removeListener('exit', stopOnExit);
    await session.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  for (const type of ['UPLOAD_ARTIFACTS', 'FINALIZING'] as const) finishPhase(type, Date.now(), 'SUCCEEDED');
  return finish(timedOut ? 'TIMED_OUT' : succeeding ? 'SUCCEEDED' : 'FAILED', exported);

  async function finish(status: BuildStatus, exportedVariables: { Name: string; Value: string }[]): Promise<StartBuildSyncOutput> {
    const endTime = Date.now();
    phases.push({ PhaseType: 'COMPLETED', StartTime: endTime });
    say(`Build ${id} ${status}`);
    const build: Build = {
      Id: id,
      Arn: `arn:aws:codebuild:${region}:${accountId}:build/${id}`,
      BuildNumber: buildNumber,
      StartTime: startTime,
      EndTime: endTime,
      CurrentPhase: 'COMPLETED',
      BuildStatus: status,
      BuildComplete: true,
      ProjectName: options.projectName,
      Phases: phases,
      Source: { Type: 'NO_SOURCE', Buildspec: options.buildspecPath, Location: options.sourceDir },
      SecondarySources: [],
      SecondarySourceVersions: [],
      Artifacts: { Location: '' },
      SecondaryArtifacts: [],
      Cache: { Type: 'NO_CACHE' },
      Environment: {
        Type: 'LINUX_CONTAINER',
        Image: 'local bash (CodeBuild stand-in)',
        ComputeType: 'BUILD_GENERAL1_SMALL',
        PrivilegedMode: false,
        ImagePullCredentialsType: 'CODEBUILD',
        EnvironmentVariables: [...variables.values()].map((v) => ({ Name: v.Name, Value: v.Value, Type: v.Type ?? 'PLAINTEXT' })),
      },
      ServiceRole: `arn:aws:iam::${accountId}:role/${options.projectName}-local`,
      Logs: {
        GroupName: group,
        StreamName: uuid,
        DeepLink: `https://console.aws.amazon.com/cloudwatch/home?region=${region}#logEvent:group=${group};stream=${uuid}`,
        CloudWatchLogsArn: `arn:aws:logs:${region}:${accountId}:log-group:${group}:log-stream:${uuid}`,
        CloudWatchLogs: { Status: 'ENABLED', GroupName: group, StreamName: uuid },
      },
      TimeoutInMinutes: timeoutInMinutes,
      QueuedTimeoutInMinutes: 480,
      Initiator: 'fabricctl-local',
      EncryptionKey: `arn:aws:kms:${region}:${accountId}:alias/aws/s3`,
      ExportedEnvironmentVariables: exportedVariables,
    };
    const endpoint = options.logsEndpoint ?? process.env.AWS_ENDPOINT_URL;
    if (endpoint) await writeLogs(endpoint, region, group, uuid, events);
    if (status !== 'SUCCEEDED') throw new BuildTaskFailed(build);
    return { Build: build };
  }
}
