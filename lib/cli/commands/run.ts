import type { ApprovalRequest, ExecutionInput, RunAction } from '../../domain/contract';
import { approve, reject, renderApprovalRequest } from '../approval';
import { problem } from '../../domain/errors';
import { nameProblem, normaliseName } from '../../domain/spec';
import type { AwsClients } from '../aws';
import { CliError, CliIo, EXIT, ExitCode, printJson, wantsJson } from '../io';
import { createRenderer, RunContext, RunOutcome } from '../progress';
import { DEFAULT_STACK, executionNameForRun, findStack, gitOfSpec, startRun, watchExecution } from '../remote';
import { CliDeps, GlobalOptions, LocalRunOptions, lazy, readSpecFile, regionOf, validated } from './context';
import { planCost } from './validate';

/** `fabricctl up|plan|down`: a run started in the deployed stack (or locally), watched to its end. */

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

export type Action = RunAction;

export function exitFor(status: RunOutcome['status']): ExitCode {
  return status === 'SUCCEEDED' || status === 'RUNNING' ? EXIT.OK : EXIT.FAILED;
}

export async function runLocally(
  deps: CliDeps,
  action: Action,
  options: RunOptions,
  target: { specPath?: string; specInput?: unknown; name?: string },
  run: RunContext,
): Promise<ExitCode> {
  const { io } = deps;
  const runLocal = deps.runLocal ?? ((o: LocalRunOptions) => lazy<typeof import('../../local/run')>('../../local/run').runLocal(o));
  // Before anything starts: a missing tool is named with its fix, not met half way through a build.
  (deps.checkLocalPrerequisites ?? lazy<typeof import('../../local/prerequisites')>('../../local/prerequisites').assertLocalPrerequisites)({
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
export async function answerLocalApproval(io: CliIo, request: ApprovalRequest, approveFlag: boolean): Promise<void> {
  const { localTaskTokens } = lazy<typeof import('../../local/task-tokens')>('../../local/task-tokens');
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
      ? lazy<typeof import('../local-account')>('../local-account').findLocalAccount(deps)
      : undefined;
  if (options.local && !account)
    return runLocally(deps, action, options, action === 'destroy' ? { name } : { specPath, specInput }, { ...context, local: true });
  if (account) {
    deps = lazy<typeof import('../local-account')>('../local-account').localAccountDeps(deps, account);
    io.err(
      `local account in ${account.home}: Step Functions ${account.stepFunctions?.endpoint ?? '?'}, ` +
        `AWS emulator ${account.moto?.endpoint ?? '?'}` +
        `${options.keepEmulator ? ' (it keeps running: --keep-emulator is not needed)' : ''}\n`,
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
  // The fabric's record, which logs, status and kubeconfig read, is kept in the fabric's region (the stack's may differ).
  const recordsRegion = action === 'destroy' ? input.region : specRegion;
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
    else io.out(`follow it with: fabricctl logs ${name}${recordsRegion ? ` --region ${recordsRegion}` : ''}${account ? ' --local' : ''}\n`);
    return EXIT.OK;
  }
  const renderer = createRenderer({
    write: say,
    isTTY: io.isTTY && !wantsJson(options),
    showLogs: options.verbose ? true : 'onFailure',
    // A local account's next commands take --local, never the cloud's.
    run: { ...context, region: recordsRegion, ...(account ? { local: true } : {}) },
  });
  // --local --approve: the local account's run asks as a cloud run does; answer it here once it asks.
  const approving = new AbortController();
  const approver =
    account && options.approve && stack.lockTableName
      ? lazy<typeof import('../local-account')>('../local-account').approveWhenAsked(
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
