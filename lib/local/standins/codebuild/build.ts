/** One build: phases in order, CodeBuild's phase transitions, exported variables, the sync response. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { InputLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import {
  Build,
  BuildPhase,
  BuildStatus,
  BuildTaskFailed,
  EnvironmentVariable,
  LOG_PREFIX,
  PhaseContext,
  PhaseType,
  RunBuildOptions,
  StartBuildSyncOutput,
} from './types';
import { Buildspec, NAME, PHASES, PhaseName, parseBuildspec } from './buildspec';
import { changedPaths, copySource, LAMBDA_COMPUTE_MINUTES, snapshot } from './lambda-compute';
import { ShellSession } from './shell';
import { normaliseEnvironment, resolveValue } from './environment';
import { writeLogs } from './logs';

export const buildNumbers = new Map<string, number>();

export function timestamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '');
}

/**
 * Runs a build as `codebuild:startBuild.sync` would, and returns Step Functions' output for it.
 * Throws `BuildTaskFailed` (name `States.TaskFailed`) when the build does not succeed.
 */
export async function runBuild(options: RunBuildOptions): Promise<StartBuildSyncOutput> {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-2';
  const accountId = options.accountId ?? '123456789012';
  const onLambda = options.compute === 'lambda';
  if (onLambda && options.timeoutInMinutes !== undefined)
    throw new Error(`${LOG_PREFIX} a project on Lambda compute takes no timeout (its builds end at ${LAMBDA_COMPUTE_MINUTES} minutes)`);
  const timeoutInMinutes = onLambda ? LAMBDA_COMPUTE_MINUTES : (options.timeoutInMinutes ?? 60);
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
    phases.push({
      PhaseType: type,
      PhaseStatus: status,
      StartTime: start,
      EndTime: end,
      DurationInSeconds: Math.round((end - start) / 1000),
      Contexts: contexts,
    });
  };
  for (const type of ['SUBMITTED', 'QUEUED'] as const) finishPhase(type, startTime, 'SUCCEEDED');

  const projectVariables = normaliseEnvironment(options.environment);
  const overrides = [...(options.overrides ?? [])];
  // Lambda compute: the build runs in a copy of its source, which it must not change (only /tmp is writable).
  const sourceDir = onLambda
    ? copySource(options.sourceDir, options.sourceFolders ?? [], options.sourceIncludes ?? (() => true))
    : options.sourceDir;
  const sourceBefore = onLambda ? snapshot(sourceDir) : undefined;
  const buildspecFile = isAbsolute(options.buildspecPath) ? options.buildspecPath : join(sourceDir, options.buildspecPath);

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
      CODEBUILD_SRC_DIR: sourceDir,
      CODEBUILD_LOG_PATH: uuid,
      CODEBUILD_BUILD_SUCCEEDING: '1',
      // Each build gets its own TMPDIR, as each CodeBuild build gets its own container.
      TMPDIR: scratch,
      ...(onLambda ? { HOME: scratch } : {}),
    };
    finishPhase('DOWNLOAD_SOURCE', provisionStart, 'SUCCEEDED');
  } catch (error) {
    const message = (error as Error).message;
    say(`Phase context status code: CLIENT_ERROR Message: ${message}`);
    const failedType = phases.some((p) => p.PhaseType === 'PROVISIONING') ? 'DOWNLOAD_SOURCE' : 'PROVISIONING';
    finishPhase(failedType, provisionStart, 'FAILED', [{ StatusCode: 'CLIENT_ERROR', Message: message }]);
    rmSync(scratch, { recursive: true, force: true });
    if (onLambda) rmSync(sourceDir, { recursive: true, force: true });
    return finish('FAILED', []);
  }

  say(`Running build ${id} of ${options.projectName} with ${options.buildspecPath} in ${sourceDir}${onLambda ? ' (Lambda compute)' : ''}`);
  const session = new ShellSession(sourceDir, shellEnv, scratch, log);
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
  let finalizing: PhaseContext | undefined;
  if (sourceBefore !== undefined) {
    const written = changedPaths(sourceBefore, snapshot(sourceDir));
    rmSync(sourceDir, { recursive: true, force: true });
    if (written.length > 0) {
      // On Lambda compute such a write fails when it happens; here it is found afterwards.
      finalizing = {
        StatusCode: 'CLIENT_ERROR',
        Message: `Lambda compute allows writes under /tmp only; the build changed its source: ${written.slice(0, 10).join(', ')}`,
      };
      say(`Phase context status code: ${finalizing.StatusCode} Message: ${finalizing.Message}`);
      succeeding = false;
    }
  }
  finishPhase('UPLOAD_ARTIFACTS', Date.now(), 'SUCCEEDED');
  finishPhase('FINALIZING', Date.now(), finalizing ? 'FAILED' : 'SUCCEEDED', finalizing ? [finalizing] : []);
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
      Source: { Type: 'NO_SOURCE', Buildspec: options.buildspecPath, Location: sourceDir },
      SecondarySources: [],
      SecondarySourceVersions: [],
      Artifacts: { Location: '' },
      SecondaryArtifacts: [],
      Cache: { Type: 'NO_CACHE' },
      Environment: {
        Type: onLambda ? 'LINUX_LAMBDA_CONTAINER' : 'LINUX_CONTAINER',
        Image: 'local bash (CodeBuild stand-in)',
        ComputeType: onLambda ? 'BUILD_LAMBDA_4GB' : 'BUILD_GENERAL1_SMALL',
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
