import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DescribeAvailabilityZonesCommand } from '@aws-sdk/client-ec2';
import { GetExecutionHistoryCommand, HistoryEvent } from '@aws-sdk/client-sfn';
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { ExecutionInput } from '../../lambdas/shared/contract';
import { chooseZones, usableZoneNames } from '../../lambdas/discover-zones/core';
import { FabricSpecInvalid, Problem, problem } from '../../lambdas/shared/errors';
import { DEFAULT_REGION, normaliseName, parseFabricSpec, FabricSpec } from '../../lambdas/shared/spec';
import type { ProgressEvent } from '../progress-events';
import { resolveRegion, type AwsClientFactory, type AwsClients } from './aws';
import { HistoryConverter } from './history';
import { CliError, CliIo, EXIT, ExitCode, formatDuration, printJson, wantsJson } from './io';
import { createRenderer, RunOutcome } from './progress';
import { getRecord, listRecords, renderList, renderStatus, stateBucketFor } from './records';
import { DEFAULT_STACK, executionNameForRun, findStack, GitProbe, gitOfSpec, startRun, watchExecution } from './remote';

/** Everything a command needs from outside, injected (tests pass fakes, mocks or moto-backed clients). */
export interface CliDeps {
  readonly io: CliIo;
  readonly clients: AwsClientFactory;
  readonly git: GitProbe;
  /** Region from the SDK's shared config (the profile's `region`), when neither flag nor env sets one. */
  readonly configRegion?: () => Promise<string | undefined>;
  /** Aborted on Ctrl-C: watching stops, executions go on. */
  readonly signal?: AbortSignal;
  /** Local mode, loaded on demand (it synthesizes the stack and starts an emulator). */
  readonly runLocal?: (options: LocalRunOptions) => Promise<LocalRunResult>;
  /** Poll interval while watching, ms. */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What the CLI needs of local mode (lib/local/run.ts); the type only, the module loads on demand. */
export type LocalRunOptions = import('../local/run').RunLocalOptions;
export type LocalRunResult = Pick<import('../local/run').LocalRunResult, 'status' | 'output' | 'error' | 'cause' | 'timings' | 'totalMs'> & { readonly execution?: string };

export interface GlobalOptions {
  readonly region?: string;
  readonly profile?: string;
  readonly output?: string;
  readonly json?: boolean;
  readonly stack?: string;
}

async function regionOf(deps: CliDeps, options: GlobalOptions): Promise<string> {
  return resolveRegion(options.region, deps.io.env) ?? (await deps.configRegion?.()) ?? DEFAULT_REGION;
}

/**
 * Loads a module when a command needs it (local mode synthesizes the stack; cost reads price tables).
 * `require`, not `import()`: under the bin's tsx/cjs hook a dynamic import goes to the ESM loader,
 * which does not resolve extensionless TypeScript paths.
 */
function lazy<T>(path: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path) as T;
}

// ---------- spec files ----------

/** Reads and parses a spec file: missing is exit 3, not JSON is exit 2. */
export function readSpecFile(io: CliIo, path: string): { path: string; input: unknown } {
  const full = resolve(io.cwd, path);
  if (!existsSync(full)) throw new CliError(EXIT.NOT_FOUND, 'SpecNotFound', `spec file ${path} not found (fabricctl init <name> --domain <domain> writes one)`);
  const text = readFileSync(full, 'utf8');
  try {
    return { path: full, input: JSON.parse(text) as unknown };
  } catch (error) {
    throw new CliError(EXIT.USAGE, 'FabricSpecInvalid', `${path} is not JSON: ${(error as Error).message}`, [problem('(file)', text.slice(0, 60), `fix the JSON syntax: ${(error as Error).message}`)]);
  }
}

function validated(input: unknown): FabricSpec {
  try {
    return parseFabricSpec(input);
  } catch (error) {
    if (error instanceof FabricSpecInvalid) throw new CliError(EXIT.USAGE, 'FabricSpecInvalid', `the spec has ${error.problems.length} problem(s)`, error.problems);
    throw error;
  }
}

export function renderProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `  ${p.field}\n    received: ${p.received}\n    fix: ${p.fix}\n`).join('');
}

// ---------- init ----------

export interface InitOptions extends GlobalOptions {
  readonly domain: string;
  readonly zoneCount?: string;
  readonly file?: string;
  readonly force?: boolean;
}

