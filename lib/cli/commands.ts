import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { DescribeAvailabilityZonesCommand } from '@aws-sdk/client-ec2';
import { GetExecutionHistoryCommand, HistoryEvent } from '@aws-sdk/client-sfn';
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { ApprovalRequest, ExecutionInput, RunAction } from '../domain/contract';
import { approve, reject, renderApprovalRequest } from './approval';
import { chooseZones, usableZoneNames } from '../domain/zones';
import { FabricSpecInvalid, Problem, problem } from '../domain/errors';
import { clusterNameOf, DEFAULT_REGION, FabricSpec, nameProblem, normaliseName, parseFabricSpec } from '../domain/spec';
import { parseSpecJson } from '../domain/spec-document';
import type { ProgressEvent } from '../progress-events';
import { resolveRegion, type AwsClientFactory, type AwsClients } from './aws';
import { HistoryConverter } from './history';
import { CliError, CliIo, EXIT, ExitCode, formatDuration, printJson, wantsJson } from './io';
import { createRenderer, RunContext, RunOutcome } from './progress';
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
  /** Throws, naming each missing tool and how to get it, when local mode cannot run here (lib/local/prerequisites.ts). */
  readonly checkLocalPrerequisites?: (options: { readonly aws?: boolean; readonly endpoint?: string }) => void;
  /** Asks a question on the terminal and returns the answer; undefined when stdin is not a terminal. */
  readonly ask?: (question: string) => Promise<string>;
  /** Poll interval while watching, ms. */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What the CLI needs of local mode (lib/local/run.ts); the type only, the module loads on demand. */
export type LocalRunOptions = import('../local/run').RunLocalOptions;
export type LocalRunResult = Pick<
  import('../local/run').LocalRunResult,
  'status' | 'output' | 'error' | 'cause' | 'timings' | 'totalMs'
> & { readonly execution?: string };

export interface GlobalOptions {
  readonly region?: string;
  readonly profile?: string;
  readonly output?: string;
  readonly json?: boolean;
  readonly stack?: string;
}

export async function regionOf(deps: CliDeps, options: GlobalOptions): Promise<string> {
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
  if (!existsSync(full))
    throw new CliError(EXIT.NOT_FOUND, 'SpecNotFound', `spec file ${path} not found (fabricctl init <name> --domain <domain> writes one)`);
  const text = readFileSync(full, 'utf8');
  try {
    return { path: full, input: parseSpecJson(text) };
  } catch (error) {
    throw new CliError(EXIT.USAGE, 'FabricSpecInvalid', `${path} is not JSON: ${(error as Error).message}`, [
      problem('(file)', text.slice(0, 60), `fix the JSON syntax: ${(error as Error).message}`),
    ]);
  }
}

function validated(input: unknown): FabricSpec {
  try {
    return parseFabricSpec(input);
  } catch (error) {
    if (error instanceof FabricSpecInvalid)
      throw new CliError(EXIT.USAGE, 'FabricSpecInvalid', `the spec has ${error.problems.length} problem(s)`, error.problems);
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
    // Filter first, then take: an unavailable zone never counts (lambdas/discover-zones/core.ts).
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

/** The spec files a `validate` argument names: the file itself, or every fabric.json under a directory. */
function specFilesOf(io: CliIo, arg: string): string[] {
  const full = resolve(io.cwd, arg);
  if (!existsSync(full))
    throw new CliError(EXIT.NOT_FOUND, 'SpecNotFound', `spec file ${arg} not found (fabricctl init <name> --domain <domain> writes one)`);
  if (!statSync(full).isDirectory()) return [arg];
  const found: string[] = [];
  const walk = (dir: string): void => {
    // Symbolic links are not followed (a Dirent of a link is not a directory): no loops.
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name === 'fabric.json') found.push(join(arg, relative(full, path)));
    }
  };
  walk(full);
  if (found.length === 0)
    throw new CliError(
      EXIT.NOT_FOUND,
      'SpecNotFound',
      `no fabric.json under ${arg}: pass spec files, or a directory that holds fabric.json files`,
    );
  return found;
}

interface FileVerdict {
  readonly path: string;
  /** The normalised name the file claims, when its raw name is one the schema accepts. */
  readonly fabric?: string;
  readonly rawName?: string;
  readonly spec?: FabricSpec;
  readonly problems: Problem[];
}

