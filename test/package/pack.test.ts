import { spawnSync, SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { FabricOrchestratorStack } from '../../lib/fabric-orchestrator-stack';
import { TEST_KOPS_SHA256, testStackProps } from '../support/stack';

/**
 * SLOW (one to two minutes): the package as a user installs it. `npm pack` (which builds dist/
 * through prepack), the tarball installed into a fresh folder next to aws-cdk-lib and constructs,
 * then CDK apps there that use it from plain JavaScript and from TypeScript, and its CLI.
 * The install prefers npm's cache (this repository's `npm ci` filled it) and may use the registry;
 * where npm can install from neither, the suite is skipped and says why.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const installedVersion = (name: string) =>
  (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

const work = mkdtempSync(path.join(tmpdir(), 'fabricctl-pack-'));
const app = path.join(work, 'app');

function run(command: string, args: string[], options: SpawnSyncOptions & { timeout: number }) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  return {
    status: result.status,
    stdout: String(result.stdout ?? ''),
    stderr: `${String(result.stderr ?? '')}${result.error ? String(result.error) : ''}`,
  };
}

/** Packs the repository and installs the tarball in `app`: the tarball's path, or why npm could not install it. */
function preparePackage(): { tarball: string } | { skip: string } {
  const started = Date.now();
  // Not an environment problem: a package that does not build or pack fails the suite.
  const packed = run('npm', ['pack', '--pack-destination', work], { cwd: ROOT, timeout: 300_000 });
  if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.stdout}\n${packed.stderr}`);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${work}`);

  mkdirSync(app);
  // The repository's versions, so that npm finds them in its cache.
  writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify(
      {
        name: 'fabricctl-consumer',
        version: '1.0.0',
        private: true,
        dependencies: {
          'aws-cdk-lib': installedVersion('aws-cdk-lib'),
          constructs: installedVersion('constructs'),
          fabricctl: `file:../${tarball}`,
        },
      },
      null,
      2,
    ),
  );
  const packedAt = Date.now();
  const installed = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, timeout: 600_000 });
  // eslint-disable-next-line no-console
  console.log(
    `npm pack (with the build) ${((packedAt - started) / 1000).toFixed(0)} s, npm install ${((Date.now() - packedAt) / 1000).toFixed(0)} s`,
  );
  if (installed.status !== 0)
    return {
      skip: `npm could not install the tarball and its dependencies from its cache or the registry:\n${installed.stderr.slice(-2000)}`,
    };
  return { tarball: path.join(work, tarball) };
}

