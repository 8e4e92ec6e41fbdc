import { CloudFormationValidatePlugin } from 'aws-cdk-lib';
import { synthesizeOrchestrator } from '../../lib/local/synth';

/** The stack local mode synthesizes to run its definition: never deployed. */
describe('synthesizeOrchestrator', () => {
  const validation = process.env.CDK_VALIDATION;
  beforeAll(() => {
    // As a user's process has it: setup-env.ts turns aws-cdk-lib's validation off for the tests.
    delete process.env.CDK_VALIDATION;
  });
  afterAll(() => {
    if (validation !== undefined) process.env.CDK_VALIDATION = validation;
  });

  test('GIVEN a user environment WHEN local mode synthesizes the stack THEN CloudFormation validation does not run on it', () => {
    const validate = jest.spyOn(CloudFormationValidatePlugin.prototype, 'validate');
    const { template } = synthesizeOrchestrator();
    expect(Object.values(template.Resources).map((r) => r.Type)).toContain('AWS::StepFunctions::StateMachine');
    expect(validate).not.toHaveBeenCalled();
  });
});
