/**
 * A failed `codebuild:startBuild.sync` task's cause (the JSON of the build) read as facts, and the
 * headline and log location said about it: ExplainFailure explains a run's failure with them and the
 * CLI shows them for a build it watches.
 */

/** The facts of a build that the explanation needs, whatever the case of the JSON keys. */
export interface BuildFacts {
  readonly id?: string;
  readonly projectName?: string;
  readonly buildStatus?: string;
  readonly currentPhase?: string;
  readonly failedPhase?: { readonly type: string; readonly status: string; readonly contexts: readonly string[] };
  readonly logGroup?: string;
  readonly logStream?: string;
}

/** Step Functions's cause uses the service's PascalCase; the CodeBuild API and SDKs use camelCase. */
function field(value: unknown, name: string): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  const pascal = name.charAt(0).toUpperCase() + name.slice(1);
  return record[pascal] ?? record[name];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Pure: the build in a task failure's cause, or undefined when the cause is not a build. */
export function parseBuildCause(cause: string): BuildFacts | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(cause);
  } catch {
    return undefined;
  }
  const build = field(parsed, 'build') ?? parsed;
  const status = text(field(build, 'buildStatus'));
  const logs = field(build, 'logs');
  if (status === undefined && logs === undefined) return undefined;
  const cloudWatch = field(logs, 'cloudWatchLogs');
  const phases = field(build, 'phases');
  const failed = Array.isArray(phases)
    ? phases.find((p) => {
        const s = text(field(p, 'phaseStatus'));
        return s !== undefined && s !== 'SUCCEEDED';
      })
    : undefined;
  const contexts = failed === undefined ? [] : field(failed, 'contexts');
  return {
    id: text(field(build, 'id')),
    projectName: text(field(build, 'projectName')),
    buildStatus: status,
    currentPhase: text(field(build, 'currentPhase')),
    failedPhase:
      failed === undefined
        ? undefined
        : {
            type: text(field(failed, 'phaseType')) ?? '?',
            status: text(field(failed, 'phaseStatus')) ?? '?',
            contexts: (Array.isArray(contexts) ? contexts : [])
              .map((c) => [text(field(c, 'statusCode')), text(field(c, 'message'))].filter(Boolean).join(': '))
              .filter((c) => c !== ''),
          },
    logGroup: text(field(logs, 'groupName')) ?? text(field(cloudWatch, 'groupName')),
    logStream: text(field(logs, 'streamName')) ?? text(field(cloudWatch, 'streamName')),
  };
}

function jobLabel(projectName: string | undefined): string {
  if (projectName === undefined) return 'a build job';
  if (/network/i.test(projectName)) return `the network job (CodeBuild project ${projectName})`;
  if (/cluster/i.test(projectName)) return `the cluster job (CodeBuild project ${projectName})`;
  return `the build job (CodeBuild project ${projectName})`;
}

/** Pure: the first line of an explanation: which job, how it ended, in which phase, which build. */
export function buildHeadline(facts: BuildFacts, fabric: string | undefined): string {
  const phase =
    facts.failedPhase ?? (facts.currentPhase ? { type: facts.currentPhase, status: facts.buildStatus ?? '?', contexts: [] } : undefined);
  return (
    `${fabric ? `fabric ${fabric}: ` : ''}${jobLabel(facts.projectName)} ended ${facts.buildStatus ?? 'unsuccessfully'}` +
    (phase ? ` in phase ${phase.type} (${phase.status})` : '') +
    (facts.id ? `, build ${facts.id}` : '') +
    (phase && phase.contexts.length > 0 ? `: ${phase.contexts.join('; ')}` : '')
  );
}

/** Pure: where the build's whole log is. */
export function buildLogLocation(facts: BuildFacts): string {
  return facts.logGroup && facts.logStream
    ? `Full log: CloudWatch Logs group ${facts.logGroup}, stream ${facts.logStream}.`
    : 'The build recorded no CloudWatch Logs location.';
}
