import { CLBZ, OrderFileAppender, type OrderRow } from '../../appliance/src/dbf/index.js';
import { makeOrder, type LabDescription, type LabOptions } from '../../appliance/src/lab/index.js';
import { benchLab, FileWatcher, peakRssMb, percentile, round } from './harness.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function orders(lab: LabDescription, from: number, n: number): OrderRow[] {
  const now = Date.now();
  const rows: OrderRow[] = [];
  for (let i = 0; i < n; i++) rows.push(makeOrder(lab.units[(from + i) % lab.units.length]!, from + i, now));
  return rows;
}

/**
 * Sustained end to end: the broker's program appends as fast as it can (2,000-order chunks) and
 * the clock stops when NQHB.DBF holds a confirmation for every order.
 */
export async function throughput(
  total: number,
  labOptions: LabOptions = {},
): Promise<Record<string, number>> {
  const bench = await benchLab(undefined, labOptions);
  try {
    await bench.startGateway();
    const watcher = new FileWatcher(bench.lab);
    const appender = await OrderFileAppender.open(bench.lab.orders);
    const started = performance.now();
    for (let done = 0; done < total; done += 2000) {
      await appender.append(orders(bench.lab, done + 1, Math.min(2000, total - done)));
      await sleep(0);
    }
    const appendedMs = performance.now() - started;
    await appender.close();
    while (watcher.rows < total) {
      await watcher.poll();
      await sleep(5);
    }
    const elapsed = performance.now() - started;
    return {
      orders: total,
      seconds: round(elapsed / 1000, 2),
      ordersPerSecond: Math.round(total / (elapsed / 1000)),
      appendSeconds: round(appendedMs / 1000, 2),
      gatewayPeakRssMb: peakRssMb(bench.gateway!.pid!),
    };
  } finally {
    await bench.stop();
  }
}

/**
 * Latency at a fixed offered load: `rate` orders/s appended in 10 ms ticks for `seconds`, each
 * append time noted; a watcher polls every millisecond for CLBZ='1' and for the NQHB row.
 * Polling adds up to about a millisecond to each figure.
 */
export async function latency(
  rate: number,
  seconds: number,
  prefill = 0,
  labOptions: LabOptions = {},
): Promise<Record<string, number>> {
  const bench = await benchLab(async (lab) => {
    if (prefill === 0) return;
    // Yesterday's business already done: a big file of sent orders the gateway must not re-read.
    const appender = await OrderFileAppender.open(lab.orders);
    for (let done = 0; done < prefill; done += 20_000) {
      const rows = orders(lab, 10_000_000 + done, Math.min(20_000, prefill - done));
      for (const r of rows) r.CLBZ = CLBZ.SENT;
      await appender.append(rows);
    }
    await appender.close();
  }, labOptions);
  try {
    const startupMs = await bench.startGateway();
    const watcher = new FileWatcher(bench.lab, prefill + 1);
    const appender = await OrderFileAppender.open(bench.lab.orders);
    const appendedAt = new Map<string, number>();
    const total = rate * seconds;
    const perTick = Math.round(rate / 100);
    let serial = 1;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        await watcher.poll();
        await sleep(1);
      }
    })();
    const start = performance.now();
    for (let tick = 0; serial <= total; tick++) {
      const rows = orders(bench.lab, serial, perTick);
      await appender.append(rows);
      const at = performance.now();
      for (const r of rows) appendedAt.set(r.LSH, at);
      serial += perTick;
      const wait = start + (tick + 1) * 10 - performance.now();
      if (wait > 0) await sleep(wait);
    }
    await appender.close();
    const deadline = performance.now() + 30_000;
    while (watcher.answeredAt.size < total && performance.now() < deadline) await sleep(10);
    polling = false;
    await poller;
    const wire: number[] = [];
    const row: number[] = [];
    for (const [lsh, at] of appendedAt) {
      const f = watcher.flaggedAt.get(lsh);
      const a = watcher.answeredAt.get(lsh);
      if (f !== undefined) wire.push(f - at);
      if (a !== undefined) row.push(a - at);
    }
    wire.sort((a, b) => a - b);
    row.sort((a, b) => a - b);
    return {
      offeredPerSecond: rate,
      orders: total,
      recordsAlreadyInFile: prefill,
      gatewayStartupToLogonMs: startupMs,
      answered: row.length,
      wireP50Ms: round(percentile(wire, 50), 2),
      wireP99Ms: round(percentile(wire, 99), 2),
      nqhbP50Ms: round(percentile(row, 50), 2),
      nqhbP99Ms: round(percentile(row, 99), 2),
      nqhbMaxMs: round(row[row.length - 1] ?? NaN, 2),
      gatewayPeakRssMb: peakRssMb(bench.gateway!.pid!),
    };
  } finally {
    await bench.stop();
  }
}
