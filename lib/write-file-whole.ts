import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Writes `text` to `file` through a new temporary file beside it and a rename, so a reader (another
 * process, or the next one after a crash) finds the old content or all of the new, never part of it.
 * The temporary name is this call's own: concurrent writers of one file never share it.
 */
export function writeFileWhole(file: string, text: string, options: { readonly mode?: number } = {}): void {
  const temporary = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    // A new file: the umask can only narrow `mode`.
    writeFileSync(temporary, text, { flag: 'wx', ...(options.mode === undefined ? {} : { mode: options.mode }) });
    renameSync(temporary, file);
  } finally {
    rmSync(temporary, { force: true });
  }
}