export async function initCommand(deps: CliDeps, rawName: string, options: InitOptions): Promise<ExitCode> {
  const { io } = deps;
  const region = await regionOf(deps, options);
  const zoneCount = Number(options.zoneCount ?? 3);
  const path = resolve(io.cwd, options.file ?? 'fabric.json');
  if (existsSync(path) && !options.force) throw new CliError(EXIT.USAGE, 'SpecExists', `${path} exists; pass --force to overwrite it`);
  const name = normaliseName(rawName);
  // Check what the user typed before any AWS call.
  validated({ name: rawName, domain: options.domain, region, zoneCount });
  const { AvailabilityZones = [] } = await deps.clients(region).ec2.send(new DescribeAvailabilityZonesCommand({}));
  let zones: string[];
  try {
    // Filter first, then take: an unavailable zone never counts (defect 3 of the original).
    zones = chooseZones(region, usableZoneNames(AvailabilityZones), zoneCount);
  } catch (error) {
    throw new CliError(EXIT.USAGE, (error as Error).name, (error as Error).message);
  }
  const spec = { name, domain: options.domain.trim().toLowerCase().replace(/\.$/, ''), region, zones };
  validated(spec);
  writeFileSync(path, `${JSON.stringify(spec, null, 2)}\n`);
  const next = [
    `git checkout -b fabric/${name}`,
    `git add ${options.file ?? 'fabric.json'} && git commit -m "fabric ${name}"`,
    `git push -u origin fabric/${name}    # the push trigger provisions it`,
    `# or, without a push: fabricctl up ${options.file ?? 'fabric.json'}   (fabricctl up --local ${options.file ?? 'fabric.json'} to try it on this machine)`,
  ];
  if (wantsJson(options)) {
    printJson(io, { path, spec, next });
  } else {
    if (name !== rawName) io.out(`name ${JSON.stringify(rawName)} normalised to ${name} (lowercase a-z and 0-9 only)\n`);
    io.out(`wrote ${path} with zones ${zones.join(', ')} of ${region} pinned\n\nnext:\n${next.map((l) => `  ${l}`).join('\n')}\n`);
  }
  return EXIT.OK;
}

// ---------- validate, cost ----------

export async function validateCommand(deps: CliDeps, specPath: string, options: GlobalOptions): Promise<ExitCode> {
  const { input } = readSpecFile(deps.io, specPath);
  try {
    const spec = parseFabricSpec(input);
    if (wantsJson(options)) printJson(deps.io, { valid: true, spec });
    else deps.io.out(`${specPath}: valid (fabric ${spec.name}, cluster ${spec.name}.${spec.domain}, region ${spec.region})\n`);
    return EXIT.OK;
  } catch (error) {
    if (!(error instanceof FabricSpecInvalid)) throw error;
    if (wantsJson(options)) printJson(deps.io, { valid: false, problems: error.problems });
    else deps.io.err(`${specPath}: ${error.problems.length} problem(s)\n${renderProblems(error.problems)}`);
    return EXIT.USAGE;
  }
}

/** A plan also says what the planned fabric will cost (issue: cost "in plan output"). */
function planCost(specInput: unknown): { text: string; json: unknown } {
  const { costReport } = lazy<typeof import('../cost')>('../cost');
  return costReport(specInput, {});
}

export async function costCommand(deps: CliDeps, specPath: string, options: GlobalOptions): Promise<ExitCode> {
  const { input } = readSpecFile(deps.io, specPath);
  validated(input);
  const { costReport } = lazy<typeof import('../cost')>('../cost');
  const report = costReport(input, { json: wantsJson(options) });
  deps.io.out(`${report.text}\n`);
  return EXIT.OK;
}

// ---------- up, plan, down ----------

export interface RunOptions extends GlobalOptions {
  readonly watch?: boolean;
  readonly local?: boolean;
  readonly endpoint?: string;
  readonly keepEmulator?: boolean;
  readonly verbose?: boolean;
  readonly aws?: boolean;
  readonly rerun?: boolean;
  readonly confirm?: string;
  readonly fabricRegion?: string;
}

type Action = 'provision' | 'plan' | 'destroy';

function exitFor(status: RunOutcome['status']): ExitCode {
  return status === 'SUCCEEDED' || status === 'RUNNING' ? EXIT.OK : EXIT.FAILED;
}

