import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createDurably,
  fsyncDir,
  fsyncDirSync,
  renameDurably,
  replaceDurably,
} from '../../../appliance/src/shared/index.js';
import { dirsSyncedBy, inode } from './dirsync.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'nqgw-durable-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('shared/durable: new and renamed files survive a power cut', () => {
  it('createDurably writes the bytes, syncs them and the directory, and never overwrites unless told', async () => {
    const dir = tmp();
    const file = path.join(dir, 'a.bin');
    const synced = await dirsSyncedBy(() => createDurably(file, Buffer.from('one')));
    expect(synced.has(await inode(dir))).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('one');
    await expect(createDurably(file, 'two')).rejects.toMatchObject({ code: 'EEXIST' });
    await createDurably(file, 'two', { overwrite: true });
    expect(readFileSync(file, 'utf8')).toBe('two');
  });

  it('replaceDurably swaps the whole file in by rename, leaves no temporary file, syncs the directory', async () => {
    const dir = tmp();
    const file = path.join(dir, 'state.json');
    writeFileSync(file, 'old');
    const synced = await dirsSyncedBy(() => replaceDurably(file, '{"new":true}'));
    expect(synced.has(await inode(dir))).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('{"new":true}');
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('renameDurably syncs both directories of a move', async () => {
    const a = tmp();
    const b = path.join(a, 'sub');
    mkdirSync(b);
    writeFileSync(path.join(a, 'x'), 'x');
    const synced = await dirsSyncedBy(() => renameDurably(path.join(a, 'x'), path.join(b, 'y')));
    expect(synced.has(await inode(a))).toBe(true);
    expect(synced.has(await inode(b))).toBe(true);
    expect(readFileSync(path.join(b, 'y'), 'utf8')).toBe('x');
  });

  it('fsyncDir and fsyncDirSync sync a directory and fail loudly on one that is not there', async () => {
    const dir = tmp();
    expect((await dirsSyncedBy(() => fsyncDir(dir))).has(await inode(dir))).toBe(true);
    expect(() => fsyncDirSync(dir)).not.toThrow();
    await expect(fsyncDir(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => fsyncDirSync(path.join(dir, 'missing'))).toThrow(/ENOENT/);
  });
});
