import { GetExecutionHistoryCommand, HistoryEvent } from '@aws-sdk/client-sfn';
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { ProgressEvent } from '../../progress-events';
import type { AwsClients } from '../aws';
import { HistoryConverter } from '../history';
import { CliError, EXIT, ExitCode, formatDuration, printJson, wantsJson } from '../io';
import { createRenderer } from '../progress';
import { getRecord, listRecords, renderList, renderStatus, stateBucketFor } from '../records';
import { DEFAULT_STACK, findStack } from '../remote';
import { CliDeps, GlobalOptions, regionOf } from './context';

/** `fabricctl status|list|logs`: the fabric records and the last execution's steps and build logs. */

export async function recordsBucket(
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
