import type { OrderBody } from '../link/index.js';
import { CLBZ, type OrderRow } from '../dbf/index.js';
import { checkOrder, type LocalRefusal } from './validate.js';
import {
  orderKey,
  type AnswerMatcher,
  type Decision,
  type Journal,
  type JournalEntry,
  type JournalReplay,
} from './journal.js';
import type { OperatorLog } from './oplog.js';
import { formatMessage } from '../shared/index.js';
import { UnsentBook } from './unsent.js';
import type { StageBook } from './stages.js';

/** A record the order file's reader judged not to be an order (dbf's UnsentRecord has this shape). */
export interface NotAnOrder {
  recNo: number;
  code: string;
  text: string;
  unit: string;
  serial: string;
}

/** What the order pump needs of the order file (dbf's OrderFileReader has this shape). */
export interface OrderSource {
  readNew(): Promise<{
    records: { recNo: number; row: OrderRow }[];
    deletedSkipped: number;
    warnings: { recNo?: number; code: string; message: string }[];
    /** Records that are not orders, in a file whose geometry is sound: refused with CLBZ '2'. */
    unsent?: NotAnOrder[];
  }>;
  rereadRecord(recNo: number): Promise<OrderRow | null>;
  skipTo(recNo: number): void;
  setFlags(recNos: number[], flag: string): Promise<void>;
  readonly nextRecNo: number;
}

/** What the order pump needs of the link (link's LinkClient has this shape). */
export interface OrderSink {
  sendOrders(orders: { body: OrderBody; possDup: boolean }[]): boolean;
}

interface InFlight {
  recNo: number;
  key: string;
  order: OrderBody;
  /** Written to a socket at least once (or possibly, before a restart): resend as possible duplicate. */
  maybeSent: boolean;
}

export interface PumpCounters {
  sent: number;
  refused: number;
}

/** The order as it goes on the wire: the NQWT fields but the flag, plus its record number. */
export function toOrderBody(row: OrderRow, recNo: number): OrderBody {
  const { CLBZ: _flag, ...fields } = row;
  return { ...fields, recNo };
}

/** What an OrderPump is built from (the gateway builds one at start, engine.ts). */
export interface OrderPumpOptions {
  /** NQWT.DBF, moved to where the journal resumes (`replay.resumeRecNo`). */
  source: OrderSource;
  journal: Journal;
  /** What `journal.open` recovered, and the matcher it filled. */
  replay: JournalReplay;
  matcher: AnswerMatcher;
  /** The station's trading units: an order of another unit is refused. */
  units: readonly string[];
  log: OperatorLog;
  /** How long a record with an invalid CLBZ is held before it is read again. */
  retryInvalidMs: number;
  now: () => number;
  /** The trading day (CST, YYYYMMDD) orders must carry. */
  today: () => string;
  /** Where the batches' time goes (read, decide, journal, wire, flag); the engine's book. */
  stages?: StageBook;
}

/**
 * NQWT.DBF → journal → link. One step reads what is new, decides each record, journals the
 * decisions with one sync, sends, and only then flags the records CLBZ='1'. The journal, not the
 * CLBZ flag, is what makes a restart safe: a crash between send and flag leaves CLBZ '0' on an
 * order the journal knows, which is then resent as a possible duplicate, never as a new order.
 */
export class OrderPump {
  private readonly inflight = new Map<number, InFlight>();
  private readonly decided: Map<number, Decision>;
  private readonly deferred = new Map<number, number>(); // recNo → first seen (ms)
  private readonly units: ReadonlySet<string>;
  /** The records of the day not sent, watched for the broker's correction. */
  private readonly unsent: UnsentBook;
  readonly counters: PumpCounters;

  private source: OrderSource;
  private readonly journal: Journal;
  private readonly matcher: AnswerMatcher;
  private readonly log: OperatorLog;
  private readonly retryInvalidMs: number;
  private readonly now: () => number;
  private readonly today: () => string;

  constructor(options: OrderPumpOptions) {
    const { replay } = options;
    this.source = options.source;
    this.journal = options.journal;
    this.matcher = options.matcher;
    this.log = options.log;
    this.retryInvalidMs = options.retryInvalidMs;
    this.now = options.now;
    this.today = options.today;
    this.units = new Set(options.units);
    this.decided = replay.decided;
    for (const [recNo, item] of replay.pending) this.inflight.set(recNo, { recNo, ...item, maybeSent: true });
    this.counters = { sent: replay.ordered, refused: replay.refused };
    this.unsent = new UnsentBook(replay.unsent);
  }

  /** 未发送: how many records of the day were not sent, and the last reason. */
  unsentView(): { count: number; last: string | null } {
    return this.unsent.view();
  }

