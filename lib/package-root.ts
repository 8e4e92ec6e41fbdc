import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The folder of fabricctl's package.json, where buildspecs/ and terraform/ are: the repository root
 * when this runs from lib/, the package root when it runs compiled from dist/lib/ (in the repository
 * or installed under node_modules/fabricctl/).
 */
export const PACKAGE_ROOT = findPackageRoot(__dirname);

/** The version in fabricctl's package.json, read at run time (a compiled copy must not carry its own). */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof manifest.version !== 'string') throw new Error(`${path.join(PACKAGE_ROOT, 'package.json')} has no version`);
  return manifest.version;
}

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}: fabricctl's files are incomplete`);
  }
}
