/** What EventBridge does with an InputTransformer: substitute each <key> by the JSON of the value at its path. */
export function applyInputTransformer(
  transformer: { InputPathsMap: Record<string, string>; InputTemplate: string },
  event: unknown,
): unknown {
  const valueAt = (path: string): unknown =>
    path
      .replace(/^\$\./, '')
      .split('.')
      .reduce<unknown>(
        (node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined),
        event,
      );
  const text = transformer.InputTemplate.replace(/<([A-Za-z0-9_.-]+)>/g, (_m, key: string) =>
    JSON.stringify(valueAt(transformer.InputPathsMap[key] ?? '') ?? null),
  );
  return JSON.parse(text);
}

/** A CodeCommit push to a branch, as EventBridge delivers it (shape from the CodeCommit user guide). */
export function codeCommitPushEvent(repositoryName: string, branch: string, commitId: string): Record<string, unknown> {
  return {
    version: '0',
    id: '01234567-0123-0123-0123-012345678901',
    'detail-type': 'CodeCommit Repository State Change',
    source: 'aws.codecommit',
    account: '123456789012',
    time: '2026-11-26T10:23:43Z',
    region: 'us-east-2',
    resources: [`arn:aws:codecommit:us-east-2:123456789012:${repositoryName}`],
    detail: {
      event: 'referenceUpdated',
      repositoryName,
      repositoryId: '12345678-1234-5678-abcd-12345678abcd',
      referenceType: 'branch',
      referenceName: branch,
      referenceFullName: `refs/heads/${branch}`,
      commitId,
      oldCommitId: '0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c',
    },
  };
}
