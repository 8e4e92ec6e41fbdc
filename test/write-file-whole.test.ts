import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileWhole } from '../lib/write-file-whole';

describe('writeFileWhole', () => {
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'write-whole-'));
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  test('GIVEN an existing file WHEN written THEN it holds the new text and nothing else is left in its folder', () => {
    const file = join(folder, 'state.json');
    writeFileSync(file, 'old');
    writeFileWhole(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(readdirSync(folder)).toEqual(['state.json']);
  });

  test('GIVEN a mode WHEN written over a world-readable file THEN the file has that mode', () => {
    const file = join(folder, 'config');
    writeFileSync(file, 'old', { mode: 0o644 });
    writeFileWhole(file, 'new', { mode: 0o600 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test('fails when the rename fails (a folder holds the name), and leaves no temporary file behind', () => {
    const taken = join(folder, 'state.json');
    mkdirSync(join(taken, 'inside'), { recursive: true });
    expect(() => writeFileWhole(taken, 'new')).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^(EISDIR|ENOTEMPTY|EEXIST)$/) }),
    );
    expect(readdirSync(folder)).toEqual(['state.json']);
  });
});
