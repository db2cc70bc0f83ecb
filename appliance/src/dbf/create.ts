import { cstDate, createDurably } from '../shared/index.js';
import { buildHeader } from './header.js';
import { EOF_MARKER, type DbfLayout } from './schema.js';

export interface CreateOptions {
  /** Replace an existing file. Off by default: creating over the broker's orders must be deliberate. */
  overwrite?: boolean;
  /** Header date, YYYYMMDD; defaults to today in CST. */
  date?: string;
}

/** Creates an empty file of `layout`: header, 0x0D, 0x1A. Data and directory entry are synced. */
export async function createDbfFile(
  file: string,
  layout: DbfLayout,
  options: CreateOptions = {},
): Promise<void> {
  const header = buildHeader(layout, 0, options.date ?? cstDate(Date.now()));
  const bytes = Buffer.concat([header, Buffer.from([EOF_MARKER])]);
  await createDurably(file, bytes, options.overwrite ? { overwrite: true } : {});
}
