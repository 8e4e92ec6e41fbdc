import { createRenderer, describeOutput, nextCommand, readableCause, RendererOptions, RunContext } from '../../lib/cli/progress';

/** The progress display as a pipe (no TTY) sees it: plain lines, no escape codes. No network. */
const at = new Date(0);

function render(isTTY = false, now: () => number = () => 0, extra: Partial<RendererOptions> = {}) {
  const chunks: string[] = [];
  const renderer = createRenderer({ write: (s) => chunks.push(s), isTTY, now, ...extra });
  return { renderer, text: () => chunks.join('') };
}

/** A failed network build as Step Functions gives it for startBuild.sync (abridged). */
const BUILD_CAUSE = JSON.stringify({
  Build: {
    Id: 'FabricNetworkJob:1b2c',
    BuildStatus: 'FAILED',
    ProjectName: 'FabricNetworkJob',
    Phases: [
      {
        PhaseType: 'BUILD',
        PhaseStatus: 'FAILED',
        Contexts: [
          {
            StatusCode: 'COMMAND_EXECUTION_ERROR',
            Message: 'Error while executing command: bash buildspecs/scripts/network.sh. Reason: exit status 1',
          },
        ],
      },
    ],
    Logs: { GroupName: '/aws/codebuild/FabricNetworkJob', StreamName: '1b2c' },
    Environment: { EnvironmentVariables: [{ Name: 'FABRIC_NAME', Value: 'demo' }] },
  },
});

