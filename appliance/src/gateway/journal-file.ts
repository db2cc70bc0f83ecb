import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  JournalClosedError,
  JournalShortWriteError,
  journalFault,
  type JournalWriteContext,
} from './journal-errors.js';
import { nodeJournalFs, type JournalFs, type JournalHandle } from './journal-fs.js';
import {
  AnswerMatcher,
  emptyReplay,
  encodeLine,
  replayText,
  type JournalEntry,
  type JournalReplay,
} from './journal-replay.js';

/**
 * The journal on disk: one file per trading day (CST), one record per line (journal-replay.ts).
 * A batch is taken only when all its bytes are written (and, when durable, synced); a batch that
 * fails is cut back off the file before the error is thrown, so a restart replays exactly the
 * batches that were taken.
 */
export interface FileJournalOptions {
  /** The file operations; Node's unless a test injects faults. */
  fs?: JournalFs;
}

export function journalFileFor(stateDir: string, tradingDate: string): string {
  return path.join(stateDir, 'journal', `${tradingDate}.jnl`);
}

/**
 * The day's journal read without opening it for writing (for tools such as `nqgw orders`, while
 * the gateway may be running). A missing file is an empty day.
 */
export async function readJournal(file: string): Promise<JournalReplay & { exists: boolean }> {
  const replay = emptyReplay();
  let text: string;
  try {
    text = await nodeJournalFs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...replay, exists: false };
    throw err;
  }
  replayText(file, text, replay, new AnswerMatcher());
  return { ...replay, exists: true };
}

/** The Journal (journal.ts) of the gateway; journal.ts imports this file, not the other way. */
export class FileJournal {
  private readonly fs: JournalFs;
  private handle: JournalHandle | null = null;
  private chain: Promise<void> = Promise.resolve();
  /** Bytes known good: a failed batch is cut back to this, so no torn line is left mid-file. */
  private size = 0;
  /** Records known good: the next batch starts at record `records + 1`. */
  private records = 0;
  /** Bytes past `size` may be in the file: a failed batch whose cut-back failed as well. */
  private dirty = false;

  constructor(
    readonly file: string,
    options: FileJournalOptions = {},
  ) {
    this.fs = options.fs ?? nodeJournalFs;
  }

  static forDay(stateDir: string, tradingDate: string, options: FileJournalOptions = {}): FileJournal {
    const file = journalFileFor(stateDir, tradingDate);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    return new FileJournal(file, options);
  }

  /** Replays the day's journal; `matcher` is left holding the orders still awaiting an answer. */
  async open(matcher: AnswerMatcher): Promise<JournalReplay> {
    const replay = emptyReplay();
    const at = (offset: number): JournalWriteContext => ({
      file: this.file,
      step: 'open',
      record: replay.entries + 1,
      records: 0,
      offset,
    });
    let text = '';
    let fileExists = true;
    try {
      text = await this.fs.readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw journalFault(at(0), err);
      fileExists = false;
    }
    const goodBytes = replayText(this.file, text, replay, matcher);
    let handle: JournalHandle;
    try {
      handle = await this.fs.open(this.file, fileExists ? 'r+' : 'w+', 0o600);
    } catch (err) {
      throw journalFault(at(goodBytes), err);
    }
    try {
      // A new day's journal: its name (and the journal folder's, made in forDay) must survive a
      // power cut as surely as the entries synced into it.
      if (!fileExists) await syncNewJournalDirs(this.fs, this.file);
      const { size } = await handle.stat();
      if (size !== goodBytes) await handle.truncate(goodBytes);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw journalFault(at(goodBytes), err);
    }
    this.handle = handle;
    this.size = goodBytes;
    this.records = replay.entries;
    this.dirty = false;
    return replay;
  }

  /**
   * Append entries; with `durable` the call returns only once they are on disk (fdatasync).
   * Calls are serialised, so one batch's sync covers everything written before it.
   */
  append(entries: readonly JournalEntry[], durable: boolean): Promise<void> {
    const bytes = Buffer.from(entries.map(encodeLine).join(''), 'utf8');
    const run = this.chain.then(() => this.write(bytes, entries.length, durable));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async write(bytes: Buffer, records: number, durable: boolean): Promise<void> {
    const at: JournalWriteContext = {
      file: this.file,
      step: 'closed',
      record: this.records + 1,
      records,
      offset: this.size,
    };
    const handle = this.handle;
    if (!handle) throw new JournalClosedError(at);
    if (this.dirty) await this.cutBack(handle, at);
    this.dirty = true;
    try {
      at.step = 'write';
      await writeAll(handle, bytes, this.size, at);
      at.step = 'sync';
      if (durable) await handle.datasync();
    } catch (err) {
      // Whatever reached the file of this batch goes: it was not taken, and its orders are
      // written again by the caller. If the cut fails too, the next append tries it first.
      try {
        await handle.truncate(this.size);
        this.dirty = false;
      } catch {
        // left dirty: cut before the next batch
      }
      throw journalFault(at, err);
    }
    this.dirty = false;
    this.size += bytes.length;
    this.records += records;
  }

  /** Cuts off what a failed batch left past the good bytes; until that works, nothing is appended. */
  private async cutBack(handle: JournalHandle, at: JournalWriteContext): Promise<void> {
    try {
      await handle.truncate(this.size);
      this.dirty = false;
    } catch (err) {
      throw journalFault({ ...at, step: 'cut' }, err);
    }
  }

  async close(): Promise<void> {
    await this.chain;
    const handle = this.handle;
    this.handle = null;
    if (!handle) return;
    if (this.dirty) await handle.truncate(this.size).catch(() => undefined);
    await handle.datasync().catch(() => undefined);
    await handle.close();
  }
}

/**
 * Writes all of `bytes` at `position`. A write may take fewer bytes than asked; the rest is
 * written after it. A write that takes none is a disk that stopped: the batch fails (NQ782).
 */
async function writeAll(
  handle: JournalHandle,
  bytes: Buffer,
  position: number,
  at: JournalWriteContext,
): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten <= 0) throw new JournalShortWriteError(at, done, bytes.length);
    done += bytesWritten;
  }
}

/** fsync of the journal folder and of the state folder holding it (forDay may have just made it). */
async function syncNewJournalDirs(fs: JournalFs, file: string): Promise<void> {
  const dir = path.dirname(file);
  await fs.syncDir(dir);
  await fs.syncDir(path.dirname(dir));
}
