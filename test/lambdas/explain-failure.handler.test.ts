import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { handler as Handler } from '../../lambdas/explain-failure/handler';
import { describeWithMoto, resetMoto, useMoto } from '../support/moto';

function cause(group: string, stream: string): string {
  return JSON.stringify({
    Build: {
      Id: `FabricClusterJob:${stream}`,
      BuildStatus: 'FAILED',
      CurrentPhase: 'COMPLETED',
      ProjectName: 'FabricClusterJob',
      Phases: [
        {
          PhaseType: 'BUILD',
          PhaseStatus: 'FAILED',
          Contexts: [
            {
              StatusCode: 'COMMAND_EXECUTION_ERROR',
              Message: 'Error while executing command: buildspecs/scripts/cluster.sh. Reason: exit status 1',
            },
          ],
        },
      ],
      Logs: { GroupName: group, StreamName: stream },
    },
  });
}

describeWithMoto('ExplainFailure handler against moto', () => {
  const moto = useMoto();
  let handler: typeof Handler;
  beforeAll(async () => {
    ({ handler } = await import('../../lambdas/explain-failure/handler'));
  });
  beforeEach(async () => resetMoto(moto.current()));

  test("GIVEN a failed cluster build logged to CloudWatch WHEN explained THEN the cause has kops's error from the log tail", async () => {
    const logs = new CloudWatchLogsClient({});
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/aws/codebuild/FabricClusterJob' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: '/aws/codebuild/FabricClusterJob', logStreamName: 'b-1' }));
    const lines = [
      ...Array.from({ length: 300 }, (_, i) => `noise ${i}`),
      'Error: error building complete spec: only one control-plane zone given',
      '[Container] Phase complete: BUILD State: FAILED',
    ];
    const start = Date.now();
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: '/aws/codebuild/FabricClusterJob',
        logStreamName: 'b-1',
        logEvents: lines.map((message, i) => ({ timestamp: start + i, message })),
      }),
    );

    const result = await handler({
      fabric: { name: 'demo', execution: 'arn:e' },
      error: { Error: 'States.TaskFailed', Cause: cause('/aws/codebuild/FabricClusterJob', 'b-1') },
    });

    expect(result.Error).toBe('States.TaskFailed');
    expect(result.Cause).toContain(
      'fabric demo: the cluster job (CodeBuild project FabricClusterJob) ended FAILED in phase BUILD (FAILED)',
    );
    expect(result.Cause).toContain(
      'Last error lines of the build log:\nError: error building complete spec: only one control-plane zone given',
    );
    expect(result.Cause).toContain('Full log: CloudWatch Logs group /aws/codebuild/FabricClusterJob, stream b-1.');
  });

  test('GIVEN a build without a log stream WHEN explained THEN the cause says the log was unreadable, keeps the original', async () => {
    const original = cause('/aws/codebuild/Missing', 'nope');
    const result = await handler({ error: { Error: 'States.TaskFailed', Cause: original } });
    expect(result.Cause).toContain('The build log could not be read (ResourceNotFoundException');
    expect(result.Cause).toContain(`Original cause: ${original}`);
  });
});