const prepared = preparePackage();
if ('skip' in prepared) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED package tests: ${prepared.skip}`);
}
const describePackage = 'skip' in prepared ? describe.skip : describe;
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Template {
  Resources: Record<string, { Type: string; Properties?: { Handler?: string; Runtime?: string; Code?: { S3Key?: string } } }>;
}
const readTemplate = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Template;
const ofType = (template: Template, type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

/** What the synthesized stack in `outdir` should hold: the state machine, and 10 functions each running a prebuilt bundle that is there. */
function expectDeployableStack(outdir: string, stackName: string): void {
  const template = readTemplate(path.join(outdir, `${stackName}.template.json`));
  expect(ofType(template, 'AWS::StepFunctions::StateMachine')).toHaveLength(1);
  const functions = ofType(template, 'AWS::Lambda::Function');
  expect(functions).toHaveLength(10);
  for (const [, fn] of functions) {
    expect({ handler: fn.Properties?.Handler, runtime: fn.Properties?.Runtime }).toEqual({
      handler: 'index.handler',
      runtime: 'nodejs24.x',
    });
    const asset = path.join(outdir, `asset.${String(fn.Properties?.Code?.S3Key).replace(/\.zip$/, '')}`);
    expect(existsSync(asset) ? readdirSync(asset).sort() : `no asset at ${asset}`).toEqual(['index.js', 'index.js.map']);
  }
}

describePackage('the npm package', () => {
  const tarball = 'tarball' in prepared ? prepared.tarball : '';
  let jsSynth: ReturnType<typeof run> | undefined;
  /** The plain JavaScript app, synthesized once for the tests that read its output. */
  const synthJs = () => {
    if (jsSynth) return jsSynth;
    writeFileSync(
      path.join(app, 'app.js'),
      [
        "const { App } = require('aws-cdk-lib');",
        "const { FabricOrchestratorStack } = require('fabricctl');",
        "const app = new App({ outdir: 'cdk.out.js' });",
        `new FabricOrchestratorStack(app, 'FabricOrchestrator', { kopsSha256: '${TEST_KOPS_SHA256}' });`,
        'app.synth();',
      ].join('\n'),
    );
    jsSynth = run(process.execPath, ['app.js'], { cwd: app, timeout: 240_000 });
    return jsSynth;
  };

  test(
    'GIVEN the tarball THEN it has dist/, bin, buildspecs/, terraform/ (with its lock), README; ' +
      'no sources, tests, npm lock, Terraform state',
    () => {
      const listed = run('tar', ['-tzf', tarball], { timeout: 60_000 });
      expect(listed.status).toBe(0);
      const files = listed.stdout
        .split('\n')
        .filter(Boolean)
        .map((f) => f.replace(/^package\//, ''));
      // eslint-disable-next-line no-console
      console.log(`${path.basename(tarball)}: ${(statSync(tarball).size / 1024 / 1024).toFixed(2)} MiB, ${files.length} files`);
      expect([...new Set(files.map((f) => f.split('/')[0]))].sort()).toEqual([
        'README.md',
        'bin',
        'buildspecs',
        'dist',
        'package.json',
        'terraform',
      ]);
      expect(files).toEqual(
        expect.arrayContaining([
          'bin/fabricctl.js',
          'dist/lib/index.js',
          'dist/lib/index.d.ts',
          'dist/lambdas/validate-spec/index.js',
          'buildspecs/tools.env',
          'terraform/network/main.tf',
        ]),
      );
      expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
      expect(files.filter((f) => /(^|\/)(\.terraform|[^/]*\.tfstate[^/]*|package-lock\.json)(\/|$)/.test(f))).toEqual([]);
      // The jobs' one dependency lock file ships (it pins the AWS provider); no other lock file does.
      expect(files.filter((f) => f.endsWith('.terraform.lock.hcl'))).toEqual(['terraform/fabric-network/.terraform.lock.hcl']);
    },
  );

  test(
    'GIVEN the tarball installed next to aws-cdk-lib and constructs ' +
      'WHEN a plain JavaScript app requires fabricctl and synthesizes FabricOrchestratorStack ' +
      'THEN it has the state machine and 10 prebuilt functions, with neither esbuild nor a lockfile installed',
    () => {
      const result = synthJs();
      expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
      expectDeployableStack(path.join(app, 'cdk.out.js'), 'FabricOrchestrator');
      expect(existsSync(path.join(app, 'node_modules', 'esbuild'))).toBe(false);
      expect(existsSync(path.join(app, 'node_modules', 'fabricctl', 'package-lock.json'))).toBe(false);
    },
    300_000,
  );

  test(
    'GIVEN the installed package WHEN it synthesizes FabricOrchestratorStack ' +
      'THEN it is the stack the repository synthesizes from its sources, each function running the same bundled code',
    () => {
      expect(synthJs().status).toBe(0);
      const outdir = path.join(work, 'from-sources');
      const repoApp = new App({ outdir });
      new FabricOrchestratorStack(repoApp, 'FabricOrchestrator', testStackProps());
      repoApp.synth();
      const fromSources = readTemplate(path.join(outdir, 'FabricOrchestrator.template.json'));
      const installed = readTemplate(path.join(app, 'cdk.out.js', 'FabricOrchestrator.template.json'));
      // A bundle's asset hash covers its source map, whose paths to the sources depend on where it was
      // bundled (dist/ or the synth's output folder): compare the code, then the rest of the template.
      const code = (t: Template, dir: string) =>
        Object.fromEntries(
          ofType(t, 'AWS::Lambda::Function').map(([id, r]) => {
            const asset = path.join(dir, `asset.${String(r.Properties?.Code?.S3Key).replace(/\.zip$/, '')}`);
            return [id, readFileSync(path.join(asset, 'index.js'), 'utf8')];
          }),
        );
      expect(code(installed, path.join(app, 'cdk.out.js'))).toEqual(code(fromSources, outdir));
      const withoutCodeKeys = (t: Template) => {
        const copy = JSON.parse(JSON.stringify(t)) as Template;
        for (const [, fn] of ofType(copy, 'AWS::Lambda::Function'))
          fn.Properties = { ...fn.Properties, Code: { ...fn.Properties?.Code, S3Key: 'bundle' } };
        return copy;
      };
      expect(withoutCodeKeys(installed)).toEqual(withoutCodeKeys(fromSources));
    },
    300_000,
  );

  test(
    'GIVEN the installed package ' +
      'WHEN a TypeScript app is type-checked against its declarations (node16 resolution, through exports) and run ' +
      'THEN the stack and the construct in a Stack of its own synthesize',
    () => {
      writeFileSync(
        path.join(app, 'app-ts.ts'),
        [
          "import { App, Stack } from 'aws-cdk-lib';",
          "import { FabricOrchestrator, FabricOrchestratorStack, type FabricOrchestratorStackProps } from 'fabricctl';",
          '',
          "const app = new App({ outdir: 'cdk.out.ts' });",
          `const props: FabricOrchestratorStackProps = { kopsSha256: '${TEST_KOPS_SHA256}' };`,
          "new FabricOrchestratorStack(app, 'FabricOrchestrator', props);",
          "new FabricOrchestrator(new Stack(app, 'Mine'), 'Fabric', props);",
          'app.synth();',
        ].join('\n'),
      );
      writeFileSync(
        path.join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            module: 'node16',
            moduleResolution: 'node16',
            target: 'ES2022',
            // aws-cdk-lib's own declarations name Disposable; no skipLibCheck, so fabricctl's are checked too.
            lib: ['ES2022', 'ESNext.Disposable'],
            // A CDK app has @types/node; this one borrows the repository's rather than installing it.
            typeRoots: [path.join(ROOT, 'node_modules', '@types')],
            types: ['node'],
            outDir: 'out-ts',
          },
          files: ['app-ts.ts'],
        }),
      );
      const compiled = run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', '.'], { cwd: app, timeout: 240_000 });
      expect({ status: compiled.status, output: compiled.status === 0 ? '' : compiled.stdout + compiled.stderr }).toEqual({
        status: 0,
        output: '',
      });
      const result = run(process.execPath, [path.join('out-ts', 'app-ts.js')], { cwd: app, timeout: 240_000 });
      expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
      expectDeployableStack(path.join(app, 'cdk.out.ts'), 'FabricOrchestrator');
      expectDeployableStack(path.join(app, 'cdk.out.ts'), 'Mine');
    },
    300_000,
  );

  test("GIVEN the installed package WHEN `npx fabricctl --version` runs in that folder THEN it prints package.json's version", () => {
    const result = run('npx', ['fabricctl', '--version'], { cwd: app, timeout: 60_000 });
    expect({ status: result.status, stdout: result.stdout.trim() }).toEqual({ status: 0, stdout: VERSION });
  });

  test('fails when the installed fabricctl is asked for --local, saying local mode needs a clone of the repository', () => {
    const result = run('npx', ['fabricctl', 'up', '--local', 'fabric.json'], { cwd: app, timeout: 60_000 });
    expect({ status: result.status, stderr: result.stderr.trim() }).toEqual({
      status: 2,
      stderr:
        'fabricctl: --local runs from a clone of the fabricctl repository (README, "Local mode"); ' +
        'an installed fabricctl runs against AWS only.',
    });
  });
});
