// `npm run build` (and `npm pack` through prepack): the package's dist/, so that an installed copy runs
// as plain JavaScript and needs neither tsx, esbuild nor a lockfile.
//   dist/{bin,lib,lambdas}/**/*.js + .d.ts   tsc -p tsconfig.build.json
//   dist/lambdas/<fn>/index.js (+ .map)      each handler bundled as FabricFunction bundles it at synth
//   dist/lib/cost/prices/                    read beside the compiled module at run time
//   dist/bin/fabricctl.js                    the path lib/cli/kubeconfig.ts gives kubectl off PATH
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { HANDLER_BUNDLING } from '../lib/fabric-function';

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

async function main(): Promise<void> {
  const started = Date.now();
  // A stale module or bundle of a deleted handler must not ship.
  rmSync(dist, { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });

  const handlers = readdirSync(path.join(root, 'lambdas'))
    .filter((fn) => existsSync(path.join(root, 'lambdas', fn, 'handler.ts')))
    .sort();
  await Promise.all(
    handlers.map((fn) =>
      build({
        entryPoints: [path.join(root, 'lambdas', fn, 'handler.ts')],
        outfile: path.join(dist, 'lambdas', fn, 'index.js'),
        bundle: true,
        platform: 'node',
        target: HANDLER_BUNDLING.target,
        format: HANDLER_BUNDLING.format,
        minify: HANDLER_BUNDLING.minify,
        sourcemap: HANDLER_BUNDLING.sourceMap,
        // bundleAwsSDK: false, as NodejsFunction applies it: the Lambda runtime provides the SDK v3.
        external: HANDLER_BUNDLING.bundleAwsSDK ? [] : ['@aws-sdk/*'],
        logLevel: 'warning',
      }),
    ),
  );

  cpSync(path.join(root, 'lib', 'cost', 'prices'), path.join(dist, 'lib', 'cost', 'prices'), { recursive: true });

  const shim = path.join(dist, 'bin', 'fabricctl.js');
  writeFileSync(
    shim,
    "#!/usr/bin/env node\n'use strict';\n" +
      "// kubectl's exec plugin command when fabricctl is not on PATH: the package's own bin.\n" +
      "require('../../bin/fabricctl.js');\n",
  );
  chmodSync(shim, 0o755);

  console.log(
    `dist/: compiled, ${handlers.length} handlers bundled (${handlers.join(', ')}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