async function runLocally(deps: CliDeps, action: Action, options: RunOptions, target: { specPath?: string; specInput?: unknown; name?: string }): Promise<ExitCode> {
  const { io } = deps;
  const runLocal = deps.runLocal ?? ((o: LocalRunOptions) => lazy<typeof import('../local/run')>('../local/run').runLocal(o));
  const renderer = createRenderer({ write: wantsJson(options) ? io.err : io.out, isTTY: io.isTTY && !wantsJson(options) });
  const result = await runLocal({
    action,
    specPath: target.specPath,
    name: target.name,
    confirm: options.confirm,
    region: options.region,
    endpoint: options.endpoint,
    keepEmulator: options.keepEmulator,
    verbose: options.verbose,
    aws: options.aws,
    onEvent: renderer.onEvent,
    log: (line) => io.err(`${line}\n`),
  });
  const outcome: RunOutcome = { status: result.status, execution: result.execution, output: result.output, error: result.error, cause: result.cause };
  renderer.summary(outcome, result.totalMs);
  const cost = action === 'plan' && result.status === 'SUCCEEDED' && target.specInput !== undefined ? planCost(target.specInput) : undefined;
  if (cost && !wantsJson(options)) io.out(`\n${cost.text}\n`);
  if (wantsJson(options)) printJson(io, { ...outcome, timings: result.timings, totalMs: result.totalMs, ...(cost ? { cost: cost.json } : {}) });
  return exitFor(result.status);
}

export async function runCommand(deps: CliDeps, action: Action, arg: string, options: RunOptions): Promise<ExitCode> {
  const { io } = deps;
  let input: ExecutionInput;
  let name: string;
  let specPath: string | undefined;
  let specInput: unknown;
  if (action === 'destroy') {
    name = normaliseName(arg);
    if (options.confirm !== name) {
      throw new CliError(EXIT.USAGE, 'ConfirmationRequired', `destroying fabric ${name} needs --confirm ${name} (received ${options.confirm === undefined ? 'nothing' : JSON.stringify(options.confirm)})`);
    }
  } else {
    ({ path: specPath, input: specInput } = readSpecFile(io, arg));
    name = validated(specInput).name;
  }
  if (options.local) return runLocally(deps, action, options, action === 'destroy' ? { name } : { specPath, specInput });

  const region = await regionOf(deps, options);
  const clients: AwsClients = deps.clients(region);
  const stack = await findStack(clients.cfn, options.stack ?? DEFAULT_STACK);
  if (action === 'destroy') {
    input = { action, name, confirm: options.confirm, region: options.fabricRegion ?? region };
  } else {
    input = { action, spec: specInput as ExecutionInput['spec'] };
  }
  const executionName = executionNameForRun({ name, action, git: specPath ? gitOfSpec(specPath, deps.git) : undefined, now: io.now(), rerun: options.rerun });
  const run = await startRun(clients.sfn, stack.stateMachineArn, executionName, input);
  const say = wantsJson(options) ? io.err : io.out;
  say(
    run.started
      ? `started ${action} of ${name}: ${run.executionArn}\n`
      : `${run.name} already ran (same commit): ${run.executionArn}\n  showing that execution; pass --rerun to start a new one\n`,
  );
  const watch = options.watch ?? io.isTTY;
  if (!watch) {
    if (wantsJson(options)) printJson(io, { ...run, status: 'RUNNING' });
    else io.out(`follow it with: fabricctl logs ${name}${region ? ` --region ${region}` : ''}\n`);
    return EXIT.OK;
  }
  const renderer = createRenderer({ write: say, isTTY: io.isTTY && !wantsJson(options) });
  const result = await watchExecution(run.executionArn, renderer.onEvent, { sfn: clients.sfn, logs: clients.logs, signal: deps.signal, pollMs: deps.pollMs, sleep: deps.sleep });
  if (result.interrupted) {
    renderer.stop();
    say(`\nstopped watching; the execution goes on: ${run.executionArn}\n`);
    if (wantsJson(options)) printJson(io, { ...run, status: 'RUNNING' });
    return EXIT.INTERRUPTED;
  }
  const outcome: RunOutcome = { status: result.status, execution: run.executionArn, output: result.output, error: result.error, cause: result.cause };
  renderer.summary(outcome, result.totalMs);
  const cost = action === 'plan' && result.status === 'SUCCEEDED' ? planCost(input.spec) : undefined;
  if (cost && !wantsJson(options)) io.out(`\n${cost.text}\n`);
  if (wantsJson(options)) printJson(io, { ...run, ...outcome, ...(cost ? { cost: cost.json } : {}) });
  return exitFor(result.status);
}

