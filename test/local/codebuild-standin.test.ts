import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Build, BuildTaskFailed, LOG_PREFIX, runBuild, RunBuildOptions, StartBuildSyncOutput } from '../../lib/local/standins/codebuild';

/** Unit tests of the CodeBuild stand-in with throwaway buildspecs; no AWS endpoint, so no CloudWatch Logs. */
describe('local CodeBuild stand-in (runBuild)', () => {
  let dir: string;
  const savedEndpoint = process.env.AWS_ENDPOINT_URL;

  beforeEach(() => {
    delete process.env.AWS_ENDPOINT_URL;
    dir = mkdtempSync(join(tmpdir(), 'build-runner-test-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    if (savedEndpoint !== undefined) process.env.AWS_ENDPOINT_URL = savedEndpoint;
  });

  async function run(
    buildspec: string,
    extra: Partial<RunBuildOptions> = {},
  ): Promise<{ result?: StartBuildSyncOutput; failed?: BuildTaskFailed; lines: string[] }> {
    writeFileSync(join(dir, 'buildspec.yml'), buildspec);
    const lines: string[] = [];
    try {
      const result = await runBuild({
        projectName: 'unit',
        buildspecPath: 'buildspec.yml',
        sourceDir: dir,
        onLine: (l) => lines.push(l),
        ...extra,
      });
      return { result, lines };
    } catch (error) {
      if (error instanceof BuildTaskFailed) return { failed: error, lines };
      throw error;
    }
  }
  const output = (lines: string[]): string[] => lines.filter((l) => !l.startsWith(LOG_PREFIX));
  const phaseTypes = (build: Build): string[] => build.Phases.map((p) => p.PhaseType);

  test(
    'GIVEN commands in all four phases WHEN the build runs ' + 'THEN they run in the order install, pre_build, build, post_build',
    async () => {
      const { result, lines } = await run(`version: 0.2
phases:
  post_build: { commands: ["echo four"] }
  build: { commands: ["echo three"] }
  install: { commands: ["echo one"] }
  pre_build: { commands: ["echo two"] }
`);
      expect(output(lines)).toEqual(['one', 'two', 'three', 'four']);
      expect(phaseTypes(result!.Build)).toEqual([
        'SUBMITTED',
        'QUEUED',
        'PROVISIONING',
        'DOWNLOAD_SOURCE',
        'INSTALL',
        'PRE_BUILD',
        'BUILD',
        'POST_BUILD',
        'UPLOAD_ARTIFACTS',
        'FINALIZING',
        'COMPLETED',
      ]);
    },
  );

  test('GIVEN a variable, an export and a cd in early phases WHEN later phases run THEN they see them (one shell session)', async () => {
    mkdirSync(join(dir, 'sub'));
    const { lines } = await run(`version: 0.2
phases:
  install: { commands: ["export EXPORTED=e", "PLAIN=p"] }
  pre_build: { commands: ["cd sub"] }
  build: { commands: ["echo \\"$EXPORTED $PLAIN $(basename \\"$PWD\\")\\"", "bash -c 'echo \\"child sees $EXPORTED\\"'"] }
`);
    expect(output(lines)).toEqual(['e p sub', 'child sees e']);
  });

  test(
    'GIVEN exported-variables WHEN the build succeeds ' +
      'THEN their values, newlines included, are in ExportedEnvironmentVariables and unset ones are left out',
    async () => {
      const { result } = await run(`version: 0.2
env:
  exported-variables: [RESULT, NEVER_SET]
phases:
  build: { commands: ["RESULT=\\"$(printf '{\\"a\\": 1}\\nsecond line')\\""] }
`);
      expect(result!.Build.ExportedEnvironmentVariables).toEqual([{ Name: 'RESULT', Value: '{"a": 1}\nsecond line' }]);
    },
  );

  test(
    'GIVEN a variable in the buildspec, the project and the overrides WHEN the build runs ' +
      'THEN the override wins, then the project, then the buildspec',
    async () => {
      const { result, lines } = await run(
        `version: 0.2
env:
  variables: { A: buildspec, B: buildspec, C: buildspec }
phases:
  build: { commands: ["echo \\"$A $B $C\\""] }
`,
        { environment: { A: 'project', B: 'project' }, overrides: [{ Name: 'A', Value: 'override', Type: 'PLAINTEXT' }] },
      );
      expect(output(lines)).toEqual(['override project buildspec']);
      expect(result!.Build.Environment.EnvironmentVariables).toEqual([
        { Name: 'A', Value: 'override', Type: 'PLAINTEXT' },
        { Name: 'B', Value: 'project', Type: 'PLAINTEXT' },
      ]);
    },
  );

  test(
    'GIVEN a successful build WHEN it ends ' +
      'THEN the result has the startBuild.sync shape: ids, status, log location, epoch-millisecond times',
    async () => {
      const { result } = await run('version: 0.2\nphases:\n  build:\n    commands: ["true"]\n', { region: 'us-east-2' });
      const build = result!.Build;
      expect(build.Id).toMatch(/^unit:[0-9a-f-]{36}$/);
      expect(build.Arn).toBe(`arn:aws:codebuild:us-east-2:123456789012:build/${build.Id}`);
      expect(build).toMatchObject({ BuildStatus: 'SUCCEEDED', CurrentPhase: 'COMPLETED', BuildComplete: true, ProjectName: 'unit' });
      expect(build.Logs).toMatchObject({ GroupName: '/aws/codebuild/unit', StreamName: build.Id.split(':')[1] });
      expect(build.EndTime).toBeGreaterThanOrEqual(build.StartTime);
      expect(build.StartTime).toBeGreaterThan(1.6e12);
    },
  );

  test(
    'fails when a build command fails: ' + 'later build commands are skipped, post_build still runs with CODEBUILD_BUILD_SUCCEEDING=0',
    async () => {
      const { failed, lines } = await run(`version: 0.2
phases:
  build: { commands: ["echo before", "false", "echo skipped"] }
  post_build: { commands: ["echo post $CODEBUILD_BUILD_SUCCEEDING"] }
`);
      expect(output(lines)).toEqual(['before', 'post 0']);
      expect(failed!.build.Phases.find((p) => p.PhaseType === 'BUILD')).toMatchObject({
        PhaseStatus: 'FAILED',
        Contexts: [{ StatusCode: 'COMMAND_EXECUTION_ERROR', Message: 'Error while executing command: false. Reason: exit status 1' }],
      });
      expect(failed!.build.Phases.find((p) => p.PhaseType === 'POST_BUILD')?.PhaseStatus).toBe('SUCCEEDED');
    },
  );

  test('fails as Step Functions fails the task: error States.TaskFailed, cause the JSON of the build', async () => {
    const { failed } = await run('version: 0.2\nphases:\n  build:\n    commands: ["exit 7"]\n');
    expect(failed!.name).toBe('States.TaskFailed');
    const cause = JSON.parse(failed!.cause) as Build;
    expect(cause).toMatchObject({ BuildStatus: 'FAILED', CurrentPhase: 'COMPLETED', Id: failed!.build.Id });
    expect(failed!.message).toBe(failed!.cause);
  });

  test('fails when an install command fails: with the default on-failure (ABORT) build and post_build do not run', async () => {
    const { failed, lines } = await run(`version: 0.2
phases:
  install: { commands: ["false"] }
  build: { commands: ["echo build"] }
  post_build: { commands: ["echo post"] }
`);
    expect(output(lines)).toEqual([]);
    expect(phaseTypes(failed!.build)).not.toContain('BUILD');
    expect(phaseTypes(failed!.build)).not.toContain('POST_BUILD');
  });

  test('fails when an install command fails with on-failure CONTINUE, yet the next phases still run', async () => {
    const { failed, lines } = await run(`version: 0.2
phases:
  install: { on-failure: CONTINUE, commands: ["false"] }
  build: { commands: ["echo build $CODEBUILD_BUILD_SUCCEEDING"] }
`);
    expect(output(lines)).toEqual(['build 0']);
    expect(failed!.build.BuildStatus).toBe('FAILED');
  });

  test('fails when a command fails, and the phase finally block still runs', async () => {
    const { failed, lines } = await run(`version: 0.2
phases:
  build:
    commands: ["false"]
    finally: ["echo cleanup"]
`);
    expect(output(lines)).toEqual(['cleanup']);
    expect(failed!.build.BuildStatus).toBe('FAILED');
  });

  test('GIVEN a command that reads stdin WHEN it runs THEN it reads nothing and the next commands still run', async () => {
    const { lines } = await run('version: 0.2\nphases:\n  build:\n    commands: ["cat", "echo after"]\n');
    expect(output(lines)).toEqual(['after']);
  });

  test('fails when the buildspec is not version 0.2, in DOWNLOAD_SOURCE, without running anything', async () => {
    const { failed, lines } = await run('version: 0.1\nphases:\n  build:\n    commands: ["echo ran"]\n');
    expect(output(lines)).toEqual([]);
    expect(failed!.build.Phases.find((p) => p.PhaseType === 'DOWNLOAD_SOURCE')).toMatchObject({
      PhaseStatus: 'FAILED',
      Contexts: [{ StatusCode: 'CLIENT_ERROR' }],
    });
  });

  test('fails with TIMED_OUT when the build outlives its timeout, and its processes are stopped', async () => {
    const started = Date.now();
    const { failed } = await run('version: 0.2\nphases:\n  build:\n    commands: ["sleep 30"]\n', { timeoutInMinutes: 0.01 });
    expect(failed!.build.BuildStatus).toBe('TIMED_OUT');
    expect(Date.now() - started).toBeLessThan(10000);
  });

  test('GIVEN any build WHEN it runs THEN its own log lines say it is a stand-in for CodeBuild', async () => {
    const { lines } = await run('version: 0.2\nphases:\n  build:\n    commands: ["true"]\n');
    expect(lines.some((l) => l.startsWith('[CodeBuild stand-in]') && l.includes('Entering phase BUILD'))).toBe(true);
  });
});

/** Lambda compute's limits, as the stand-in keeps them (lib/local/standins/codebuild/lambda-compute.ts). */
describe('local CodeBuild stand-in on Lambda compute', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'build-runner-lambda-test-'));
    mkdirSync(join(dir, 'jobs'));
    mkdirSync(join(dir, 'other'));
    writeFileSync(join(dir, 'jobs', 'data.txt'), 'from the source\n');
    writeFileSync(join(dir, 'other', 'secret.txt'), 'not part of the source\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function runOnLambda(commands: string[], extra: Partial<RunBuildOptions> = {}) {
    writeFileSync(
      join(dir, 'jobs', 'buildspec.yml'),
      `version: 0.2\nphases:\n  build:\n    commands:\n${commands.map((c) => `      - ${JSON.stringify(c)}`).join('\n')}\n`,
    );
    const lines: string[] = [];
    try {
      const result = await runBuild({
        projectName: 'unit-lambda',
        buildspecPath: 'jobs/buildspec.yml',
        sourceDir: dir,
        compute: 'lambda',
        sourceFolders: ['jobs'],
        sourceIncludes: (path) => !path.endsWith('.skip'),
        onLine: (l) => lines.push(l),
        ...extra,
      });
      return { build: result.Build, lines };
    } catch (error) {
      if (error instanceof BuildTaskFailed) return { build: error.build, failed: error, lines };
      throw error;
    }
  }

  test(
    'GIVEN a build that writes only under TMPDIR and HOME WHEN it runs ' +
      'THEN it succeeds in a copy of its source folders, with HOME in /tmp as the Lambda images set it',
    async () => {
      writeFileSync(join(dir, 'jobs', 'left-out.skip'), 'x');
      const { build, failed, lines } = await runOnLambda([
        'cat jobs/data.txt',
        'test ! -e other/secret.txt && test ! -e jobs/left-out.skip && echo only-the-source',
        'test "$HOME" = "$TMPDIR" && echo home-is-tmp',
        'echo scratch > "$TMPDIR/file" && mkdir -p "$HOME/.cache" && echo ok > "$HOME/.cache/x"',
        'test "$CODEBUILD_SRC_DIR" != "' + dir + '" && echo copied',
      ]);
      expect(failed).toBeUndefined();
      const out = lines.filter((l) => !l.startsWith(LOG_PREFIX));
      expect(out).toEqual(['from the source', 'only-the-source', 'home-is-tmp', 'copied']);
      expect(build.Environment).toMatchObject({ Type: 'LINUX_LAMBDA_CONTAINER', ComputeType: 'BUILD_LAMBDA_4GB' });
      expect(build.TimeoutInMinutes).toBe(15);
    },
  );

  test(
    'GIVEN a build that writes into its source WHEN it ends ' +
      'THEN it fails, naming what it wrote (only /tmp is writable on Lambda compute), and the real source is untouched',
    async () => {
      const { failed, build } = await runOnLambda(['echo changed > jobs/data.txt', 'touch jobs/new-file']);
      expect(failed).toBeDefined();
      const finalizing = build.Phases.find((p) => p.PhaseType === 'FINALIZING');
      expect(finalizing?.PhaseStatus).toBe('FAILED');
      expect(finalizing?.Contexts?.[0]?.Message).toBe(
        'Lambda compute allows writes under /tmp only; the build changed its source: jobs, jobs/data.txt, jobs/new-file',
      );
      expect(readFileSync(join(dir, 'jobs', 'data.txt'), 'utf8')).toBe('from the source\n');
    },
  );

  test('fails when a Lambda-compute build is given a timeout: the project takes none', async () => {
    await expect(runOnLambda(['true'], { timeoutInMinutes: 30 })).rejects.toThrow(
      `${LOG_PREFIX} a project on Lambda compute takes no timeout (its builds end at 15 minutes)`,
    );
  });
});
