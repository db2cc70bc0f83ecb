import { CLBZ } from '../dbf/index.js';
import type { ReturnBody } from '../link/index.js';
import { cstDate, formatMessage, type Clock } from '../shared/index.js';
import type { OperatorLog } from './oplog.js';
import type { OrderSink, OrderSource } from './orders.js';

/** The hold reason shown under 暂停发送 once the trading day is over. */
export const DAY_HOLD = 'trading-day-ended';
/** The 'exit' reason of a gateway that stopped at the day change (`nqgw run` exits 4). */
export const DAY_ENDED = 'day-ended';

/** How long the gateway waits, after the day change, for answers to what it sent before it. */
const SETTLE_MAX_MS = 10_000;
/** At least this long: the status snapshot, the alert and its webhook get out before the exit. */
const SETTLE_MIN_MS = 2_000;
const CHECK_MS = 250;

/** A real calendar date YYYYMMDD (garbage from the main station is the return sink's to judge). */
function isDay(s: string): boolean {
  if (!/^\d{8}$/.test(s)) return false;
  const d = new Date(Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8)));
  return d.toISOString().slice(0, 10).replaceAll('-', '') === s;
}

/**
 * One gateway process serves one CST trading day: the day of its journal, of the NQHB.DBF
 * today-check and of its counters, fixed when it starts. Everything day-scoped asks this guard
 * (the order date check, the logon's trading date), never the clock of the moment, and the guard
 * ends the day as soon as anything shows another one: the clock passing CST midnight, the main
 * station's logon answer, a return dated later. From then on nothing is sent (the send itself is
 * checked, so an order decided at 23:59:59.999 cannot go out at 00:00:00.001); the gateway then
 * writes the returns in hand and exits for the new day's fresh start. Orders dated later than
 * the trading day are never judged by this gateway: the reader stops in front of them, so they
 * wait in NQWT.DBF with CLBZ '0' for the new day's gateway (not refused with NQ402).
 */
export class DayGuard {
  private timer: NodeJS.Timeout | null = null;
  private endedAs: string | null = null;
  private readonly waitingNoted = new Set<number>();

  constructor(
    readonly tradingDay: string,
    private readonly clock: Clock,
    private readonly log: OperatorLog,
    /** Called once, when the day is over (the hold is the caller's first act). */
    private readonly onDayEnded: (newDay: string) => void,
  ) {}

  /** Start watching the clock for the CST day change. */
  start(): void {
    this.timer ??= setInterval(() => this.check(), CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The day that ended this one (the new day), or null while the trading day lasts. */
  get endedBy(): string | null {
    return this.endedAs;
  }

  /** True while the gateway may still send: the clock's CST day is its trading day. */
  check(): boolean {
    if (this.endedAs !== null) return false;
    const day = cstDate(this.clock.now());
    if (day === this.tradingDay) return true;
    this.end(day);
    return false;
  }

  /** The main station's trading date in its logon answer. A later one ends our day. */
  onLogon(tradingDate: string): void {
    if (!isDay(tradingDate) || tradingDate === this.tradingDay) return;
    const text = formatMessage('NQ222_MAIN_STATION_OTHER_DAY', { date: tradingDate, text: this.tradingDay });
    if (tradingDate > this.tradingDay) {
      this.log.error(text, 'NQ222');
      this.end(tradingDate);
    } else {
      // An earlier day at the main station is its clock's business; our rows still carry HBRQ.
      this.log.warn(text, 'NQ222');
    }
  }

  /**
   * The returns of this trading day, in order: the batch is cut at the first row dated later
   * (the main station has moved on). That row and the rest are neither written nor acknowledged,
   * so the main station still holds them for the new day's logon, which files them in the new
   * day's NQHB.DBF. Rows with other problems are the return sink's to judge.
   */
  returnsOfDay(rows: ReturnBody[]): ReturnBody[] {
    // The cheap comparison first: on a normal day every row carries the trading day and stops there.
    const cut = rows.findIndex((r) => r.HBRQ > this.tradingDay && isDay(r.HBRQ));
    if (cut < 0) return rows;
    const first = rows[cut]!;
    if (this.endedAs === null) {
      this.log.error(
        formatMessage('NQ223_RETURN_NEXT_DAY', { date: first.HBRQ, text: this.tradingDay }),
        'NQ223',
      );
    }
    this.end(first.HBRQ);
    return rows.slice(0, cut);
  }

  /** The link as the order pump sees it: nothing goes out once the day is over. */
  sink(link: OrderSink): OrderSink {
    return {
      // false = "not sent": the orders stay journaled, CLBZ stays '0'.
      sendOrders: (orders) => this.check() && link.sendOrders(orders),
    };
  }

  /**
   * The order file as the order pump sees it: `readNew` stops in front of the first unsettled
   * record dated after the trading day and leaves the reader there, so that record and the ones
   * behind it wait in NQWT.DBF (counted under 待发委托). Everything else passes through.
   */
  source<T extends OrderSource>(reader: T): T {
    return new Proxy(reader, {
      get: (target, prop) => {
        if (prop === 'readNew') return () => this.readNewOfDay(target);
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  private async readNewOfDay(reader: OrderSource): ReturnType<OrderSource['readNew']> {
    const batch = await reader.readNew();
    const cut = batch.records.findIndex(
      // The cheap comparison first: a day's orders carry the trading day and stop there.
      (r) =>
        r.row.WTRQ > this.tradingDay &&
        isDay(r.row.WTRQ) &&
        r.row.CLBZ !== CLBZ.SENT &&
        r.row.CLBZ !== CLBZ.REJECTED_LOCALLY,
    );
    if (cut < 0) return batch;
    const first = batch.records[cut]!;
    reader.skipTo(first.recNo);
    if (!this.waitingNoted.has(first.recNo)) {
      this.waitingNoted.add(first.recNo);
      this.log.warn(
        formatMessage('NQ221_ORDER_NEXT_DAY_WAITS', {
          n: first.recNo,
          date: first.row.WTRQ,
          text: this.tradingDay,
        }),
        'NQ221',
      );
    }
    // Records behind the cut are read again later: their warnings, refusals and deletions come
    // again then, and a non-zero count here would make the pump poll again at once.
    const beforeCut = <T extends { recNo?: number }>(list: T[]): T[] =>
      list.filter((x) => x.recNo === undefined || x.recNo < first.recNo);
    return {
      ...batch,
      records: batch.records.slice(0, cut),
      warnings: beforeCut(batch.warnings),
      ...(batch.unsent ? { unsent: beforeCut(batch.unsent) } : {}),
      deletedSkipped: 0,
    };
  }

  /**
   * After the day ended: wait for the main station's answers to what was sent before it (so
   * their returns are written), at least SETTLE_MIN_MS and at most SETTLE_MAX_MS.
   */
  async settle(awaitingAnswer: () => number): Promise<void> {
    const start = Date.now();
    for (;;) {
      const waited = Date.now() - start;
      if (waited >= SETTLE_MAX_MS || (waited >= SETTLE_MIN_MS && awaitingAnswer() === 0)) return;
      await new Promise((r) => setTimeout(r, CHECK_MS));
    }
  }

  private end(newDay: string): void {
    if (this.endedAs !== null) return;
    this.endedAs = newDay;
    this.stop();
    this.log.error(
      formatMessage('NQ220_TRADING_DAY_ENDED', { date: this.tradingDay, text: newDay }),
      'NQ220',
    );
    this.onDayEnded(newDay);
  }
}
