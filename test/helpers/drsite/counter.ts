import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  createDbfFile,
  encodeRows,
  EOF_MARKER,
  NQWT_LAYOUT,
  readOrderFile,
  readReturnFile,
  type OrderRow,
  type ReturnRow,
} from '../../../appliance/src/dbf/index.js';
import { makeOrder } from '../../../appliance/src/lab/index.js';
import type { CounterShare } from './samba.js';

/**
 * The broker's counter program: creates NQWT.DBF on the share and appends orders to it the way a
 * counter does (records over the 0x1A, a new 0x1A, then the header count), every byte through
 * SMB. The bytes are the project's own DBF encoding (appliance/src/dbf).
 */
export class Counter {
  private records = 0;
  private headerLength = 0;
  private serial = 0;
  readonly written: OrderRow[] = [];

  constructor(
    private readonly share: CounterShare,
    private readonly work: string,
    private readonly unit: string,
  ) {}

  async createOrderFile(): Promise<void> {
    const local = path.join(this.work, 'NQWT.new.DBF');
    await createDbfFile(local, NQWT_LAYOUT);
    const bytes = readFileSync(local);
    this.headerLength = bytes.readUInt16LE(8);
    this.records = bytes.readUInt32LE(4);
    await this.share.put('NQWT.DBF', bytes);
  }

  /** Appends `n` new orders (serials continue across calls); returns them. */
  async append(n: number): Promise<OrderRow[]> {
    const rows: OrderRow[] = [];
    for (let i = 0; i < n; i++) rows.push(makeOrder(this.unit, ++this.serial, Date.now()));
    const count = Buffer.alloc(4);
    count.writeUInt32LE(this.records + rows.length, 0);
    await this.share.pwrite('NQWT.DBF', [
      {
        offset: this.headerLength + this.records * NQWT_LAYOUT.recordLength,
        bytes: encodeRows(NQWT_LAYOUT, rows, EOF_MARKER),
      },
      { offset: 4, bytes: count },
    ]);
    this.records += rows.length;
    this.written.push(...rows);
    return rows;
  }

  /** NQHB.DBF as the counter reads it: through SMB, parsed by the project's reader. */
  async returns(): Promise<ReturnRow[]> {
    if (!(await this.share.exists('NQHB.DBF'))) return [];
    const local = path.join(this.work, 'NQHB.read.DBF');
    writeFileSync(local, await this.share.get('NQHB.DBF'));
    return readReturnFile(local);
  }

  /** NQWT.DBF as it is on the share now (CLBZ flags set by the gateway). */
  async orders(): Promise<OrderRow[]> {
    const local = path.join(this.work, 'NQWT.read.DBF');
    writeFileSync(local, await this.share.get('NQWT.DBF'));
    return readOrderFile(local);
  }

  /** Orders written whose confirmation (HBLB '0') is not in NQHB.DBF yet. */
  async unanswered(): Promise<string[]> {
    const confirmed = new Set(
      (await this.returns()).filter((r) => r.HBLB === '0').map((r) => `${r.JYDY}/${r.LSH}`),
    );
    return this.written.map((o) => `${o.JYDY}/${o.LSH}`).filter((k) => !confirmed.has(k));
  }
}
