import { executionArnFor, executionNameFor, sanitiseExecutionName } from '../../lib/domain/execution-name';

/** The one naming rule every entry point (webhook, CodeCommit push, fabricctl up) shares. */
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

describe('executionNameFor', () => {
  test('GIVEN a name and a commit WHEN named THEN the name is <name>-<12 hex>', () => {
    expect(executionNameFor('demo', COMMIT)).toBe('demo-0123456789ab');
  });
  test('GIVEN a long branch name with dots and slashes WHEN named THEN the result obeys the 80-character StartExecution rules', () => {
    const name = executionNameFor(`team.a/${'x'.repeat(100)}`, COMMIT);
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(name.endsWith('-0123456789ab')).toBe(true);
  });
});

describe('sanitiseExecutionName', () => {
  test('GIVEN characters Step Functions refuses WHEN sanitised THEN each run becomes one dash, trimmed at both ends', () => {
    expect(sanitiseExecutionName('/team.a//demo/')).toBe('team-a-demo');
  });
  test('GIVEN nothing usable WHEN sanitised THEN the name is fabric', () => {
    expect(sanitiseExecutionName('///')).toBe('fabric');
  });
});

describe('executionArnFor', () => {
  test('GIVEN a state machine ARN and a name WHEN combined THEN it is the ARN of that execution', () => {
    expect(executionArnFor('arn:aws:states:us-east-2:123456789012:stateMachine:Fabric', 'demo-0123456789ab')).toBe(
      'arn:aws:states:us-east-2:123456789012:execution:Fabric:demo-0123456789ab',
    );
  });
});