function verdictOf(io: CliIo, path: string): FileVerdict {
  let input: unknown;
  try {
    ({ input } = readSpecFile(io, path));
  } catch (error) {
    // A file that is not JSON is one file's problem: the other files are still checked.
    if (error instanceof CliError && Array.isArray(error.details)) return { path, problems: error.details as Problem[] };
    throw error;
  }
  const rawName =
    input !== null && typeof input === 'object' && typeof (input as { name?: unknown }).name === 'string'
      ? (input as { name: string }).name
      : undefined;
  const fabric = rawName !== undefined && nameProblem(rawName) === undefined ? normaliseName(rawName) : undefined;
  try {
    return { path, rawName, fabric, spec: parseFabricSpec(input), problems: [] };
  } catch (error) {
    if (!(error instanceof FabricSpecInvalid)) throw error;
    return { path, rawName, fabric, problems: [...error.problems] };
  }
}

/** Two files naming one fabric (demo, Demo, de-mo): a fabric has one branch, one lock and one record. */
function reportCollisions(verdicts: readonly FileVerdict[]): void {
  const byFabric = new Map<string, FileVerdict[]>();
  for (const v of verdicts) if (v.fabric !== undefined) byFabric.set(v.fabric, [...(byFabric.get(v.fabric) ?? []), v]);
  for (const [fabric, group] of byFabric) {
    if (group.length < 2) continue;
    for (const v of group) {
      const others = group
        .filter((o) => o !== v)
        .map((o) => `${JSON.stringify(o.rawName)} in ${o.path}`)
        .join(', ');
      v.problems.push(
        problem(
          'name',
          v.rawName,
          `rename this fabric or the other: ${others} also normalises to ${fabric}, and one fabric has one branch (fabric/${fabric}), one lock and one record`,
        ),
      );
    }
  }
}

/**
 * `validate <spec...>`: each file (or each fabric.json under a directory) is checked with the
 * schema the state machine uses; with several, two that name the same fabric are reported too.
 */
export async function validateCommand(deps: CliDeps, specPaths: readonly string[], options: GlobalOptions): Promise<ExitCode> {
  const { io } = deps;
  const files = [...new Map(specPaths.flatMap((p) => specFilesOf(io, p)).map((p) => [resolve(io.cwd, p), p])).values()];
  const verdicts = files.map((path) => verdictOf(io, path));
  reportCollisions(verdicts);
  const valid = verdicts.every((v) => v.problems.length === 0);
  const single = specPaths.length === 1 && files.length === 1 && files[0] === specPaths[0];
  if (wantsJson(options)) {
    const shape = (v: FileVerdict) => (v.problems.length === 0 ? { valid: true, spec: v.spec } : { valid: false, problems: v.problems });
    const [only] = verdicts;
    printJson(io, single && only ? shape(only) : { valid, files: verdicts.map((v) => ({ path: v.path, ...shape(v) })) });
    return valid ? EXIT.OK : EXIT.USAGE;
  }
  for (const v of verdicts) {
    if (v.problems.length === 0 && v.spec)
      io.out(`${v.path}: valid (fabric ${v.spec.name}, cluster ${clusterNameOf(v.spec)}, region ${v.spec.region})\n`);
    else io.err(`${v.path}: ${v.problems.length} problem(s)\n${renderProblems(v.problems)}`);
  }
  return valid ? EXIT.OK : EXIT.USAGE;
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
  const report = costReport(input, {});
  if (wantsJson(options)) printJson(deps.io, report.json);
  else deps.io.out(`${report.text}\n`);
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
  readonly approve?: boolean;
}

type Action = RunAction;

function exitFor(status: RunOutcome['status']): ExitCode {
  return status === 'SUCCEEDED' || status === 'RUNNING' ? EXIT.OK : EXIT.FAILED;
}