  /**
   * The order file was replaced: read the new one from its start. Records at the same position
   * with the same unit and serial number are the orders already decided and are not sent again;
   * anything else in it is new to the gateway (a repeated serial number is then the main
   * station's to reject, where the broker sees it).
   */
  replaceSource(source: OrderSource): void {
    this.source = source;
    this.deferred.clear();
  }

  /** Orders journaled and not yet answered by the main station. */
  get awaitingAnswer(): number {
    return this.inflight.size;
  }

  /** Orders waiting to go out: journaled but never sent, plus records held for their flag. */
  get waiting(): number {
    let n = this.deferred.size;
    for (const item of this.inflight.values()) if (!item.maybeSent) n++;
    return n;
  }

  /** Read and send what is new. Returns how many records it looked at (0: nothing new). */
  async step(link: OrderSink): Promise<number> {
    const batch = await this.source.readNew();
    for (const w of batch.warnings) this.log.warn(w.message, w.code);
    const rows = batch.records.map((r) => ({ recNo: r.recNo, row: r.row }));
    const notOrders = [...(batch.unsent ?? [])];
    const retries = await this.dueRetries(notOrders);
    rows.push(...retries);
    // Records this step already holds are not watched again (a record must be decided once).
    if (this.unsent.size > 0) {
      const held = new Set([...rows.map((r) => r.recNo), ...notOrders.map((u) => u.recNo)]);
      const next = this.source.nextRecNo;
      const corrected = await this.unsent.watch(
        this.source,
        this.now(),
        (recNo) => held.has(recNo) || recNo >= next || this.deferred.has(recNo) || this.inflight.has(recNo),
      );
      rows.push(...corrected);
    }
    if (rows.length === 0 && notOrders.length === 0) return batch.deletedSkipped;
    try {
      await this.decide(rows, notOrders, link);
    } catch (err) {
      // Nothing of this batch was journaled: read it again next time, retries included.
      const firsts = [...batch.records, ...(batch.unsent ?? [])].map((r) => r.recNo);
      if (firsts.length > 0) this.source.skipTo(Math.min(...firsts));
      for (const r of retries) this.deferred.set(r.recNo, this.now() - this.retryInvalidMs);
      throw err;
    }
    return rows.length + notOrders.length + batch.deletedSkipped;
  }

  private async decide(
    rows: { recNo: number; row: OrderRow }[],
    notOrders: NotAnOrder[],
    link: OrderSink,
  ): Promise<void> {
    const entries: JournalEntry[] = [];
    const toSend: InFlight[] = [];
    const refused: number[] = [];
    const answeredFlagLost: number[] = [];
    const refusals: LocalRefusal[] = [];
    const today = this.today();
    const newlyNotOrders: NotAnOrder[] = [];
    for (const u of notOrders) {
      const key = orderKey(u.unit, u.serial);
      refused.push(u.recNo);
      // Read again (a restart resumed before it): already journaled and counted, only re-flagged.
      const earlier = this.decided.get(u.recNo);
      if (earlier?.outcome === 'refused' && earlier.key === key && earlier.code === u.code) continue;
      entries.push({ k: 'u', key, recNo: u.recNo, code: u.code, text: u.text });
      newlyNotOrders.push(u);
    }
    for (const { recNo, row } of rows) {
      if (row.CLBZ === CLBZ.SENT || row.CLBZ === CLBZ.REJECTED_LOCALLY) continue;
      if (row.CLBZ !== CLBZ.NEW) {
        this.deferInvalid(recNo, row.CLBZ);
        continue;
      }
      const key = orderKey(row.JYDY, row.LSH);
      const earlier = this.decided.get(recNo);
      if (earlier?.key === key && earlier.outcome === 'sent') {
        // Sent before a restart and only the CLBZ write was lost (or the order is still in
        // flight, and is resent after logon).
        if (!this.inflight.has(recNo)) answeredFlagLost.push(recNo);
        continue;
      }
      // A refused record with CLBZ '0' is judged again: the broker may have corrected it in place
      // (then it is sent), or the '2' write was lost to a crash (then it is refused again).
      const refusal = checkOrder(row, recNo, this.units, today);
      if (refusal) {
        refused.push(recNo);
        if (earlier?.outcome === 'refused' && earlier.key === key && earlier.code === refusal.code) continue;
        entries.push({ k: 'r', key, recNo, code: refusal.code, text: refusal.text });
        refusals.push(refusal);
        continue;
      }
      const item: InFlight = { recNo, key, order: toOrderBody(row, recNo), maybeSent: false };
      entries.push({ k: 'o', key, recNo, order: item.order });
      toSend.push(item);
    }
    entries.push({ k: 'm', next: this.resumePoint() });
    await this.journal.append(entries, true);
    // Only now, with the decisions on disk, does the pump's memory change.
    for (const e of entries) {
      if (e.k === 'o') {
        this.decided.set(e.recNo, { key: e.key, outcome: 'sent' });
        if (this.unsent.remove(e.recNo))
          this.log.info(formatMessage('NQ422_ORDER_CORRECTED', { n: e.recNo }), 'NQ422');
      } else if (e.k === 'r' || e.k === 'u') {
        this.decided.set(e.recNo, { key: e.key, outcome: 'refused', code: e.code });
        const [unit = '', serial = ''] = e.key.split('|');
        this.unsent.add(e.recNo, { code: e.code, text: e.text ?? '', unit, serial });
      }
    }
    this.counters.refused += refusals.length + newlyNotOrders.length;
    for (const r of refusals) this.log.error(r.text, r.code);
    for (const u of newlyNotOrders)
      this.log.error(
        formatMessage('NQ421_ORDER_UNSENT', { n: u.recNo, text: `${u.code} ${u.text}` }),
        'NQ421',
      );
    for (const item of toSend) {
      this.inflight.set(item.recNo, item);
      this.matcher.sent(item.key, item.recNo);
    }
    if (toSend.length > 0) await this.send(toSend, link);
    if (refused.length > 0) await this.source.setFlags(refused, CLBZ.REJECTED_LOCALLY);
    if (answeredFlagLost.length > 0) await this.source.setFlags(answeredFlagLost, CLBZ.SENT);
  }

