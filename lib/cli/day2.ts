import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { formatDuration, parseDuration } from '../domain/duration';
import { nameProblem, normaliseName } from '../domain/spec';
import { approve, callerArn, pendingApproval, reject, renderApprovalRequest, stepFunctionsTokens } from './approval';
import { clientOptions } from '../../lambdas/shared/clients';
import type { CliDeps, GlobalOptions } from './commands';
import { regionOf } from './commands';
import { CliError, EXIT, ExitCode, printJson, wantsJson } from './io';
import { DEFAULT_STACK, findStack, startRun } from './remote';

/** `approve`, `reject` and `extend`: the day-2 answers to a waiting run and to a lease. */

function fabricName(raw: string): string {
  const fix = nameProblem(raw);
  if (fix) throw new CliError(EXIT.USAGE, 'FabricSpecInvalid', `fabric name ${JSON.stringify(raw)}: ${fix}`);
  return normaliseName(raw);
}

async function lockTableOf(deps: CliDeps, options: GlobalOptions): Promise<{ region: string; lockTable: string; stateMachineArn: string }> {
  const region = await regionOf(deps, options);
  const stack = await findStack(deps.clients(region).cfn, options.stack ?? DEFAULT_STACK);
  if (!stack.lockTableName)
    throw new CliError(
      EXIT.NOT_FOUND,
      'StackOutputMissing',
      `stack ${options.stack ?? DEFAULT_STACK} has no LockTableName output; redeploy it with npx cdk deploy`,
    );
  return { region, lockTable: stack.lockTableName, stateMachineArn: stack.stateMachineArn };
}

export async function approvalCommand(
  deps: CliDeps,
  decision: 'approve' | 'reject',
  rawName: string,
  options: GlobalOptions & { reason?: string },
): Promise<ExitCode> {
  const name = fabricName(rawName);
  const { region, lockTable } = await lockTableOf(deps, options);
  const clients = deps.clients(region);
  const request = await pendingApproval(clients.dynamodb ?? new DynamoDBClient(clientOptions(region)), lockTable, name);
  const who = await callerArn(clients.sts);
  const tokens = stepFunctionsTokens(clients.sfn);
  if (decision === 'approve') {
    const answer = await approve(request, tokens, who, deps.io.now());
    if (wantsJson(options)) printJson(deps.io, { name, execution: request.execution, decision, ...answer });
    else
      deps.io.out(
        `${renderApprovalRequest(request)}approved by ${who}: the run applies this plan now (fabricctl logs ${name} follows it)\n`,
      );
  } else {
    await reject(request, tokens, who, options.reason);
    if (wantsJson(options)) printJson(deps.io, { name, execution: request.execution, decision, rejectedBy: who, reason: options.reason });
    else deps.io.out(`rejected by ${who}: the run ends without applying; fabric ${name} keeps its previous state\n`);
  }
  return EXIT.OK;
}

export async function extendCommand(
  deps: CliDeps,
  rawName: string,
  duration: string,
  options: GlobalOptions & { fabricRegion?: string },
): Promise<ExitCode> {
  const name = fabricName(rawName);
  const seconds = parseDuration(duration);
  if (seconds === undefined)
    throw new CliError(
      EXIT.USAGE,
      'FabricSpecInvalid',
      `extend by ${JSON.stringify(duration)}: write a whole number and a unit (m, h or d), such as 24h`,
    );
  const { region, stateMachineArn } = await lockTableOf(deps, options);
  const clients = deps.clients(region);
  const executionName = `extend-${name}-${deps.io.now().getTime()}`.slice(0, 80);
  const run = await startRun(clients.sfn, stateMachineArn, executionName, {
    action: 'extend',
    name,
    region: options.fabricRegion ?? region,
    extendBy: formatDuration(seconds),
  });
  if (wantsJson(options)) printJson(deps.io, { ...run, extendBy: formatDuration(seconds) });
  else
    deps.io.out(
      `extending ${name} by ${formatDuration(seconds)}: ${run.executionArn}\nthe new expiry shows in: fabricctl status ${name}\n`,
    );
  return EXIT.OK;
}