async function runLocally(
  deps: CliDeps,
  action: Action,
  options: RunOptions,
  target: { specPath?: string; specInput?: unknown; name?: string },
  run: RunContext,
): Promise<ExitCode> {
  const { io } = deps;
  const runLocal = deps.runLocal ?? ((o: LocalRunOptions) => lazy<typeof import('../local/run')>('../local/run').runLocal(o));
  // Before anything starts: a missing tool is named with its fix, not met half way through a build.
  (deps.checkLocalPrerequisites ?? lazy<typeof import('../local/prerequisites')>('../local/prerequisites').assertLocalPrerequisites)({
    aws: options.aws,
    endpoint: options.endpoint,
  });
  const renderer = createRenderer({
    write: wantsJson(options) ? io.err : io.out,
    isTTY: io.isTTY && !wantsJson(options),
    showLogs: options.verbose ? true : 'onFailure',
    run,
  });
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
    stack: options.stack,
    onEvent: renderer.onEvent,
    log: (line) => io.err(`${line}\n`),
    onApprovalRequested: (request) => {
      void answerLocalApproval(io, request, options.approve === true).catch((error: unknown) =>
        io.err(`approval failed: ${String(error)}\n`),
      );
    },
  });
  const outcome: RunOutcome = {
    status: result.status,
    execution: result.execution,
    output: result.output,
    error: result.error,
    cause: result.cause,
  };
  const cost =
    action === 'plan' && result.status === 'SUCCEEDED' && target.specInput !== undefined ? planCost(target.specInput) : undefined;
  // Before the summary, which ends with the command to run next.
  if (cost && !wantsJson(options)) io.out(`\n${cost.text}\n`);
  renderer.summary(outcome, result.totalMs);
  if (wantsJson(options))
    printJson(io, { ...outcome, timings: result.timings, totalMs: result.totalMs, ...(cost ? { cost: cost.json } : {}) });
  return exitFor(result.status);
}

/**
 * A local run waiting for approval: --approve approves, a terminal asks, anything else rejects (no
 * one could answer, and waiting out the timeout helps nobody).
 */
async function answerLocalApproval(io: CliIo, request: ApprovalRequest, approveFlag: boolean): Promise<void> {
  const { localTaskTokens } = lazy<typeof import('../local/task-tokens')>('../local/task-tokens');
  io.err(`\n${renderApprovalRequest(request)}`);
  let approved = approveFlag;
  if (!approveFlag && io.isTTY) {
    const { createInterface } = await import('node:readline/promises');
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    approved = /^y(es)?$/i.test((await prompt.question('apply this plan? [y/N] ')).trim());
    prompt.close();
  }
  if (approved) await approve(request, localTaskTokens, approveFlag ? 'local user (--approve)' : 'local user (terminal)', new Date());
  else
    await reject(request, localTaskTokens, 'local user', approveFlag || io.isTTY ? 'answered no' : 'no terminal to ask and no --approve');
}

