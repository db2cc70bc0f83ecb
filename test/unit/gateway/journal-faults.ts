import { nodeJournalFs, type JournalFs, type JournalHandle } from '../../../appliance/src/gateway/journal.js';

/** One failure, for the next call of `op` on an open journal file. */
export type Fault =
  | { op: 'write'; errno: 'EIO' | 'ENOSPC' }
  /** The write takes only the first `bytes` bytes (0: none at all), as a disk may. */
  | { op: 'write'; short: number }
  | { op: 'datasync'; errno: 'EIO' | 'ENOSPC' }
  | { op: 'truncate'; errno: 'EIO' };

/** What a journal's contract needs to make its store fail (journal-contract.ts). */
export interface FaultSwitch {
  /** Each fault hits the next call of its operation, once, in the order armed. */
  arm(...faults: Fault[]): void;
  /** Faults armed and not yet hit: a test that arms one expects it to be hit. */
  readonly pending: number;
}

function errnoError(errno: string, syscall: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${errno}: injected fault, ${syscall}`);
  err.code = errno;
  err.syscall = syscall;
  return err;
}

/**
 * Node's file operations with failures on cue: the real file is written whenever no fault is
 * armed, so what the journal left on disk after a fault is what a restart reads.
 */
export class FaultyFs implements JournalFs, FaultSwitch {
  private readonly armed: Fault[] = [];

  constructor(private readonly base: JournalFs = nodeJournalFs) {}

  arm(...faults: Fault[]): void {
    this.armed.push(...faults);
  }

  get pending(): number {
    return this.armed.length;
  }

  readFile(file: string): Promise<string> {
    return this.base.readFile(file);
  }

  syncDir(dir: string): Promise<void> {
    return this.base.syncDir(dir);
  }

  async open(file: string, flags: 'r+' | 'w+', mode: number): Promise<JournalHandle> {
    const real = await this.base.open(file, flags, mode);
    const take = <K extends Fault['op']>(op: K): Extract<Fault, { op: K }> | undefined => {
      const i = this.armed.findIndex((f) => f.op === op);
      return i < 0 ? undefined : (this.armed.splice(i, 1)[0] as Extract<Fault, { op: K }>);
    };
    return {
      async write(buffer, offset, length, position) {
        const fault = take('write');
        if (!fault) return real.write(buffer, offset, length, position);
        if ('errno' in fault) throw errnoError(fault.errno, 'write');
        if (fault.short === 0) return { bytesWritten: 0 };
        return real.write(buffer, offset, Math.min(fault.short, length), position);
      },
      async datasync() {
        const fault = take('datasync');
        if (fault) throw errnoError(fault.errno, 'fdatasync');
        return real.datasync();
      },
      async truncate(length) {
        const fault = take('truncate');
        if (fault) throw errnoError(fault.errno, 'ftruncate');
        return real.truncate(length);
      },
      stat: () => real.stat(),
      close: () => real.close(),
    };
  }
}