describe('createRenderer', () => {
  test('GIVEN a state entered and left WHEN not a TTY THEN one plain line each, the second with the duration', () => {
    const { renderer, text } = render();
    renderer.onEvent({ type: 'stateEntered', state: 'ValidateSpec', at });
    renderer.onEvent({ type: 'stateExited', state: 'ValidateSpec', at, durationMs: 1500 });
    expect(text()).toBe('  ▸ ValidateSpec\n  ✓ ValidateSpec 1.5s\n');
  });

  test('GIVEN a retry and a wait WHEN rendered THEN both are visible', () => {
    const { renderer, text } = render();
    renderer.onEvent({ type: 'retry', state: 'AcquireLock', at, attempt: 2, error: 'FabricBusy', delayMs: 4000 });
    renderer.onEvent({ type: 'wait', state: 'WaitForReadiness', at, seconds: 30 });
    expect(text()).toBe('  ↻ AcquireLock retry 2 after FabricBusy, waiting 4.0s\n  ⏸ WaitForReadiness waiting 30s\n');
  });

  test('GIVEN a run waiting for approval WHEN rendered THEN the deadline and the plan lines are shown', () => {
    const { renderer, text } = render();
    renderer.onEvent({
      type: 'awaitingApproval',
      state: 'WaitForApproval',
      at,
      name: 'demo',
      plan: ['network (Terraform): no changes', 'kops rolls: nodes'],
      expiresAt: '2026-12-01T13:00:00.000Z',
    });
    expect(text()).toBe(
      '  ⏸ WaitForApproval: fabric demo waits for approval until 2026-12-01T13:00:00.000Z\n' +
        '    network (Terraform): no changes\n    kops rolls: nodes\n',
    );
  });

  test('GIVEN a non-TTY output WHEN a state runs long enough for the spinner THEN only plain lines are written, no escape codes', () => {
    // The same events on a terminal draw and clear the spinner (the control case below).
    const events = (renderer: ReturnType<typeof render>['renderer'], clock: { t: number }) => {
      renderer.onEvent({ type: 'stateEntered', state: 'NetworkJob', at });
      clock.t = 5000;
      renderer.onEvent({ type: 'log', state: 'NetworkJob', at, line: 'terraform init' });
      renderer.onEvent({ type: 'log', state: 'NetworkJob', at, line: 'terraform apply' });
      renderer.stop();
    };
    const pipeClock = { t: 0 };
    const pipe = render(false, () => pipeClock.t, { showLogs: true });
    events(pipe.renderer, pipeClock);
    expect(pipe.text()).toBe('  ▸ NetworkJob\n    │ terraform init\n    │ terraform apply\n');
    const ttyClock = { t: 0 };
    const tty = render(true, () => ttyClock.t, { showLogs: true });
    events(tty.renderer, ttyClock);
    // The terminal's own escape (ESC [2K, erase line) is what the spinner must write on a TTY.
    // eslint-disable-next-line no-control-regex
    expect(tty.text()).toMatch(/\r\x1b\[2K/);
  });

  test('GIVEN a finished provision WHEN summarised THEN status, fabric facts, total and time per step', () => {
    const { renderer, text } = render();
    renderer.onEvent({ type: 'stateExited', state: 'NetworkJob', at, durationMs: 61000 });
    renderer.summary(
      {
        status: 'SUCCEEDED',
        output: {
          name: 'demo',
          status: 'READY',
          clusterName: 'demo.example.com',
          zones: ['us-east-2a'],
          outputs: { vpcId: 'vpc-1', subnetIds: { 'us-east-2a': 'subnet-1' }, stateBucket: 'b' },
        },
      },
      90000,
    );
    expect(text()).toContain(
      'status: SUCCEEDED\nfabric: demo\nrecord status: READY\ncluster: demo.example.com\n' +
        'zones: us-east-2a\nvpc: vpc-1\nsubnets: us-east-2a=subnet-1\n' +
        'state bucket: b\nrecord: s3://b/fabrics/demo/fabric.json\n' +
        'state keys: fabrics/demo/network.tfstate, fabrics/demo/cluster.tfstate, fabrics/demo/kops/\n' +
        'total: 1m30s\ntime per step:\n  NetworkJob  1m01s\n',
    );
  });

  test('GIVEN a failed run WHEN summarised THEN the error name and cause are printed', () => {
    const { renderer, text } = render();
    renderer.summary({ status: 'FAILED', error: 'InsufficientZones', cause: 'region has 2 zones' });
    expect(text()).toContain('error: InsufficientZones\ncause: region has 2 zones');
  });
});

describe('next step after a run', () => {
  const ready = {
    name: 'demo',
    status: 'READY',
    clusterName: 'demo.example.com',
    spec: { region: 'eu-west-1' },
    zones: ['eu-west-1a'],
    outputs: { stateBucket: 'b' },
  };
  const lastLine = (text: string) => text.trimEnd().split('\n').at(-1);

  test('GIVEN a provision that made the fabric READY WHEN summarised THEN the last line says how to reach the cluster', () => {
    const { renderer, text } = render();
    renderer.summary({ status: 'SUCCEEDED', output: ready }, 1000);
    expect(lastLine(text())).toBe('next: fabricctl kubeconfig demo --region eu-west-1 && kubectl get nodes');
  });

  test('GIVEN a local run (its API stand-in ends with it) WHEN summarised THEN no kubeconfig step is offered', () => {
    const { renderer, text } = render(false, () => 0, { run: { action: 'provision', name: 'demo', spec: 'fabric.json', local: true } });
    renderer.summary({ status: 'SUCCEEDED', output: ready }, 1000);
    expect(text()).not.toContain('next:');
  });

  test('GIVEN nextSteps false WHEN summarised THEN no next command at all', () => {
    const { renderer, text } = render(false, () => 0, { nextSteps: false, run: { action: 'plan', name: 'demo', spec: 'fabric.json' } });
    renderer.summary({ status: 'SUCCEEDED', output: {} }, 1000);
    expect(text()).not.toContain('next:');
  });

  test('GIVEN a finished plan WHEN summarised THEN the last line is the up of the same spec', () => {
    const { renderer, text } = render(false, () => 0, {
      run: { action: 'plan', name: 'demo', spec: 'fabrics/demo/fabric.json', region: 'us-east-2' },
    });
    renderer.summary(
      { status: 'SUCCEEDED', output: { fabric: { name: 'demo' }, network: { changes: { add: 9, change: 0, destroy: 0 } } } },
      1000,
    );
    expect(lastLine(text())).toBe('next: fabricctl up fabrics/demo/fabric.json');
  });

  test('GIVEN a failed cloud run WHEN summarised THEN the last line is the logs of the fabric in its region', () => {
    const { renderer, text } = render(false, () => 0, {
      run: { action: 'provision', name: 'demo', spec: 'fabric.json', region: 'eu-west-1' },
    });
    renderer.summary({ status: 'FAILED', error: 'ClusterNotReady', cause: 'deadline' });
    expect(lastLine(text())).toBe('next: fabricctl logs demo --region eu-west-1');
  });

  test.each<[string, RunContext, Parameters<typeof nextCommand>[0], string | undefined]>([
    [
      'a plan run locally',
      { action: 'plan', name: 'demo', spec: 'fabric.json', local: true },
      { status: 'SUCCEEDED', output: {} },
      'fabricctl up fabric.json --local',
    ],
    [
      'a destroy',
      { action: 'destroy', name: 'demo', region: 'us-east-2' },
      { status: 'SUCCEEDED', output: { ...ready, status: 'DESTROYED' } },
      'fabricctl list --region us-east-2',
    ],
    [
      'a local destroy (its emulator is gone)',
      { action: 'destroy', name: 'demo', local: true },
      { status: 'SUCCEEDED', output: { ...ready, status: 'DESTROYED' } },
      undefined,
    ],
    ['a timed-out cloud destroy', { action: 'destroy', name: 'demo' }, { status: 'TIMED_OUT' }, 'fabricctl logs demo'],
    [
      'a failed local up',
      { action: 'provision', name: 'demo', spec: 'fabric.json', local: true },
      { status: 'FAILED', error: 'States.TaskFailed' },
      'fabricctl up fabric.json --local --verbose    # every build line',
    ],
    [
      'a failed local down',
      { action: 'destroy', name: 'demo', local: true },
      { status: 'FAILED', error: 'States.TaskFailed' },
      'fabricctl down demo --confirm demo --local --verbose    # every build line',
    ],
    [
      'a failed local up that was already verbose',
      { action: 'provision', name: 'demo', spec: 'fabric.json', local: true, verbose: true },
      { status: 'FAILED' },
      undefined,
    ],
    ['a run still going (watching stopped)', { action: 'provision', name: 'demo', spec: 'fabric.json' }, { status: 'RUNNING' }, undefined],
  ])('GIVEN %s WHEN the next command is chosen THEN it is the one to run', (_case, run, outcome, expected) => {
    expect(nextCommand(outcome, run)).toBe(expected);
  });
});

describe('build logs', () => {
  const logs = (renderer: ReturnType<typeof render>['renderer'], state: string, count: number) => {
    for (let i = 1; i <= count; i += 1) renderer.onEvent({ type: 'log', state, at, line: `line ${i}` });
  };

  test('GIVEN a build that succeeds WHEN not verbose THEN none of its lines are shown', () => {
    const { renderer, text } = render();
    renderer.onEvent({ type: 'stateEntered', state: 'NetworkJob', at });
    logs(renderer, 'NetworkJob', 5);
    renderer.onEvent({ type: 'stateExited', state: 'NetworkJob', at, durationMs: 1000 });
    expect(text()).toBe('  ▸ NetworkJob\n  ✓ NetworkJob 1.0s\n');
  });

  test('GIVEN a failing build WHEN not verbose THEN the explained cause (never the build JSON), its last lines, then those to come', () => {
    const { renderer, text } = render(false, () => 0, { failedBuildTail: 3 });
    logs(renderer, 'NetworkJob', 5);
    renderer.onEvent({ type: 'stateFailed', state: 'NetworkJob', at, error: 'States.TaskFailed', cause: BUILD_CAUSE });
    renderer.onEvent({ type: 'log', state: 'NetworkJob', at, line: 'late line' });
    expect(text()).toBe(
      '  ✗ NetworkJob States.TaskFailed: the network job (CodeBuild project FabricNetworkJob) ' +
        'ended FAILED in phase BUILD (FAILED), build FabricNetworkJob:1b2c: ' +
        'COMMAND_EXECUTION_ERROR: Error while executing command: bash buildspecs/scripts/network.sh. Reason: exit status 1\n' +
        '    Full log: CloudWatch Logs group /aws/codebuild/FabricNetworkJob, stream 1b2c.\n' +
        "    last 3 line(s) of NetworkJob's build log (--verbose shows every line):\n" +
        '    │ line 3\n    │ line 4\n    │ line 5\n    │ late line\n',
    );
    expect(text()).not.toContain('{');
  });

  test('GIVEN a build that fails WHEN verbose THEN every line was shown as it came and none is repeated', () => {
    const { renderer, text } = render(false, () => 0, { showLogs: true });
    logs(renderer, 'NetworkJob', 2);
    renderer.onEvent({ type: 'stateFailed', state: 'NetworkJob', at, error: 'States.TaskFailed', cause: BUILD_CAUSE });
    expect(text().match(/line 1/g)).toHaveLength(1);
    expect(text()).not.toContain('last ');
  });

  test('GIVEN logs off (fabricctl logs prints the builds itself) WHEN a build fails THEN no line of it is shown', () => {
    const { renderer, text } = render(false, () => 0, { showLogs: false });
    logs(renderer, 'NetworkJob', 2);
    renderer.onEvent({ type: 'stateFailed', state: 'NetworkJob', at, error: 'States.TaskFailed', cause: BUILD_CAUSE });
    expect(text()).not.toContain('│');
  });

  test('GIVEN the failed execution WHEN its cause is explained THEN one line is printed there and the summary carries the rest', () => {
    const { renderer, text } = render();
    renderer.onEvent({
      type: 'executionFailed',
      at,
      error: 'States.TaskFailed',
      cause: 'fabric demo: the network job ended FAILED\nLast error lines of the build log:\nError: invalid CIDR',
    });
    expect(text()).toBe('execution failed: States.TaskFailed: fabric demo: the network job ended FAILED\n');
  });
});

describe('readableCause', () => {
  test('GIVEN a build cause WHEN read THEN which job, phase and build, and where the log is', () => {
    expect(readableCause(BUILD_CAUSE).split('\n')).toEqual([
      'the network job (CodeBuild project FabricNetworkJob) ' +
        'ended FAILED in phase BUILD (FAILED), build FabricNetworkJob:1b2c: COMMAND_EXECUTION_ERROR: ' +
        'Error while executing command: bash buildspecs/scripts/network.sh. Reason: exit status 1',
      'Full log: CloudWatch Logs group /aws/codebuild/FabricNetworkJob, stream 1b2c.',
    ]);
  });

  test("GIVEN an explained cause (ExplainFailure's output) WHEN read THEN it is shown as it is", () => {
    expect(readableCause('fabric demo: the network job ended FAILED\nError: x')).toBe(
      'fabric demo: the network job ended FAILED\nError: x',
    );
  });
});

describe('describeOutput', () => {
  test('GIVEN a plan output WHEN described THEN each job reports its changes', () => {
    expect(describeOutput({ fabric: { name: 'demo' }, network: { changes: { add: 9, change: 0, destroy: 0 } } })).toEqual([
      'fabric: demo',
      'network plan: 9 to add, 0 to change, 0 to destroy',
    ]);
  });
});

describe('failures', () => {
  test('GIVEN a Lambda error cause in JSON WHEN a state fails and exits THEN the message is shown and the exit is marked failed', () => {
    const { renderer, text } = render();
    renderer.onEvent({
      type: 'stateFailed',
      state: 'Prepare',
      at,
      error: 'InsufficientZones',
      cause: '{"errorType":"InsufficientZones","errorMessage":"region has 3 zones","trace":[]}',
    });
    renderer.onEvent({ type: 'stateExited', state: 'Prepare', at, durationMs: 500 });
    expect(text()).toBe('  ✗ Prepare InsufficientZones: region has 3 zones\n  ✗ Prepare 500ms\n');
  });
});
