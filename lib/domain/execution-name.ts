/**
 * Execution names shared by every entry point (GitHub webhook, CodeCommit push, `fabricctl up`):
 * one commit of one fabric gets one name, so Step Functions itself refuses to run it twice.
 */

/**
 * Step Functions execution name: 1-80 characters of `[A-Za-z0-9_-]` (the characters that also work
 * in CloudWatch metric names). Everything else becomes `-`.
 */
export function sanitiseExecutionName(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  return (cleaned || 'fabric').slice(0, 80);
}

/**
 * Deterministic name of the run of one commit of one fabric branch: `<name>-<12 hex of commit>`.
 * Every delivery of the same push (retries, redeliveries, a second trigger) gets the same name.
 */
export function executionNameFor(name: string, commit: string): string {
  const suffix = `-${commit.slice(0, 12)}`;
  const head = sanitiseExecutionName(name)
    .slice(0, 80 - suffix.length)
    .replace(/-+$/, '');
  return `${head || 'fabric'}${suffix}`;
}

/** `arn:aws:states:r:a:stateMachine:M` + name -> `arn:aws:states:r:a:execution:M:name`. */
export function executionArnFor(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
