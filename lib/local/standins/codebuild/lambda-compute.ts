import { cpSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { LAMBDA_COMPUTE_MINUTES } from '../../../domain/contract';
import { LOG_PREFIX } from './types';

export { LAMBDA_COMPUTE_MINUTES };

/** Copies the project's source folders into a folder of their own, as CodeBuild unpacks a source. */
export function copySource(sourceDir: string, folders: readonly string[], includes: (relativePath: string) => boolean): string {
  if (folders.length === 0) throw new Error(`${LOG_PREFIX} a Lambda-compute build needs the folders of its source`);
  const copy = mkdtempSync(join(tmpdir(), 'codebuild-stand-in-src-'));
  for (const folder of folders) {
    cpSync(join(sourceDir, folder), join(copy, folder), {
      recursive: true,
      filter: (from) => includes(relative(sourceDir, from).split(sep).join('/')),
    });
  }
  return copy;
}

/** Every file and folder under `root` with its size and modification time. */
export function snapshot(root: string): Map<string, string> {
  const seen = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const stat = statSync(path);
      seen.set(relative(root, path), `${stat.size}:${stat.mtimeMs}`);
      if (entry.isDirectory()) walk(path);
    }
  };
  walk(root);
  return seen;
}

/** Paths created, changed or removed between two snapshots, sorted. */
export function changedPaths(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const changed = new Set<string>();
  for (const [path, stamp] of after) if (before.get(path) !== stamp) changed.add(path);
  for (const path of before.keys()) if (!after.has(path)) changed.add(path);
  return [...changed].sort();
}
