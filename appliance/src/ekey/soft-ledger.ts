import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { crc32, fsyncDirSync, isAlive } from '../shared/index.js';
import { SoftLedgerError } from './soft-errors.js';

/**
 * The soft-encryption ledger: one JSON object per line, appended and fsynced, never rewritten.
 * It is part of the audit trail. Each line carries a CRC-32 of its own content (`crc`, over the
 * JSON of the record without `crc`), so a damaged line is detected rather than believed. A last
 * line without its newline is a write cut short by a crash: it is ignored (the operator's command
 * never reported success), and cut off before the next append, the only change ever made to
 * bytes already in the file.
 */
export type LedgerRecord =
  | {
      t: 'apply';
      /** Window id: 1, 2, 3 … in the order applied. */
      id: number;
      start: string;
      end: string;
      reason: string;
      operator: string;
      /** When recorded (ms since epoch). */
      at: number;
      /** Trading days in [start, end] on the calendar when applied. */
      tradingDays: number;
    }
  | { t: 'confirm'; id: number; date: string; operator: string; at: number }
  | { t: 'close'; id: number; operator: string; at: number; why: 'operator' | 'ekey' };

export interface LedgerRead {
  records: LedgerRecord[];
  /** A torn last line was found (and ignored). */
  tornTail: boolean;
  /** Length in bytes of the complete lines (where the next record goes). */
  goodBytes: number;
}

function seal(rec: LedgerRecord): string {
  const body = JSON.stringify(rec);
  return JSON.stringify({ ...rec, crc: crc32(body) }) + '\n';
}

function unseal(line: string, file: string, lineNo: number): LedgerRecord {
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new SoftLedgerError(file, `line ${lineNo} is not JSON`);
  }
  const { crc, ...rest } = obj;
  if (typeof crc !== 'number' || crc32(JSON.stringify(rest)) !== crc) {
    throw new SoftLedgerError(file, `line ${lineNo} fails its checksum`);
  }
  const t = rest['t'];
  if (t !== 'apply' && t !== 'confirm' && t !== 'close') {
    throw new SoftLedgerError(file, `line ${lineNo} has an unknown record type '${String(t)}'`);
  }
  return rest as unknown as LedgerRecord;
}

export class SoftLedger {
  constructor(readonly file: string) {}

  read(): LedgerRead {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return { records: [], tornTail: false, goodBytes: 0 };
      throw new SoftLedgerError(this.file, `cannot read (${(err as Error).message})`, { cause: err });
    }
    const lines = text.split('\n');
    const last = lines.pop() ?? '';
    const records = lines.filter((l) => l !== '').map((l, i) => unseal(l, this.file, i + 1));
    const goodBytes = Buffer.byteLength(text, 'utf8') - Buffer.byteLength(last, 'utf8');
    return { records, tornTail: last !== '', goodBytes };
  }

  /** Append one record and return only once it is on disk. */
  append(rec: LedgerRecord): void {
    const { tornTail, goodBytes } = this.read();
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const fd = openSync(this.file, 'a', 0o640);
      try {
        if (tornTail) ftruncateSync(fd, goodBytes);
        writeSync(fd, seal(rec));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      // The file may be new: make its directory entry durable too.
      fsyncDirSync(dirname(this.file));
    } catch (err) {
      throw new SoftLedgerError(this.file, `cannot append (${(err as Error).message})`, { cause: err });
    }
  }

  /**
   * Run `fn` holding the ledger's lock file (`<ledger>.lock`, created exclusively), so two
   * operators' commands cannot both decide on the same state. A lock left by a dead process is
   * taken over.
   */
  withLock<T>(fn: () => T): T {
    const lock = this.file + '.lock';
    mkdirSync(dirname(this.file), { recursive: true });
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(lock, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) {
          throw new SoftLedgerError(this.file, `cannot take the lock ${lock} (${(err as Error).message})`, {
            cause: err,
          });
        }
        if (!lockHolderAlive(lock)) {
          try {
            unlinkSync(lock);
          } catch {
            /* someone else removed it */
          }
        } else {
          throw new SoftLedgerError(this.file, `another nqgw softkey command holds ${lock}; try again`);
        }
      }
    }
    try {
      return fn();
    } finally {
      try {
        unlinkSync(lock);
      } catch {
        /* already gone */
      }
    }
  }
}

function lockHolderAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(lock, 'utf8').trim());
  } catch {
    return false;
  }
  return Number.isInteger(pid) && pid > 0 && isAlive(pid);
}
