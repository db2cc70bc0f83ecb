import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReturnFileWriter } from '../../../appliance/src/dbf/index.js';
import { writeReturnsOfDay } from '../../helpers/returns.js';
import { dirsSyncedBy, inode } from '../shared/dirsync.js';
import { tempDir } from './helpers.js';

describe('NQHB.DBF names are durable', () => {
  it("syncs the folder when the file is created, and when yesterday's file is archived and a new one made", async () => {
    const dir = tempDir();
    const file = path.join(dir, 'NQHB.DBF');
    const created = await dirsSyncedBy(async () => {
      const { writer } = await ReturnFileWriter.open(file, { today: '20260105', archiveOld: false });
      await writer.close();
    });
    expect(created.has(await inode(dir))).toBe(true);

    await writeReturnsOfDay(file, '20260105');
    let archivedTo: string | undefined;
    const archived = await dirsSyncedBy(async () => {
      const r = await ReturnFileWriter.open(file, { today: '20260106', archiveOld: true });
      archivedTo = r.archivedTo;
      await r.writer.close();
    });
    expect(archivedTo).toBe(path.join(dir, 'NQHB.20260105.DBF'));
    expect(archived.has(await inode(dir))).toBe(true);
  });
});