  private async send(items: InFlight[], link: OrderSink): Promise<boolean> {
    const ok = link.sendOrders(items.map((i) => ({ body: i.order, possDup: i.maybeSent })));
    if (!ok) return false; // still journaled: they go out on the next logon
    for (const item of items) {
      if (!item.maybeSent) this.counters.sent++;
      item.maybeSent = true;
    }
    await this.source.setFlags(
      items.map((i) => i.recNo),
      CLBZ.SENT,
    );
    return true;
  }

  /** After a logon: everything journaled and unanswered goes again, in order. */
  async resendInFlight(link: OrderSink): Promise<number> {
    const items = [...this.inflight.values()].sort((a, b) => a.recNo - b.recNo);
    if (items.length === 0) return 0;
    await this.send(items, link);
    return items.length;
  }

  /** The main station's receipts: those orders are done with. */
  async answered(keys: string[]): Promise<void> {
    for (const key of keys) {
      const recNo = this.matcher.answered(key);
      if (recNo !== undefined) this.inflight.delete(recNo);
    }
    // Not synced: losing an answer only means a possible-duplicate resend the main station drops.
    await this.journal.append([{ k: 'a', keys }], false);
  }

  private deferInvalid(recNo: number, flag: string): void {
    if (this.deferred.has(recNo)) return;
    this.deferred.set(recNo, this.now());
    const s = Number((this.retryInvalidMs / 1000).toFixed(3)); // the configured wait, not a fixed 30
    this.log.warn(`${formatMessage('NQ403_ORDER_FLAG_INVALID', { n: recNo, s })} (CLBZ='${flag}')`, 'NQ403');
  }

  /**
   * Records held for an invalid CLBZ whose 30 s are up: rows to decide again; a record whose
   * fields went bad meanwhile joins `notOrders`; one still invalid is passed over (NQ404), listed
   * as not sent and watched, in case its flag is fixed later still.
   */
  private async dueRetries(notOrders: NotAnOrder[]): Promise<{ recNo: number; row: OrderRow }[]> {
    const due: { recNo: number; row: OrderRow }[] = [];
    const now = this.now();
    for (const [recNo, since] of this.deferred) {
      if (now - since < this.retryInvalidMs) continue;
      this.deferred.delete(recNo);
      let row: OrderRow | null;
      try {
        row = await this.source.rereadRecord(recNo);
      } catch (err) {
        const e = err as { code?: string; message?: string };
        if (e.code !== 'NQ503') throw err;
        notOrders.push({ recNo, code: e.code, text: e.message ?? '', unit: '', serial: '' });
        continue;
      }
      if (row && row.CLBZ === CLBZ.NEW) {
        due.push({ recNo, row });
      } else if (row && row.CLBZ !== CLBZ.SENT && row.CLBZ !== CLBZ.REJECTED_LOCALLY) {
        const text = `${formatMessage('NQ404_ORDER_FLAG_SKIPPED', { n: recNo })} (CLBZ='${row.CLBZ}')`;
        const key = orderKey(row.JYDY, row.LSH);
        await this.journal.append([{ k: 'x', recNo, key, code: 'NQ404', text }], true);
        this.counters.refused++;
        this.unsent.add(recNo, { code: 'NQ404', text, unit: row.JYDY, serial: row.LSH });
        this.log.error(text, 'NQ404');
      }
    }
    return due;
  }

  /** First record a restart must read again: the oldest record still held for its flag. */
  private resumePoint(): number {
    let point = this.source.nextRecNo;
    for (const recNo of this.deferred.keys()) point = Math.min(point, recNo);
    return point;
  }
}
