import type { FileHandle } from 'node:fs/promises';
import { DbfGeometryError } from './errors.js';
import { readAt } from './io.js';
import { EOF_MARKER } from './schema.js';

/**
 * Whether NQWT.DBF's data area is whole (whole records, perhaps one 0x1A after them), and since
 * when it is not. A tail that is not whole is a write under way for a moment; for longer than
 * `tailMs` it is a torn file (a record cut short with records written after it), and every
 * record after the cut would be read from shifted bytes: DbfGeometryError.
 */
export class TailWatch {
  /** Whole records at the last look that found the data area whole: never read past it otherwise. */
  settledComplete = 0;
  /** When the data area was first seen not whole (null: it is whole). */
  private partialSince: number | null = null;
  private lastSize = -1;
  private lastWhole = false;
  private readonly byte = Buffer.alloc(1);

  constructor(
    private readonly path: string,
    private readonly recordLength: number,
    private readonly tailMs: number,
    private readonly now: () => number,
  ) {}

  /** Whether the last look found the data area whole. */
  get whole(): boolean {
    return this.lastWhole;
  }

  /**
   * What is known without reading: true or false, or null when one byte is left over and it has
   * not been looked at (the caller reads it with the records, or calls eofAt).
   */
  known(size: number, headerLength: number): boolean | null {
    const rem = (size - headerLength) % this.recordLength;
    if (rem === 0) return true;
    if (rem !== 1) return false;
    return size === this.lastSize ? this.lastWhole : null;
  }

  /** Whether the byte at size-1 is the 0x1A end mark (one 1-byte read, skipped if the size is unchanged). */
  async eofAt(fh: FileHandle, size: number): Promise<boolean> {
    if (size === this.lastSize) return this.lastWhole;
    const got = await readAt(fh, this.byte, 1, size - 1);
    return got === 1 && this.byte[0] === EOF_MARKER;
  }

  /** Whole, by size and, for one byte over, by looking at it. */
  async isWhole(fh: FileHandle, size: number, headerLength: number): Promise<boolean> {
    const known = this.known(Math.max(size, headerLength), headerLength);
    return known ?? (await this.eofAt(fh, size));
  }

  /**
   * Records what a look found. Returns the doubt (and throws DbfGeometryError with it) once a
   * tail has been partial for longer than tailMs.
   */
  note(size: number, whole: boolean, complete: number, headerLength: number): void {
    this.lastSize = size;
    this.lastWhole = whole;
    if (whole) {
      this.settledComplete = complete;
      this.partialSince = null;
      return;
    }
    const now = this.now();
    this.partialSince ??= now;
    if (now - this.partialSince < this.tailMs) return;
    const extra = size - headerLength - complete * this.recordLength;
    throw new DbfGeometryError(
      this.path,
      `the data area is ${size - headerLength} bytes, ${complete} records of ${this.recordLength} and ${extra} bytes over, for ${Math.round((now - this.partialSince) / 1000)} s: a torn record, with records written after it at the end of the file, or a write that never completed`,
    );
  }
}
