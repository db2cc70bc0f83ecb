import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createDbfFile,
  NQWT_LAYOUT,
  OrderFileAppender,
  OrderFileReader,
} from '../../../appliance/src/dbf/index.js';
import { order, tempDir } from './helpers.js';

describe('OrderFileReader.skipSettled', () => {
  it('passes settled and deleted records without decoding and stops at the first that is not', async () => {
    const file = path.join(tempDir(), 'NQWT.DBF');
    await createDbfFile(file, NQWT_LAYOUT);
    const app = await OrderFileAppender.open(file);
    const sent = (n: number) => order(n, { CLBZ: '1' });
    await app.append([sent(1), sent(2), sent(3), order(4, { CLBZ: '2' }), order(5), sent(6), order(7)]);
    await app.markDeleted(5);
    await app.close();
    const reader = new OrderFileReader(file, { maxRecords: 2 }); // several slices
    await reader.open();
    expect(await reader.skipSettled(['1', '2'])).toBe(6);
    const batch = await reader.readNew();
    expect(batch.records.map((r) => r.recNo)).toEqual([7]);
    expect(await reader.skipSettled(['1', '2'])).toBe(0);
    await reader.close();
  });

  it('stops at a record with an invalid flag, which must be retried rather than skipped', async () => {
    const file = path.join(tempDir(), 'NQWT.DBF');
    await createDbfFile(file, NQWT_LAYOUT);
    const app = await OrderFileAppender.open(file);
    await app.append([order(1, { CLBZ: '1' }), order(2, { CLBZ: 'X' }), order(3, { CLBZ: '1' })]);
    await app.close();
    const reader = new OrderFileReader(file);
    await reader.open();
    expect(await reader.skipSettled(['1', '2'])).toBe(1);
    expect((await reader.readNew()).records.map((r) => r.recNo)).toEqual([2, 3]);
    await reader.close();
  });
});
