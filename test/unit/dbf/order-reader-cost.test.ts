import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import {
  createDbfFile,
  NQWT_LAYOUT,
  OrderFileAppender,
  OrderFileReader,
} from '../../../appliance/src/dbf/index.js';
import { order, tempDir } from './helpers.js';

const R = NQWT_LAYOUT.recordLength;

describe('OrderFileReader cost', () => {
  it('reads only the new records of a 200,000-record file, never the file from the start', async () => {
    const file = path.join(tempDir(), 'NQWT.DBF');
    await createDbfFile(file, NQWT_LAYOUT);
    const app = await OrderFileAppender.open(file);
    const chunk = Array.from({ length: 10_000 }, (_, i) => order(i));
    for (let i = 0; i < 20; i++) await app.append(chunk);
    expect(app.count).toBe(200_000);

    const reader = new OrderFileReader(file, { maxRecords: 4096 });
    await reader.open();
    reader.skipTo(200_001); // as after a restart: everything before is decided
    expect((await reader.readNew()).records).toEqual([]);

    await app.append(Array.from({ length: 10 }, (_, i) => order(200_000 + i)));

    // Watch every read the reader's file handle makes (FileHandle.prototype.read).
    const probe = await fsp.open(file, 'r');
    const proto = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => unknown };
    await probe.close();
    const spy = vi.spyOn(proto, 'read');
    try {
      const batch = await reader.readNew();
      expect(batch.records.map((r) => r.recNo)).toEqual(Array.from({ length: 10 }, (_, i) => 200_001 + i));
      expect(batch.records[9]?.row).toEqual(order(200_009));
      // 10 new records plus the one before them (the in-place-rewrite check) plus the 4-byte count,
      // plus (issue 11) the one byte after the records, read with them: the 0x1A end mark that
      // tells a whole data area from a torn one.
      expect(reader.lastReadBytes).toBe(11 * R);
      const calls = spy.mock.calls.map((c) => ({ length: c[2] as number, position: c[3] as number }));
      const total = calls.reduce((n, c) => n + c.length, 0);
      expect(total).toBeLessThanOrEqual(11 * R + 1 + 4);
      const start = NQWT_LAYOUT.headerLength + 199_999 * R;
      expect(calls.some((c) => c.position === start && c.length === 11 * R + 1)).toBe(true); // the spy saw the read
      for (const c of calls) expect(c.position === 4 || c.position >= start).toBe(true);
    } finally {
      spy.mockRestore();
      await Promise.all([app.close(), reader.close()]);
    }
  });

  it('reads a backlog in bounded slices', async () => {
    const file = path.join(tempDir(), 'NQWT.DBF');
    await createDbfFile(file, NQWT_LAYOUT);
    const app = await OrderFileAppender.open(file);
    await app.append(Array.from({ length: 9000 }, (_, i) => order(i)));
    const reader = new OrderFileReader(file);
    await reader.open();
    const sizes: number[] = [];
    for (;;) {
      const batch = await reader.readNew();
      if (batch.records.length === 0) break;
      sizes.push(batch.records.length);
      expect(reader.lastReadBytes).toBeLessThanOrEqual(4097 * R);
    }
    expect(sizes).toEqual([4096, 4096, 808]);
    await Promise.all([app.close(), reader.close()]);
  });
});
