import { createRenderer, describeOutput } from '../../lib/cli/progress';

/** The progress display as a pipe (no TTY) sees it: plain lines, no escape codes. No network. */
const at = new Date(0);

function render(isTTY = false, now: () => number = () => 0) {
  const chunks: string[] = [];
  const renderer = createRenderer({ write: (s) => chunks.push(s), isTTY, now });
  return { renderer, text: () => chunks.join('') };
}

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
    renderer.onEvent({ type: 'awaitingApproval', state: 'WaitForApproval', at, name: 'demo', plan: ['network (Terraform): no changes', 'kops rolls: nodes'], expiresAt: '2026-12-01T13:00:00.000Z' });
    expect(text()).toBe('  ⏸ WaitForApproval: fabric demo waits for approval until 2026-12-01T13:00:00.000Z\n    network (Terraform): no changes\n    kops rolls: nodes\n');
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
    const pipe = render(false, () => pipeClock.t);
    events(pipe.renderer, pipeClock);
    expect(pipe.text()).toBe('  ▸ NetworkJob\n    │ terraform init\n    │ terraform apply\n');
    const ttyClock = { t: 0 };
    const tty = render(true, () => ttyClock.t);
    events(tty.renderer, ttyClock);
    expect(tty.text()).toMatch(/\r\x1b\[2K/);
  });

  test('GIVEN a finished provision WHEN summarised THEN status, fabric facts, total and time per step', () => {
    const { renderer, text } = render();
    renderer.onEvent({ type: 'stateExited', state: 'NetworkJob', at, durationMs: 61000 });
    renderer.summary(
      {
        status: 'SUCCEEDED',
        output: { name: 'demo', status: 'READY', clusterName: 'demo.example.com', zones: ['us-east-2a'], outputs: { vpcId: 'vpc-1', subnetIds: { 'us-east-2a': 'subnet-1' }, stateBucket: 'b' } },
      },
      90000,
    );
    expect(text()).toContain('status: SUCCEEDED\nfabric: demo\nrecord status: READY\ncluster: demo.example.com\nzones: us-east-2a\nvpc: vpc-1\nsubnets: us-east-2a=subnet-1\nstate bucket: b\nrecord: s3://b/fabrics/demo/fabric.json\nstate keys: fabrics/demo/network.tfstate, fabrics/demo/cluster.tfstate, fabrics/demo/kops/\ntotal: 1m30s\ntime per step:\n  NetworkJob  1m01s\n');
  });

  test('GIVEN a failed run WHEN summarised THEN the error name and cause are printed', () => {
    const { renderer, text } = render();
    renderer.summary({ status: 'FAILED', error: 'InsufficientZones', cause: 'region has 2 zones' });
    expect(text()).toContain('error: InsufficientZones\ncause: region has 2 zones');
  });
});

describe('next step after a run', () => {
  const ready = { name: 'demo', status: 'READY', clusterName: 'demo.example.com', spec: { region: 'eu-west-1' }, zones: ['eu-west-1a'], outputs: { stateBucket: 'b' } };

  test('GIVEN a provision that made the fabric READY WHEN summarised THEN the last line says how to reach the cluster', () => {
    const { renderer, text } = render();
    renderer.summary({ status: 'SUCCEEDED', output: ready }, 1000);
    expect(text().trimEnd().split('\n').at(-1)).toBe('next: fabricctl kubeconfig demo --region eu-west-1 && kubectl get nodes');
  });

  test('GIVEN a local run (its API stand-in ends with it) WHEN summarised THEN no kubeconfig step is offered', () => {
    const chunks: string[] = [];
    createRenderer({ write: (s) => chunks.push(s), isTTY: false, nextSteps: false }).summary({ status: 'SUCCEEDED', output: ready }, 1000);
    expect(chunks.join('')).not.toContain('next:');
  });

  test('GIVEN a failed run or a destroy WHEN summarised THEN no kubeconfig step is offered', () => {
    const failed = render();
    failed.renderer.summary({ status: 'FAILED', error: 'ClusterNotReady', cause: 'deadline' });
    const destroyed = render();
    destroyed.renderer.summary({ status: 'SUCCEEDED', output: { ...ready, status: 'DESTROYED' } });
    expect([failed.text(), destroyed.text()].join('')).not.toContain('next:');
  });
});

describe('describeOutput', () => {
  test('GIVEN a plan output WHEN described THEN each job reports its changes', () => {
    expect(describeOutput({ fabric: { name: 'demo' }, network: { changes: { add: 9, change: 0, destroy: 0 } } })).toEqual(['fabric: demo', 'network plan: 9 to add, 0 to change, 0 to destroy']);
  });
});

describe('failures', () => {
  test('GIVEN a Lambda error cause in JSON WHEN a state fails and exits THEN the message is shown and the exit is marked failed', () => {
    const { renderer, text } = render();
    renderer.onEvent({ type: 'stateFailed', state: 'Prepare', at, error: 'InsufficientZones', cause: '{"errorType":"InsufficientZones","errorMessage":"region has 3 zones","trace":[]}' });
    renderer.onEvent({ type: 'stateExited', state: 'Prepare', at, durationMs: 500 });
    expect(text()).toBe('  ✗ Prepare InsufficientZones: region has 3 zones\n  ✗ Prepare 500ms\n');
  });
});
