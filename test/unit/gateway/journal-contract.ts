import { afterEach, describe, expect, it } from 'vitest';
import {
  AnswerMatcher,
  JournalClosedError,
  JournalFullError,
  JournalShortWriteError,
  JournalSyncError,
  JournalWriteError,
  orderKey,
  type Journal,
  type JournalEntry,
  type JournalReplay,
} from '../../../appliance/src/gateway/journal.js';
import type { OrderBody } from '../../../appliance/src/link/messages.js';
import type { Fault, FaultSwitch } from './journal-faults.js';

/** One store, as a journal implementation keeps it, for one test. */
export interface JournalHarness {
  /**
   * A journal over this store, not yet opened. A second call is the same store after a restart;
   * the first journal may still be open, as after kill -9.
   */
  journal(): Journal;
  /** The name errors give the store (the file of a file journal). */
  store: string;
  /** Present when the store can be made to fail on cue: the fault half of the contract runs. */
  faults?: FaultSwitch;
}

export const order = (lsh: string, recNo: number): OrderBody => ({
  JYDY: '729900',
  WTRQ: '20261121',
  WTSJ: '093000',
  LSH: lsh,
  GDDM: '0800000001',
  ZQDM: '830001',
  YWLB: '0B',
  WTJG: 10.5,
  WTSL: 100,
  DFXW: '',
  DFGD: '',
  YDH: '',
  CDLSH: '',
  BZ: '',
  recNo,
});

const sent = (recNo: number): JournalEntry => ({
  k: 'o',
  key: orderKey('729900', String(recNo)),
  recNo,
  order: order(String(recNo), recNo),
});

/** A pump's batch: an order per record, then where to resume. */
const batch = (...recNos: number[]): JournalEntry[] => [
  ...recNos.map(sent),
  { k: 'm', next: Math.max(...recNos) + 1 },
];

const decidedOf = (r: JournalReplay): number[] => [...r.decided.keys()].sort((a, b) => a - b);

/** A fault, the error it must surface as, and the step it names. */
const FAULTS: {
  name: string;
  faults: Fault[];
  type: new (...args: never[]) => JournalWriteError;
  code: string;
  step: string;
  errno?: string;
}[] = [
  {
    name: 'EIO on write',
    faults: [{ op: 'write', errno: 'EIO' }],
    type: JournalWriteError,
    code: 'NQ702',
    step: 'write',
    errno: 'EIO',
  },
  {
    name: 'ENOSPC on write',
    faults: [{ op: 'write', errno: 'ENOSPC' }],
    type: JournalFullError,
    code: 'NQ781',
    step: 'write',
    errno: 'ENOSPC',
  },
  {
    name: 'EIO on fsync',
    faults: [{ op: 'datasync', errno: 'EIO' }],
    type: JournalSyncError,
    code: 'NQ780',
    step: 'sync',
    errno: 'EIO',
  },
  {
    name: 'ENOSPC on fsync',
    faults: [{ op: 'datasync', errno: 'ENOSPC' }],
    type: JournalFullError,
    code: 'NQ781',
    step: 'sync',
    errno: 'ENOSPC',
  },
  {
    name: 'a short write, then none',
    faults: [
      { op: 'write', short: 40 },
      { op: 'write', short: 0 },
    ],
    type: JournalShortWriteError,
    code: 'NQ782',
    step: 'write',
  },
  {
    name: 'EIO on fsync and on the cut-back',
    faults: [
      { op: 'datasync', errno: 'EIO' },
      { op: 'truncate', errno: 'EIO' },
    ],
    type: JournalSyncError,
    code: 'NQ780',
    step: 'sync',
    errno: 'EIO',
  },
];

/**
 * The one suite every Journal passes (as QuickFIX/J's message stores share one abstract test):
 * what a restart recovers, in what order, and, for a store that can fail on cue, that every
 * fault is a typed error naming where it struck and that recovery then finds exactly the
 * batches that were acknowledged.
 */
