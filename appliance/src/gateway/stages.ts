import { performance } from 'node:perf_hooks';

/**
 * Where an order's time goes on its way through the gateway, batch by batch, so the next person
 * sees the bottleneck without a profiler (`npm run bench` prints it; status.json carries it as
 * `stages`). Each stage is timed where it happens:
 * - read: NQWT.DBF's new records read and decoded;
 * - decide: the checks of each record (strict fields, unit, trading day);
 * - journal: the decisions appended and synced;
 * - wire: the orders encoded and handed to the TLS socket (or the EKey helper's pipe);
 * - flag: CLBZ written back to NQWT.DBF;
 * - answer: from an order on the wire to the main station's answer for it (per order);
 * - nqhb: the return rows written to NQHB.DBF and synced.
 * Cheap enough to leave on: one performance.now() pair per batch and stage, no per-order objects.
 */
export const ORDER_STAGES = ['read', 'decide', 'journal', 'wire', 'flag', 'answer', 'nqhb'] as const;
export type OrderStage = (typeof ORDER_STAGES)[number];

export interface StageFigures {
  /** Times the stage ran (batches; for `answer`, answered orders). */
  batches: number;
  /** Orders (or return rows, for `nqhb`) the stage handled. */
  items: number;
  /** Wall-clock milliseconds spent in the stage, summed over its runs. */
  totalMs: number;
  /** The longest single run. */
  maxMs: number;
}

export type StageView = Record<OrderStage, StageFigures>;

export class StageBook {
  private readonly figures: StageView;

  constructor() {
    this.figures = Object.fromEntries(
      ORDER_STAGES.map((s) => [s, { batches: 0, items: 0, totalMs: 0, maxMs: 0 }]),
    ) as StageView;
  }

  /** A monotonic instant to pass back to `done` (performance.now(), in ms). */
  start(): number {
    return performance.now();
  }

  /** The stage that began at `startedAt` (from `start()`) is over; it handled `items`. */
  done(stage: OrderStage, startedAt: number, items: number): void {
    this.record(stage, performance.now() - startedAt, items);
  }

  /** A run of `ms` measured elsewhere (the answer wait of one order, say). */
  record(stage: OrderStage, ms: number, items: number): void {
    const f = this.figures[stage];
    f.batches++;
    f.items += items;
    f.totalMs += ms;
    if (ms > f.maxMs) f.maxMs = ms;
  }

  /** Times an async step as one run of `stage`, whether it succeeds or throws. */
  async time<T>(stage: OrderStage, items: number, work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      this.done(stage, t0, items);
    }
  }

  /** A copy, rounded for JSON. */
  view(): StageView {
    const out = {} as StageView;
    for (const s of ORDER_STAGES) {
      const f = this.figures[s];
      out[s] = { batches: f.batches, items: f.items, totalMs: round3(f.totalMs), maxMs: round3(f.maxMs) };
    }
    return out;
  }
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;
