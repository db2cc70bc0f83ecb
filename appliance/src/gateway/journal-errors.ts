import { AppError } from '../shared/index.js';

/**
 * The journal's errors. Each carries where it happened as fields (the file, the journal record,
 * the byte offset, the system call's errno), so the alert and a script see more than words.
 * A write error always means the batch was not taken: the caller still holds its orders and
 * tries again; nothing of the batch is left in the journal to be replayed later.
 */
export class JournalCorruptError extends AppError {
  /** The damaged record: its line in the file, 1-based. */
  readonly record: number;

  constructor(
    readonly file: string,
    line: number,
  ) {
    super(
      'NQ701',
      `journal ${file} is damaged at line ${line}`,
      'Stop the gateway and keep the file for analysis; do not delete it. Orders it lists may need checking against the main station.',
    );
    this.record = line;
  }
}

/** What failed: reading or opening the journal, writing a batch, syncing it, cutting it back. */
export type JournalStep = 'open' | 'write' | 'sync' | 'cut' | 'closed';

/** Where a write failed. */
export interface JournalWriteContext {
  file: string;
  step: JournalStep;
  /** The journal record (1-based) the failed batch would have started at. */
  record: number;
  /** How many records the batch held. */
  records: number;
  /** The byte offset the batch would have started at; the file is cut back to it. */
  offset: number;
}

function errnoOf(cause: unknown): string | undefined {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** NQ702: the journal could not take a batch (EIO and the like). Subclasses name the common cases. */
export class JournalWriteError extends AppError {
  readonly file: string;
  readonly step: JournalStep;
  readonly record: number;
  readonly records: number;
  readonly offset: number;
  /** The system call's error code (EIO, ENOSPC, ...), when there was one. */
  readonly errno: string | undefined;

  constructor(
    at: JournalWriteContext,
    cause: unknown,
    code = 'NQ702',
    hint = 'Check the disk (space, permissions) of the state directory; orders are held until it is writable.',
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(code, `cannot write the journal ${at.file} (${at.step}, record ${at.record}): ${why}`, hint, {
      cause,
    });
    this.file = at.file;
    this.step = at.step;
    this.record = at.record;
    this.records = at.records;
    this.offset = at.offset;
    this.errno = errnoOf(cause);
  }
}

/**
 * NQ780: fdatasync failed. What the kernel did with the pages is unknown, so the batch is cut
 * back and reported not taken; the caller writes it again (and syncs it again).
 */
export class JournalSyncError extends JournalWriteError {
  constructor(at: JournalWriteContext, cause: unknown) {
    super(
      at,
      cause,
      'NQ780',
      'The disk of the state directory failed to sync (see dmesg). Orders are held and written again; if it repeats, stop the gateway and move to healthy storage.',
    );
  }
}

/** NQ781: no space (ENOSPC, EDQUOT, EFBIG). */
export class JournalFullError extends JournalWriteError {
  constructor(at: JournalWriteContext, cause: unknown) {
    super(
      at,
      cause,
      'NQ781',
      'The state directory is full. Free space there; orders are held and go out once the journal can take them.',
    );
  }
}

/** NQ782: the disk took part of a batch and then nothing more (a write that returned 0 bytes). */
export class JournalShortWriteError extends JournalWriteError {
  constructor(
    at: JournalWriteContext,
    /** Bytes of the batch the disk took before it stopped. */
    readonly written: number,
    readonly expected: number,
  ) {
    super(
      at,
      new Error(`short write: ${written} of ${expected} bytes`),
      'NQ782',
      'The disk of the state directory stopped taking data (full, or failing). Orders are held until it takes them.',
    );
  }
}

/** NQ783: an append to a journal not open (before start, or after stop): a fault in the caller. */
export class JournalClosedError extends JournalWriteError {
  constructor(at: JournalWriteContext) {
    super(
      at,
      new Error('journal is not open'),
      'NQ783',
      'The gateway wrote to its journal outside start..stop; report it.',
    );
  }
}

const FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** The typed error for a system call that failed at `at.step`. */
export function journalFault(at: JournalWriteContext, cause: unknown): JournalWriteError {
  if (cause instanceof JournalWriteError) return cause;
  if (FULL.has(errnoOf(cause) ?? '')) return new JournalFullError(at, cause);
  if (at.step === 'sync') return new JournalSyncError(at, cause);
  return new JournalWriteError(at, cause);
}