export async function runCommand(deps: CliDeps, action: Action, arg: string, options: RunOptions): Promise<ExitCode> {
  const { io } = deps;
  let input: ExecutionInput;
  let name: string;
  let specPath: string | undefined;
  let specInput: unknown;
  let specRegion: string | undefined;
  if (action === 'destroy') {
    const fix = nameProblem(arg);
    if (fix) throw new CliError(EXIT.USAGE, 'FabricSpecInvalid', `fabric name ${JSON.stringify(arg)}: ${fix}`, [problem('name', arg, fix)]);
    name = normaliseName(arg);
    let confirm = options.confirm;
    // On a terminal, typing the name is the confirmation; elsewhere --confirm must say it.
    if (confirm === undefined && deps.ask)
      confirm = (await deps.ask(`destroy fabric ${name}: its cluster, then its network. Type ${name} to confirm: `)).trim();
    if (confirm !== name) {
      throw new CliError(
        EXIT.USAGE,
        'ConfirmationRequired',
        `destroying fabric ${name} needs --confirm ${name} (received ${confirm === undefined ? 'nothing' : JSON.stringify(confirm)})`,
      );
    }
    options = { ...options, confirm };
  } else {
    ({ path: specPath, input: specInput } = readSpecFile(io, arg));
    ({ name, region: specRegion } = validated(specInput));
  }
  const context = { action, name, spec: action === 'destroy' ? undefined : arg, verbose: options.verbose === true };
  // --local: the running local account if there is one (a cloud-like run it keeps), else a run
  // with its own emulator, stopped at the end (npm run demo needs nothing else).
  const account =
    options.local && !options.endpoint && !options.aws
      ? lazy<typeof import('./local-account')>('./local-account').findLocalAccount(deps)
      : undefined;
  if (options.local && !account)
    return runLocally(deps, action, options, action === 'destroy' ? { name } : { specPath, specInput }, { ...context, local: true });
  if (account) {
    deps = lazy<typeof import('./local-account')>('./local-account').localAccountDeps(deps, account);
    io.err(
      `local account in ${account.home}: Step Functions ${account.stepFunctions?.endpoint ?? '?'}, AWS emulator ${account.moto?.endpoint ?? '?'}${options.keepEmulator ? ' (it keeps running: --keep-emulator is not needed)' : ''}\n`,
    );
  }

  const region = await regionOf(deps, options);
  const clients: AwsClients = deps.clients(region);
  const stack = await findStack(clients.cfn, options.stack ?? DEFAULT_STACK);
  if (action === 'destroy') {
    input = { action, name, confirm: options.confirm, region: options.fabricRegion ?? region };
  } else {
    input = { action, spec: specInput as ExecutionInput['spec'] };
  }
  const executionName = executionNameForRun({
    name,
    action,
    git: specPath ? gitOfSpec(specPath, deps.git) : undefined,
    now: io.now(),
    rerun: options.rerun,
  });
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
    else io.out(`follow it with: fabricctl logs ${name}${region ? ` --region ${region}` : ''}${account ? ' --local' : ''}\n`);
    return EXIT.OK;
  }
  const renderer = createRenderer({
    write: say,
    isTTY: io.isTTY && !wantsJson(options),
    showLogs: options.verbose ? true : 'onFailure',
    // A local account's next commands take --local, never the cloud's.
    run: { ...context, region: action === 'destroy' ? input.region : specRegion, ...(account ? { local: true } : {}) },
  });
  // --local --approve: the local account's run asks as a cloud run does; answer it here once it asks.
  const approving = new AbortController();
  const approver =
    account && options.approve && stack.lockTableName
      ? lazy<typeof import('./local-account')>('./local-account').approveWhenAsked(
          clients,
          stack.lockTableName,
          name,
          run.executionArn,
          approving.signal,
          () => say('approved the plan (--approve)\n'),
        )
      : undefined;
  const result = await watchExecution(run.executionArn, renderer.onEvent, {
    sfn: clients.sfn,
    logs: clients.logs,
    signal: deps.signal,
    pollMs: deps.pollMs ?? (account ? 1000 : undefined),
    sleep: deps.sleep,
  }).finally(() => approving.abort());
  await approver?.catch((error: unknown) => io.err(`approval failed: ${String(error)}\n`));
  if (result.interrupted) {
    renderer.stop();
    say(`\nstopped watching; the execution goes on: ${run.executionArn}\n`);
    if (wantsJson(options)) printJson(io, { ...run, status: 'RUNNING' });
    return EXIT.INTERRUPTED;
  }
  const outcome: RunOutcome = {
    status: result.status,
    execution: run.executionArn,
    output: result.output,
    error: result.error,
    cause: result.cause,
  };
  const cost = action === 'plan' && result.status === 'SUCCEEDED' ? planCost(input.spec) : undefined;
  // Before the summary, which ends with the command to run next.
  if (cost && !wantsJson(options)) io.out(`\n${cost.text}\n`);
  renderer.summary(outcome, result.totalMs);
  if (wantsJson(options)) printJson(io, { ...run, ...outcome, ...(cost ? { cost: cost.json } : {}) });
  return exitFor(result.status);
}

// ---------- status, list, logs ----------

async function recordsBucket(
  deps: CliDeps,
  options: GlobalOptions & { bucketPrefix?: string },
): Promise<{ clients: AwsClients; bucket: string }> {
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

export async function statusCommand(
  deps: CliDeps,
  name: string | undefined,
  options: GlobalOptions & { bucketPrefix?: string },
): Promise<ExitCode> {
  if (name === undefined) return listCommand(deps, options);
  const { clients, bucket } = await recordsBucket(deps, options);
  const record = await getRecord(clients.s3, bucket, name);
  if (wantsJson(options)) printJson(deps.io, record);
  else deps.io.out(renderStatus(record, deps.io.now()));
  // Showing a FAILED fabric is a success, as kubectl get of a failed pod is: the state is the output.
  return EXIT.OK;
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
        const page = await sfn.logs.send(
          new GetLogEventsCommand({ logGroupName: build.logGroup, logStreamName: build.logStream, startFromHead: true, nextToken: token }),
        );
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
