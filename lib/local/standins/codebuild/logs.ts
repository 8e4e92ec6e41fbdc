/** The build's log lines to CloudWatch Logs (`/aws/codebuild/<project>`), as CodeBuild writes them. */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  type InputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';

export async function writeLogs(
  endpoint: string,
  region: string,
  group: string,
  stream: string,
  events: readonly InputLogEvent[],
): Promise<void> {
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
