import { afterEach, beforeEach, expect, vi } from 'vitest';
import type { LinkClientOptions, OrderBody, ReturnBody } from '../../../appliance/src/link/index.js';
import { returnRow } from '../../helpers/returns.js';
import { harness, stopHarnesses, type Harness } from './fake.js';

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

/** A confirmation as the link's tests send it: dated 2 March 2026, security 430047. */
export function ret(hbxh: number): ReturnBody {
  return returnRow(hbxh, { HBRQ: '20260302', HBSJ: '093001', ZQDM: '430047', GDDM: '0123456789' });
}

/**
 * For each test of the calling describe: fake time from 09:30 CST on 2 March 2026 (a trading
 * day, market open), and afterwards every harness it made stopped and real time back.
 */
export function useLinkClock(): void {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 2, 2, 1, 30) });
  });
  afterEach(async () => {
    await stopHarnesses();
    vi.useRealTimers();
  });
}

/** A harness (with `over` in its client's options) started and logged on: state 'up'. */
export async function upHarness(over: Partial<LinkClientOptions> = {}): Promise<Harness> {
  const h = harness(over);
  h.client.start();
  await tick();
  h.conn().logonOk();
  expect(h.client.state).toBe('up');
  return h;
}
