import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { cstDate } from '../shared/index.js';
import { buildHeader } from './header.js';
import { EOF_MARKER, type DbfLayout } from './schema.js';

export interface CreateOptions {
  /** Replace an existing file. Off by default: creating over the broker's orders must be deliberate. */
  overwrite?: boolean;
  /** Header date, YYYYMMDD; defaults to today in CST. */
  date?: string;
}

/** fsync of the directory, so that a new or renamed entry survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on a directory (EINVAL); the data itself is synced.
  } finally {
    await fh.close();
  }
}

/** Creates an empty file of `layout`: header, 0x0D, 0x1A. Data and directory entry are synced. */
export async function createDbfFile(
  file: string,
  layout: DbfLayout,
  options: CreateOptions = {},
): Promise<void> {
  const header = buildHeader(layout, 0, options.date ?? cstDate(Date.now()));
  const bytes = Buffer.concat([header, Buffer.from([EOF_MARKER])]);
  const fh = await fsp.open(file, options.overwrite ? 'w' : 'wx');
  try {
    await fh.write(bytes, 0, bytes.length, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await syncDir(path.dirname(file));
}
