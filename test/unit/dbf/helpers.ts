import fs from 'node:fs';
import type { OrderRow, ReturnRow } from '../../../appliance/src/dbf/index.js';
import { returnRow } from '../../helpers/returns.js';
import { tempDir as sharedTempDir } from '../../helpers/tempdir.js';

/** A fresh temp directory per call, removed after the test. */
export const tempDir = (): string => sharedTempDir('nqgw-dbf-');

export function order(n: number, over: Partial<OrderRow> = {}): OrderRow {
  return {
    JYDY: '729900',
    WTRQ: '20260105',
    WTSJ: '093000',
    LSH: String(n).padStart(10, '0'),
    GDDM: '0800012345',
    ZQDM: '430001',
    YWLB: '0B',
    WTJG: 12.345,
    WTSL: 1000 + n,
    DFXW: '',
    DFGD: '',
    YDH: '',
    CDLSH: '',
    CLBZ: '0',
    BZ: '',
    ...over,
  };
}

/** A confirmation at 09:30:01, its serial zero-padded to the field's 10 characters. */
export function ret(seq: number, over: Partial<ReturnRow> = {}): ReturnRow {
  return { ...returnRow(seq, { HBSJ: '093001', LSH: String(seq).padStart(10, '0') }), ...over };
}

export const read = (p: string): Buffer => fs.readFileSync(p);
