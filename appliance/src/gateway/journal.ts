import type { AnswerMatcher, JournalEntry, JournalReplay } from './journal-replay.js';

/**
 * The store-then-send journal: the reason a kill -9 loses no order and the main station never
 * takes one twice. An order is written here, and synced, before its frame is sent; the main
 * station's answer is written when it comes. After a restart, orders without an answer are sent
 * again marked as possible duplicates, and the main station drops the ones it already holds.
 *
 * What the order pump and the gateway need of a journal. Every implementation passes the one
 * contract suite (test/unit/gateway/journal-contract.ts); the gateway's is FileJournal
 * (journal-file.ts), one file per trading day.
 */
export interface Journal {
  /**
   * Recovers what earlier runs appended (of the same day): exactly the batches that were taken.
   * `matcher` is left holding the orders still awaiting an answer. Called once, before append.
   */
  open(matcher: AnswerMatcher): Promise<JournalReplay>;
  /**
   * Appends one batch, all of it or none of it. With `durable`, the returned promise resolves
   * only once the batch would survive a power cut. Batches are kept in call order. A batch that
   * fails rejects with a JournalWriteError (a stable code, the file and record as fields) and is
   * not in the journal; the journal takes the next batch as usual.
   */
  append(entries: readonly JournalEntry[], durable: boolean): Promise<void>;
  /** Waits for the appends under way, then closes; an append after it is JournalClosedError. */
  close(): Promise<void>;
}

export {
  AnswerMatcher,
  applyEntry,
  emptyReplay,
  orderKey,
  type Decision,
  type JournalEntry,
  type JournalReplay,
  type UnsentInfo,
} from './journal-replay.js';
export {
  JournalClosedError,
  JournalCorruptError,
  JournalFullError,
  JournalShortWriteError,
  JournalSyncError,
  JournalWriteError,
  type JournalStep,
  type JournalWriteContext,
} from './journal-errors.js';
export { FileJournal, journalFileFor, readJournal, type FileJournalOptions } from './journal-file.js';
export { nodeJournalFs, type JournalFs, type JournalHandle } from './journal-fs.js';
