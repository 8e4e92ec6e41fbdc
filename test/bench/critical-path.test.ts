import { pricePath, walkPath, type AslMachineLike, type PathStep, type StepDuration } from '../../bench/critical-path';

/**
 * The critical-path walker on small hand-written definitions. Durations here are made-up seconds
 * per state name, only to check how the walk adds them up.
 */
const seconds: Record<string, number> = {
  Start: 1,
  Fast: 2,
  Slow: 10,
  SlowToo: 5,
  Provision: 7,
  Poll: 3,
  Pause: 30,
  Record: 4,
  Plan: 100,
  Destroy: 200,
};
const durationOf = (step: PathStep): StepDuration => ({ seconds: seconds[step.state] ?? 0, what: step.state, source: 'test table' });

const machine: AslMachineLike = {
  StartAt: 'Start',
  States: {
    Start: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-2:123456789012:function:Start', Next: 'Prepare', Catch: [{ Next: 'Failed' }] },
    Prepare: {
      Type: 'Parallel',
      Next: 'ChooseAction',
      Branches: [
        { StartAt: 'Fast', States: { Fast: { Type: 'Task', End: true } } },
        { StartAt: 'Slow', States: { Slow: { Type: 'Task', Next: 'SlowToo' }, SlowToo: { Type: 'Task', End: true } } },
      ],
    },
    ChooseAction: { Type: 'Choice', Choices: [{ Next: 'Plan' }, { Next: 'Destroy' }], Default: 'Provision' },
    Provision: { Type: 'Task', Next: 'Poll' },
    Poll: { Type: 'Task', Next: 'IsReady' },
    IsReady: { Type: 'Choice', Choices: [{ Next: 'Record' }], Default: 'Pause' },
    Pause: { Type: 'Wait', Seconds: 30, Next: 'Poll' },
    Record: { Type: 'Task', Next: 'Done' },
    Done: { Type: 'Succeed' },
    Plan: { Type: 'Task', Next: 'Done' },
    Destroy: { Type: 'Task', Next: 'Done' },
    Failed: { Type: 'Fail' },
  },
};

describe('critical path walker', () => {
  test('GIVEN a Choice with rules and a Default WHEN walked THEN it follows the Default branch and never the rules', () => {
    const names = walkPath(machine).map((s) => s.state);
    expect(names).toContain('Provision');
    expect(names).not.toContain('Plan');
    expect(names).not.toContain('Destroy');
  });

  test('GIVEN a Parallel state WHEN priced THEN it counts once, as its slowest branch', () => {
    const path = pricePath(walkPath(machine), durationOf);
    const prepare = path.steps.find((s) => s.state === 'Prepare');
    expect(prepare).toMatchObject({ seconds: 15, slowestBranch: 'Slow' });
    expect(path.steps.map((s) => s.state)).not.toContain('Fast');
  });

  test('GIVEN a polling loop WHEN walked THEN its body is counted once and the walk leaves by the rule that exits', () => {
    const steps = walkPath(machine);
    expect(steps.map((s) => s.state)).toEqual([
      'Start',
      'Prepare',
      'ChooseAction',
      'Provision',
      'Poll',
      'IsReady',
      'Pause',
      'Record',
      'Done',
    ]);
    expect(steps.filter((s) => s.inLoop).map((s) => s.state)).toEqual(['Pause']);
  });

  test('GIVEN the whole definition WHEN priced THEN the total is the sum along the path: 1 + 15 + 7 + 3 + 30 + 4', () => {
    expect(pricePath(walkPath(machine), durationOf).totalSeconds).toBe(60);
  });

  test('GIVEN Catch targets on a Task WHEN walked THEN the failure path is not followed', () => {
    expect(walkPath(machine).map((s) => s.state)).not.toContain('Failed');
  });

  test('fails when a loop has no rule leading out of it', () => {
    const endless: AslMachineLike = {
      StartAt: 'Poll',
      States: { Poll: { Type: 'Task', Next: 'Again' }, Again: { Type: 'Choice', Choices: [{ Next: 'Poll' }], Default: 'Poll' } },
    };
    expect(() => walkPath(endless)).toThrow(/Again loops and has no rule leading out/);
  });

  test('fails when a state refers to a state that is not defined', () => {
    expect(() => walkPath({ StartAt: 'A', States: { A: { Type: 'Task', Next: 'Missing' } } })).toThrow(
      /Missing is referenced but not defined/,
    );
  });
});
