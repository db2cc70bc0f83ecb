import { expect } from 'vitest';
import { readOrderFile, readReturnFile } from '../../appliance/src/dbf/index.js';
import type { LabDescription } from '../../appliance/src/lab/index.js';
import type { SimAdmin } from './lab.js';
import { waitUntil } from './process.js';

/**
 * The exactly-once verdict, from the three places that must agree: the simulator (what the main
 * station took), NQWT.DBF (every order flagged sent) and NQHB.DBF (HBXH 1..n, no gap, no repeat).
 */
export async function expectExactlyOnce(lab: LabDescription, admin: SimAdmin, fed: number): Promise<void> {
  const taken = await admin.orders(lab.station);
  const keys = taken.map((o) => `${o.JYDY}|${o.LSH}`);
  expect(new Set(keys).size, 'no order taken twice by the main station').toBe(keys.length);
  expect(keys.length, 'every order reached the main station').toBe(fed);

  const orders = await readOrderFile(lab.orders);
  expect(orders.length).toBe(fed);
  const unsent = orders.filter((o) => o.CLBZ !== '1');
  expect(
    unsent.map((o) => o.LSH),
    'every order flagged CLBZ=1',
  ).toEqual([]);

  const returns = await readReturnFile(lab.returns);
  const seqs = returns.map((r) => r.HBXH);
  expect(seqs, 'HBXH 1..n with no gap and no repeat').toEqual(seqs.map((_, i) => i + 1));
  const station = await admin.station(lab.station);
  expect(returns.length, 'every return the main station made is in NQHB.DBF').toBe(station.returns);
}

/**
 * Wait until the simulator has taken `total` orders and the gateway has acknowledged all their
 * returns (a confirmation and a fill each, `fill_rule = full`), within `timeoutMs` each.
 */
export async function waitForAllCarried(
  lab: LabDescription,
  admin: SimAdmin,
  total: number,
  timeoutMs = 60_000,
): Promise<void> {
  await waitUntil(
    async () => (await admin.station(lab.station)).ordersTaken >= total,
    'all orders taken',
    timeoutMs,
  );
  await waitUntil(
    async () => {
      const s = await admin.station(lab.station);
      return s.returns === 2 * total && (s as unknown as { lastAcked: number }).lastAcked === 2 * total;
    },
    'all returns acknowledged',
    timeoutMs,
  );
}
