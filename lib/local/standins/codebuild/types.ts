/** The CodeBuild stand-in's shapes: its options, and the `startBuild.sync` response Step Functions sees. */
export const LOG_PREFIX = '[CodeBuild stand-in]';

export type EnvironmentVariableType = 'PLAINTEXT' | 'PARAMETER_STORE' | 'SECRETS_MANAGER';

/** As in StartBuild's `EnvironmentVariablesOverride` (Step Functions Parameters are PascalCase). */
export interface EnvironmentVariable {
  readonly Name: string;
  readonly Value: string;
  readonly Type?: EnvironmentVariableType;
}

export interface RunBuildOptions {
  readonly projectName: string;
  /** The buildspec file, relative to `sourceDir` or absolute. */
  readonly buildspecPath: string;
  /** The build's working directory (CODEBUILD_SRC_DIR). */
  readonly sourceDir: string;
  /** The project's environment variables. */
  readonly environment?: readonly EnvironmentVariable[] | Readonly<Record<string, string>>;
  /** The task's `EnvironmentVariablesOverride`. */
  readonly overrides?: readonly EnvironmentVariable[];
  /** Where CloudWatch Logs are written. @default process.env.AWS_ENDPOINT_URL; no endpoint, no CloudWatch Logs */
  readonly logsEndpoint?: string;
  /** @default process.env.AWS_REGION, else us-east-2 */
  readonly region?: string;
  /** @default 123456789012 (the emulator's account) */
  readonly accountId?: string;
  /** Build timeout; the build ends TIMED_OUT. Not for Lambda compute, which takes none. @default 60 */
  readonly timeoutInMinutes?: number;
  /**
   * The project's compute. `lambda` keeps CodeBuild Lambda compute's limits: a build ends at 15
   * minutes, HOME is the build's TMPDIR (the Lambda images set HOME=/tmp), and the build runs in a
   * copy of `sourceFolders` that it must leave unchanged (only /tmp is writable there).
   * @default 'ec2'
   */
  readonly compute?: 'ec2' | 'lambda';
  /** Lambda compute: the folders of `sourceDir` the project's source holds. */
  readonly sourceFolders?: readonly string[];
  /** Lambda compute: which paths of those folders the source leaves out ('/'-separated, from `sourceDir`). */
  readonly sourceIncludes?: (relativePath: string) => boolean;
  /** The process environment the shell starts from (the "image"). @default process.env */
  readonly baseEnv?: NodeJS.ProcessEnv;
  /** Called with every log line as it is produced. */
  readonly onLine?: (line: string) => void;
}

export type BuildStatus = 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'TIMED_OUT' | 'IN_PROGRESS' | 'STOPPED';
export type PhaseType =
  | 'SUBMITTED'
  | 'QUEUED'
  | 'PROVISIONING'
  | 'DOWNLOAD_SOURCE'
  | 'INSTALL'
  | 'PRE_BUILD'
  | 'BUILD'
  | 'POST_BUILD'
  | 'UPLOAD_ARTIFACTS'
  | 'FINALIZING'
  | 'COMPLETED';

export interface BuildPhase {
  readonly PhaseType: PhaseType;
  readonly PhaseStatus?: BuildStatus;
  readonly StartTime: number;
  readonly EndTime?: number;
  readonly DurationInSeconds?: number;
  readonly Contexts?: readonly PhaseContext[];
}

export interface PhaseContext {
  readonly StatusCode: string;
  readonly Message: string;
}

export interface Build {
  readonly Id: string;
  readonly Arn: string;
  readonly BuildNumber: number;
  readonly StartTime: number;
  readonly EndTime: number;
  readonly CurrentPhase: 'COMPLETED';
  readonly BuildStatus: BuildStatus;
  readonly BuildComplete: true;
  readonly ProjectName: string;
  readonly Phases: readonly BuildPhase[];
  readonly Source: { readonly Type: 'NO_SOURCE'; readonly Buildspec: string; readonly Location: string };
  readonly SecondarySources: readonly never[];
  readonly SecondarySourceVersions: readonly never[];
  readonly Artifacts: { readonly Location: string };
  readonly SecondaryArtifacts: readonly never[];
  readonly Cache: { readonly Type: 'NO_CACHE' };
  readonly Environment: {
    readonly Type: 'LINUX_CONTAINER' | 'LINUX_LAMBDA_CONTAINER';
    readonly Image: string;
    readonly ComputeType: 'BUILD_GENERAL1_SMALL' | 'BUILD_LAMBDA_4GB';
    readonly PrivilegedMode: false;
    readonly ImagePullCredentialsType: 'CODEBUILD';
    readonly EnvironmentVariables: readonly { readonly Name: string; readonly Value: string; readonly Type: EnvironmentVariableType }[];
  };
  readonly ServiceRole: string;
  readonly Logs: {
    readonly GroupName: string;
    readonly StreamName: string;
    readonly DeepLink: string;
    readonly CloudWatchLogsArn: string;
    readonly CloudWatchLogs: { readonly Status: 'ENABLED'; readonly GroupName: string; readonly StreamName: string };
  };
  readonly TimeoutInMinutes: number;
  readonly QueuedTimeoutInMinutes: number;
  readonly Initiator: string;
  readonly EncryptionKey: string;
  readonly ExportedEnvironmentVariables: readonly { readonly Name: string; readonly Value: string }[];
}

/** What Step Functions returns for `arn:aws:states:::codebuild:startBuild.sync`. */
export interface StartBuildSyncOutput {
  readonly Build: Build;
}

/** The task failure Step Functions reports for a build that did not succeed. */
export class BuildTaskFailed extends Error {
  readonly build: Build;
  /** The Cause as Step Functions puts it: the JSON of the build. */
  readonly cause: string;
  constructor(build: Build) {
    const cause = JSON.stringify(build);
    super(cause);
    this.name = 'States.TaskFailed';
    this.build = build;
    this.cause = cause;
  }
}

/** The buildspec cannot be run (the real service fails such a build in DOWNLOAD_SOURCE). */
export class BuildspecInvalid extends Error {
  constructor(path: string, problem: string) {
    super(`${LOG_PREFIX} buildspec ${path}: ${problem}`);
    this.name = 'BuildspecInvalid';
  }
}
