import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { OrderRow, ReturnRow } from '../../../appliance/src/dbf/index.js';

/** A fresh temp directory per call, removed after the test. */
const dirs: string[] = [];
export function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'nqgw-dbf-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

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

export function ret(seq: number, over: Partial<ReturnRow> = {}): ReturnRow {
  return {
    JYDY: '729900',
    HBRQ: '20260105',
    HBSJ: '093001',
    LSH: String(seq).padStart(10, '0'),
    HBLB: '0',
    ZQDM: '430001',
    GDDM: '0800012345',
    YWLB: '0B',
    CJBH: '',
    CJJG: 0,
    CJSL: 0,
    CWDM: '',
    CWXX: '',
    HBXH: seq,
    ...over,
  };
}

export const read = (p: string): Buffer => fs.readFileSync(p);