export function journalContract(
  name: string,
  makeHarness: () => JournalHarness,
  /** The harness's store fails on cue (`faults`): run the fault half too. */
  options: { faults: boolean } = { faults: false },
): void {
  describe(`Journal contract: ${name}`, () => {
    const opened: Journal[] = [];
    afterEach(async () => {
      for (const j of opened.splice(0)) await j.close().catch(() => undefined);
    });

    /** A journal over `h`'s store, opened: what it recovered, and its matcher. */
    async function start(
      h: JournalHarness,
    ): Promise<{ j: Journal; replay: JournalReplay; matcher: AnswerMatcher }> {
      const j = h.journal();
      opened.push(j);
      const matcher = new AnswerMatcher();
      return { j, replay: await j.open(matcher), matcher };
    }

    it('recovers nothing from a new store', async () => {
      const { replay } = await start(makeHarness());
      expect(replay.entries).toBe(0);
      expect(replay.resumeRecNo).toBe(1);
      expect(replay.pending.size + replay.decided.size + replay.unsent.size).toBe(0);
    });

    it('recovers what was sent, answered and refused, and where to resume', async () => {
      const h = makeHarness();
      const { j } = await start(h);
      await j.append(
        [
          sent(1),
          sent(2),
          { k: 'r', key: orderKey('999999', '3'), recNo: 3, code: 'NQ401' },
          { k: 'm', next: 4 },
        ],
        true,
      );
      await j.append([{ k: 'a', keys: [orderKey('729900', '1')] }], false);
      await j.close();
      const { replay, matcher } = await start(h);
      expect([...replay.pending.keys()]).toEqual([2]);
      expect(replay.decided.get(3)).toEqual({ key: '999999|3', outcome: 'refused', code: 'NQ401' });
      expect([replay.resumeRecNo, replay.ordered, replay.refused, replay.entries]).toEqual([4, 2, 1, 5]);
      expect(matcher.answered(orderKey('729900', '2'))).toBe(2);
    });

    it('recovers a durable batch without a close, as after kill -9', async () => {
      const h = makeHarness();
      const { j } = await start(h);
      await j.append(batch(1, 2), true);
      const { replay } = await start(h);
      expect(decidedOf(replay)).toEqual([1, 2]);
    });

    it('keeps batches in call order though the caller did not wait for each', async () => {
      const h = makeHarness();
      const { j } = await start(h);
      const calls: Promise<void>[] = [];
      // Refused then sent, record by record: only the call order leaves every record sent.
      for (let n = 1; n <= 20; n++) {
        calls.push(
          j.append([{ k: 'r', key: orderKey('729900', String(n)), recNo: n, code: 'NQ415' }], false),
        );
        calls.push(j.append([sent(n)], n % 5 === 0));
      }
      await Promise.all(calls);
      await j.close();
      const { replay } = await start(h);
      expect(replay.entries).toBe(40);
      expect([...replay.decided.values()].every((d) => d.outcome === 'sent')).toBe(true);
      expect(replay.unsent.size).toBe(0);
    });

    it('refuses an append before open and after close (NQ783), and keeps nothing of it', async () => {
      const h = makeHarness();
      const early = h.journal();
      opened.push(early);
      const before = await early.append(batch(1), true).catch((e: unknown) => e);
      expect(before).toBeInstanceOf(JournalClosedError);
      expect(before).toMatchObject({ code: 'NQ783', file: h.store, step: 'closed' });
      await early.open(new AnswerMatcher());
      await early.append(batch(2), true);
      await early.close();
      await expect(early.append(batch(3), true)).rejects.toMatchObject({ code: 'NQ783', record: 3 });
      const { replay } = await start(h);
      expect(decidedOf(replay)).toEqual([2]);
    });

    // Only for a store that can fail on cue: there is no fault to inject into the others.
    if (!options.faults) return;
    describe('with faults injected into its store', () => {
      it.each(FAULTS)(
        '$name: a typed $code naming where, the next batch taken, recovery exact',
        async (f) => {
          const h = makeHarness();
          const faults = h.faults!;
          const { j } = await start(h);
          await j.append(batch(1, 2), true); // acknowledged: records 1..3
          faults.arm(...f.faults);
          const err = await j.append(batch(3, 4), true).catch((e: unknown) => e);
          expect(faults.pending).toBe(0);
          expect(err).toBeInstanceOf(f.type);
          expect(err).toMatchObject({ code: f.code, file: h.store, step: f.step, record: 4, records: 3 });
          if (f.errno) expect(err).toMatchObject({ errno: f.errno });
          await j.append(batch(5), true); // the journal goes on
          const { replay } = await start(h); // restart without a close
          expect(decidedOf(replay)).toEqual([1, 2, 5]);
          expect(replay.entries).toBe(5);
        },
      );

      it('a short write that goes on is not a fault: the batch is taken whole', async () => {
        const h = makeHarness();
        const { j } = await start(h);
        h.faults!.arm({ op: 'write', short: 7 }, { op: 'write', short: 3 });
        await j.append(batch(1, 2), true);
        expect(h.faults!.pending).toBe(0);
        const { replay } = await start(h);
        expect(decidedOf(replay)).toEqual([1, 2]);
      });

      it('an answer that cannot be written is an error too, not a silent loss', async () => {
        const h = makeHarness();
        const { j } = await start(h);
        await j.append(batch(1), true);
        h.faults!.arm({ op: 'write', errno: 'EIO' });
        const answer = j.append([{ k: 'a', keys: [orderKey('729900', '1')] }], false);
        await expect(answer).rejects.toMatchObject({ code: 'NQ702', step: 'write', record: 3, records: 1 });
        const { replay } = await start(h);
        expect([...replay.pending.keys()]).toEqual([1]);
      });

      it('a cut-back that keeps failing holds every batch (NQ702, cut) until it works', async () => {
        const h = makeHarness();
        const { j } = await start(h);
        await j.append(batch(1), true);
        h.faults!.arm(
          { op: 'datasync', errno: 'EIO' },
          { op: 'truncate', errno: 'EIO' },
          { op: 'truncate', errno: 'EIO' },
        );
        await expect(j.append(batch(2), true)).rejects.toMatchObject({ code: 'NQ780' });
        await expect(j.append(batch(3), true)).rejects.toMatchObject({
          code: 'NQ702',
          step: 'cut',
          record: 3,
        });
        await j.append(batch(4), true);
        const { replay } = await start(h);
        expect(decidedOf(replay)).toEqual([1, 4]);
      });

      it('a close after a failed cut-back still leaves only what was acknowledged', async () => {
        const h = makeHarness();
        const { j } = await start(h);
        await j.append(batch(1), true);
        h.faults!.arm({ op: 'datasync', errno: 'EIO' }, { op: 'truncate', errno: 'EIO' });
        await expect(j.append(batch(2), true)).rejects.toBeInstanceOf(JournalSyncError);
        await j.close();
        const { replay } = await start(h);
        expect(decidedOf(replay)).toEqual([1]);
      });
    });
  });
}