// ---------- status, list, logs ----------

async function recordsBucket(deps: CliDeps, options: GlobalOptions & { bucketPrefix?: string }): Promise<{ clients: AwsClients; bucket: string }> {
  const region = await regionOf(deps, options);
  const clients = deps.clients(region);
  let prefix = options.bucketPrefix;
  if (prefix === undefined) {
    try {
      prefix = (await findStack(clients.cfn, options.stack ?? DEFAULT_STACK)).stateBucketPrefix;
    } catch (error) {
      // Records can be read without the stack (another region's fabric): the default prefix applies.
      if (!(error instanceof CliError)) throw error;
    }
  }
  return { clients, bucket: await stateBucketFor(clients.sts, region, prefix) };
}

export async function statusCommand(deps: CliDeps, name: string | undefined, options: GlobalOptions & { bucketPrefix?: string }): Promise<ExitCode> {
  if (name === undefined) return listCommand(deps, options);
  const { clients, bucket } = await recordsBucket(deps, options);
  const record = await getRecord(clients.s3, bucket, name);
  if (wantsJson(options)) printJson(deps.io, record);
  else deps.io.out(renderStatus(record, deps.io.now()));
  return record.status === 'FAILED' ? EXIT.FAILED : EXIT.OK;
}

export async function listCommand(deps: CliDeps, options: GlobalOptions & { bucketPrefix?: string }): Promise<ExitCode> {
  const { clients, bucket } = await recordsBucket(deps, options);
  const records = await listRecords(clients.s3, bucket);
  if (wantsJson(options)) printJson(deps.io, records);
  else deps.io.out(renderList(records, deps.io.now()));
  return EXIT.OK;
}

export async function logsCommand(deps: CliDeps, name: string, options: GlobalOptions & { bucketPrefix?: string }): Promise<ExitCode> {
  const { clients, bucket } = await recordsBucket(deps, options);
  const record = await getRecord(clients.s3, bucket, name);
  const executionArn = record.lastExecution;
  // The execution runs in the stack's region, which the ARN names; usually the records' region.
  const executionRegion = executionArn.split(':')[3] || clients.region;
  const sfn = executionRegion === clients.region ? clients : deps.clients(executionRegion);
  const converter = new HistoryConverter({ execution: executionArn });
  const steps: ProgressEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
    for (const event of page.events ?? ([] as HistoryEvent[])) steps.push(...converter.push(event));
    nextToken = page.nextToken;
  } while (nextToken);
  const builds: { state: string; buildId: string; logGroup: string; logStream: string; lines: string[] }[] = [];
  for (const build of converter.builds) {
    const lines: string[] = [];
    let token: string | undefined;
    try {
      for (;;) {
        const page = await sfn.logs.send(new GetLogEventsCommand({ logGroupName: build.logGroup, logStreamName: build.logStream, startFromHead: true, nextToken: token }));
        lines.push(...(page.events ?? []).map((e) => (e.message ?? '').replace(/\n$/, '')));
        if (!page.nextForwardToken || page.nextForwardToken === token) break;
        token = page.nextForwardToken;
      }
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
      lines.push(`(no log stream ${build.logStream} in ${build.logGroup})`);
    }
    builds.push({ ...build, lines });
  }
  if (wantsJson(options)) {
    printJson(deps.io, { name: record.name, status: record.status, execution: executionArn, steps, builds });
    return EXIT.OK;
  }
  const renderer = createRenderer({ write: deps.io.out, isTTY: false, showLogs: false });
  for (const step of steps) renderer.onEvent(step);
  for (const build of builds) {
    deps.io.out(`\n== ${build.state}: build ${build.buildId} (${build.logGroup} ${build.logStream}) ==\n`);
    deps.io.out(build.lines.map((l) => `${l}\n`).join(''));
  }
  const timings = renderer.timings();
  if (timings.length > 0) deps.io.out(`\ntime per step: ${timings.map((t) => `${t.state} ${formatDuration(t.ms)}`).join(', ')}\n`);
  return EXIT.OK;
}
