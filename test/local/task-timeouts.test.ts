import type { AslDefinition } from '../../lib/definition';
import { withStepFunctionsTaskTimeouts } from '../../lib/local/run';

/** Local runs give Tasks Step Functions' timeouts, not the interpreter's 60 s default. */
describe('withStepFunctionsTaskTimeouts (local runner)', () => {
  const definition: AslDefinition = {
    StartAt: 'Build',
    TimeoutSeconds: 10800,
    States: {
      Build: { Type: 'Task', Resource: 'arn:aws:states:::codebuild:startBuild.sync', Next: 'Checks' },
      Checks: {
        Type: 'Parallel',
        Branches: [{ StartAt: 'Probe', States: { Probe: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } } }],
        Next: 'Quick',
      },
      Quick: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', TimeoutSeconds: 5, Next: 'ByPath' },
      ByPath: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', TimeoutSecondsPath: '$.timeout', Next: 'Done' },
      Done: { Type: 'Succeed' },
    },
  };

  test(
    'GIVEN Tasks without TimeoutSeconds, top level and in a Parallel branch WHEN prepared ' +
      "THEN each gets the execution's timeout; explicit ones are kept",
    () => {
      const prepared = withStepFunctionsTaskTimeouts(definition);
      const branch = prepared.States.Checks?.Branches?.[0];
      expect({
        build: prepared.States.Build?.TimeoutSeconds,
        probe: branch?.States.Probe?.TimeoutSeconds,
        quick: prepared.States.Quick?.TimeoutSeconds,
        byPath: [prepared.States.ByPath?.TimeoutSeconds, prepared.States.ByPath?.TimeoutSecondsPath],
        succeed: prepared.States.Done?.TimeoutSeconds,
      }).toEqual({ build: 10800, probe: 10800, quick: 5, byPath: [undefined, '$.timeout'], succeed: undefined });
      expect(definition.States.Build?.TimeoutSeconds).toBeUndefined();
    },
  );

  test("GIVEN a definition with no execution timeout WHEN prepared THEN Tasks get Node.js's longest timer, not one firing at once", () => {
    const { TimeoutSeconds: _none, ...untimed } = definition;
    expect(withStepFunctionsTaskTimeouts(untimed).States.Build?.TimeoutSeconds).toBe(2147483);
  });

  test(
    'GIVEN a TimeoutSecondsPath on a Task with Parameters WHEN prepared ' +
      'THEN its value rides in the Parameters, where the interpreter reads it (Step Functions reads the state input)',
    () => {
      const waiting: AslDefinition = {
        StartAt: 'Wait',
        States: {
          Wait: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: { Payload: { 'state.$': '$' } },
            TimeoutSecondsPath: '$.fabric.approval.timeoutSeconds',
            End: true,
          },
        },
      };
      expect(withStepFunctionsTaskTimeouts(waiting).States.Wait).toMatchObject({
        Parameters: { Payload: { 'state.$': '$' }, 'LocalTimeoutSeconds.$': '$.fabric.approval.timeoutSeconds' },
        TimeoutSecondsPath: '$.LocalTimeoutSeconds',
      });
    },
  );
});
