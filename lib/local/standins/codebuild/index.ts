/**
 * A local STAND-IN FOR AWS CODEBUILD, used by local mode for `codebuild:startBuild.sync` tasks
 * (CodeBuild builds cannot run in the AWS emulator). It is not CodeBuild: it runs the real
 * buildspec with the machine's own bash, in the source directory, with no container.
 *
 * What it mirrors, because the state machine depends on it:
 * - buildspec version 0.2: phases install, pre_build, build, post_build run in ONE shell session,
 *   so `cd`, variables and exports persist from command to command and phase to phase;
 * - a failing command fails its phase and skips the phase's remaining commands; `finally` still runs;
 * - phase transitions: a failure in install or pre_build skips build and post_build; a failure in
 *   build still runs post_build; `on-failure: CONTINUE` goes on to the next phase (the build still
 *   fails); `CODEBUILD_BUILD_SUCCEEDING` is 1 or 0 as in CodeBuild;
 * - environment precedence: buildspec `env.variables` < project environment < start-build overrides;
 * - `env.exported-variables` are read from the shell after the last phase;
 * - the result is the response Step Functions gives for `startBuild.sync` (`{ Build: {...} }`,
 *   PascalCase, times in epoch milliseconds); a build that does not succeed makes the task fail
 *   with error `States.TaskFailed` and the JSON of the build as cause;
 * - log lines go to CloudWatch Logs (group `/aws/codebuild/<project>`, stream = the build's UUID)
 *   when an AWS endpoint (the emulator) is set, and to `onLine` as they happen.
 * Its own log lines start with `[CodeBuild stand-in]`.
 */
export { runBuild } from './build';
export * from './types';
