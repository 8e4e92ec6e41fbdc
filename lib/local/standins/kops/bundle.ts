/**
 * The kops stand-in as one CommonJS file that bin/kops runs with plain node: a call then costs
 * about 0.2 CPU-seconds instead of 0.47 through tsx's require hook, and the cluster job calls kops
 * about a hundred times in a test run. bin/kops makes it again when a file it holds is newer.
 */
import { renameSync, utimesSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { PACKAGE_ROOT } from '../../../package-root';
import { writeFileWhole } from '../../../write-file-whole';

/**
 * Where bin/kops keeps the bundle when FABRICCTL_KOPS_STANDIN_BUNDLE does not say. Either must be
 * inside the repository: the bundle requires its packages (the AWS SDK, yaml...) from node_modules.
 */
const KOPS_STANDIN_BUNDLE = path.join(PACKAGE_ROOT, 'node_modules', '.cache', 'fabricctl', 'kops-standin.cjs');

/** The files a bundle holds, one absolute path a line: bin/kops compares their times with the bundle's. */
const inputsOf = (bundle: string): string => `${bundle}.inputs`;

/** Bundles src/main.ts into `outfile` (packages stay in node_modules) and lists what it holds beside it. */
export function bundleKopsStandin(outfile: string): void {
  const started = new Date();
  const partial = `${outfile}.${process.pid}.partial`;
  const { metafile } = buildSync({
    entryPoints: [path.join(__dirname, 'src', 'main.ts')],
    outfile: partial,
    absWorkingDir: PACKAGE_ROOT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = Object.keys(metafile.inputs).map((file) => path.resolve(PACKAGE_ROOT, file));
  writeFileWhole(inputsOf(outfile), `${inputs.join('\n')}\n`);
  // Dated when the build started: a source saved while it ran is newer, so the next call rebuilds.
  utimesSync(partial, started, started);
  renameSync(partial, outfile);
}

if (require.main === module) bundleKopsStandin(process.argv[2] ?? KOPS_STANDIN_BUNDLE);
