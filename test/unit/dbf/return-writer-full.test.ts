import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DbfStateError,
  DbfWriteError,
  readReturnFile,
  ReturnFileWriter,
  WARN_REPAIRED,
} from '../../../appliance/src/dbf/index.js';
import { fillUp, mountTmpfs, unmountAll } from '../../helpers/tmpfs.js';
import { ret } from './helpers.js';

afterAll(unmountAll);

const TODAY = '20260105';

describe('ReturnFileWriter on a full file system (a real 64 KiB tmpfs)', () => {
  it('breaks on ENOSPC, refuses until reopened, and reopen() repairs and carries on without a restart', async () => {
    const dir = mountTmpfs(64);
    const file = path.join(dir, 'NQHB.DBF');
    const { writer } = await ReturnFileWriter.open(file, { today: TODAY, archiveOld: false });
    await writer.append(Array.from({ length: 20 }, (_, i) => ret(i + 1)));
    const filler = fillUp(dir);
    // 40 rows (6.6 KB) cannot fit in what is left of the file's last page.
    const next = Array.from({ length: 40 }, (_, i) => ret(21 + i));
    const err = await writer.append(next).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbfWriteError);
    expect((err as Error).message).toMatch(/ENOSPC/);
    expect(writer.failure).toBe(err);
    await expect(writer.append(next)).rejects.toBeInstanceOf(DbfStateError);
    expect(writer.lastSeq).toBe(20);

    // Still full: reopen repairs what the failed write left (its bytes are in pages already
    // allocated) and the writer is usable, but the next write fails again.
    const warnings = await writer.reopen();
    expect(warnings.map((w) => w.code)).toContain(WARN_REPAIRED);
    expect(writer.failure).toBeNull();
    const kept = writer.lastSeq; // whole records the failed write got into the last page, synced by the repair
    expect(kept).toBeGreaterThanOrEqual(20);
    await expect(writer.append(next.filter((r) => r.HBXH > kept))).rejects.toBeInstanceOf(DbfWriteError);

    rmSync(filler);
    await writer.reopen();
    await writer.append(next.filter((r) => r.HBXH > writer.lastSeq));
    expect([writer.lastSeq, writer.count]).toEqual([60, 60]);
    await writer.close();
    expect((await readReturnFile(file)).map((r) => r.HBXH)).toEqual(
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
  });
});
