import { expect, vi } from 'vitest';
import type { OrderBody, ReturnBody } from '../../../appliance/src/link/index.js';
import { harness, type Harness } from './fake.js';

/** Shared by the link's unit tests: one order, one return, fake time, a client already up. */
export const tick = (ms = 0): Promise<void> => vi.advanceTimersByTimeAsync(ms).then(() => undefined);

export function order(lsh: string, bz = ''): OrderBody {
  return {
    JYDY: '729900',
    WTRQ: '20260302',
    WTSJ: '093000',
    LSH: lsh,
    GDDM: '0123456789',
    ZQDM: '430047',
    YWLB: '0B',
    WTJG: 10.5,
    WTSL: 1000,
    DFXW: '',
    DFGD: '',
    YDH: '',
    CDLSH: '',
    BZ: bz,
    recNo: Number(lsh),
  };
}

export function ret(hbxh: number): ReturnBody {
  return {
    HBXH: hbxh,
    JYDY: '729900',
    HBRQ: '20260302',
    HBSJ: '093001',
    LSH: String(hbxh),
    HBLB: '0',
    ZQDM: '430047',
    GDDM: '0123456789',
    YWLB: '0B',
    CJBH: '',
    CJJG: 0,
    CJSL: 0,
    CWDM: '',
    CWXX: '',
  };
}

export async function upHarness(): Promise<Harness> {
  const h = harness();
  h.client.start();
  await tick();
  h.conn().logonOk();
  expect(h.client.state).toBe('up');
  return h;
}
