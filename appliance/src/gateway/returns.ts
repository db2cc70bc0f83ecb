import { REJECT_CODES, type ReturnBody } from '../link/index.js';
import type { ReturnRow } from '../dbf/index.js';
import { formatMessage, type MessageCode } from '../shared/index.js';
import type { OperatorLog } from './oplog.js';

/** What the sink needs of NQHB.DBF (dbf's ReturnFileWriter has this shape). */
export interface ReturnStore {
  readonly lastSeq: number;
  append(rows: ReturnRow[]): Promise<void>;
}

export interface ReturnCounters {
  returns: number;
  accepted: number;
  rejected: number;
}

const REJECT_MESSAGE: Record<string, MessageCode> = {
  [REJECT_CODES.SERIAL]: 'NQ411_MAIN_SERIAL',
  [REJECT_CODES.SECURITY]: 'NQ412_MAIN_SECURITY',
  [REJECT_CODES.BUSINESS]: 'NQ413_MAIN_BUSINESS',
  [REJECT_CODES.DATE]: 'NQ414_MAIN_DATE',
  [REJECT_CODES.UNIT]: 'NQ415_MAIN_UNIT',
};

export function toReturnRow(r: ReturnBody): ReturnRow {
  return {
    JYDY: r.JYDY,
    HBRQ: r.HBRQ,
    HBSJ: r.HBSJ,
    LSH: r.LSH,
    HBLB: r.HBLB,
    ZQDM: r.ZQDM,
    GDDM: r.GDDM,
    YWLB: r.YWLB,
    CJBH: r.CJBH,
    CJJG: r.CJJG,
    CJSL: r.CJSL,
    CWDM: r.CWDM,
    CWXX: r.CWXX,
    HBXH: r.HBXH,
  };
}

/**
 * Link → NQHB.DBF. Rows are written (and synced) before they are acknowledged, so a crash
 * between the two only makes the main station resend rows the file already has, which are
 * recognised by HBXH and skipped. The file is the truth for the last sequence held: there is no
 * second copy to disagree with it, and a deleted file simply means "resend from 1".
 */
export class ReturnSink {
  private queue: ReturnBody[] = [];
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: ReturnStore,
    private readonly log: OperatorLog,
    readonly counters: ReturnCounters,
    private readonly onWritten: (lastSeq: number) => void,
    /** The link must be rebuilt so the main station resends from what the file holds. */
    private readonly onResync: (reason: string) => void,
  ) {}

  get lastSeq(): number {
    return this.store.lastSeq;
  }

  /** Take a batch from the link; writes happen one batch after another, never in parallel. */
  push(rows: ReturnBody[]): void {
    this.queue.push(...rows);
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
  }

  /** Resolves when everything received so far is on disk (or has failed loudly). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      const verdict = this.select(batch);
      if (verdict.fresh.length > 0) {
        try {
          await this.store.append(verdict.fresh.map(toReturnRow));
        } catch (err) {
          // Nothing acknowledged: the main station resends after the next logon.
          this.log.error(
            formatMessage('NQ206_WRITE_RETURNS_FAILED', { text: (err as Error).message }),
            'NQ206',
          );
          this.queue = [];
          this.onResync('return file not writable');
          return;
        }
        this.account(verdict.fresh);
        this.onWritten(this.store.lastSeq);
      }
      if (verdict.gap) {
        this.queue = [];
        this.onResync(`return sequence gap: expected ${verdict.gap.expected}, got ${verdict.gap.got}`);
        return;
      }
    }
  }

  private select(batch: ReturnBody[]): { fresh: ReturnBody[]; gap?: { expected: number; got: number } } {
    let expected = this.store.lastSeq + 1;
    const fresh: ReturnBody[] = [];
    for (const row of batch) {
      if (row.HBXH < expected) continue; // a resend of a row already held
      if (row.HBXH > expected) return { fresh, gap: { expected, got: row.HBXH } };
      fresh.push(row);
      expected++;
    }
    return { fresh };
  }

  private account(rows: ReturnBody[]): void {
    this.counters.returns += rows.length;
    for (const row of rows) {
      if (row.HBLB === '0') this.counters.accepted++;
      else if (row.HBLB === '1') {
        this.counters.rejected++;
        const key = REJECT_MESSAGE[row.CWDM];
        const n = row.recNo ?? row.LSH;
        this.log.error(
          key ? formatMessage(key, { n }) : `主站错单通知：委托第${n}笔 ${row.CWXX}`,
          key?.slice(0, 5),
        );
      }
    }
  }
}
