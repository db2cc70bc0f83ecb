import { AppError, VendorError } from '../shared/index.js';
import { CLBZ } from './schema.js';

/**
 * Typed errors of the DBF room, one class per kind. Codes NQ50x are the project's own; the
 * not-today refusal keeps the vendor's words (NQ203). Every message names the file (and the
 * record, where there is one) because the operator's first question is "which file?".
 */

/** Something the reader reports and steps over, instead of stopping the order flow. */
export interface DbfWarning {
  /** 1-based record number; absent when the warning is about the file as a whole. */
  recNo?: number;
  code: string;
  message: string;
}

/** The header is not the layout this file must have. Nothing is read or written. */
export class DbfFormatError extends AppError {
  constructor(
    readonly path: string,
    readonly problem: string,
    expected: string,
  ) {
    super(
      'NQ501',
      `${path} is not a valid ${expected}: ${problem}`,
      `Check that the configured path points at ${expected} and that the broker's program writes the layout in docs/interface.md (dBase III, version 0x03). Fix the file or the path, then restart.`,
    );
  }
}

/** The file at the path is no longer the file we opened (renamed over, deleted, or cut shorter). */
export class DbfReplacedError extends AppError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(
      'NQ502',
      `${path} was replaced under the gateway: ${reason}`,
      'Reopen the file. If the broker did not mean to replace it, compare it with the journal before resuming: records already read may be gone or different.',
    );
  }
}

/** A field of one record holds bytes that are not a value of its type (garbage in a number). */
export class DbfFieldError extends AppError {
  constructor(
    readonly path: string,
    readonly recNo: number,
    readonly field: string,
    readonly raw: string,
    /** What is wrong with it, in a few words (blank, a control byte, too many decimals, ...). */
    readonly reason?: string,
    /** An order of NQWT.DBF (the gateway refuses it), or a record of another file. */
    readonly inOrderFile = false,
  ) {
    super(
      'NQ503',
      `${path} record ${recNo}: field ${field} holds ${JSON.stringify(raw)}, which is not a valid value${reason ? ` (${reason})` : ''}`,
      inOrderFile
        ? `The record is not sent: its CLBZ is set to '${CLBZ.REJECTED_LOCALLY}' and \`nqgw orders --unsent\` lists it. Ask the broker to correct record ${recNo} in place and set CLBZ back to '${CLBZ.NEW}' (the gateway then sends it), or to enter the order again as a new record.`
        : `The record cannot be read. Check record ${recNo} of the file with a dBase tool.`,
    );
  }
}

/**
 * NQWT.DBF's records are not where its geometry says (a torn record with whole records written
 * after it, a tail that never completes, a header count that disagrees with the size while a
 * record cannot be read). Nothing is read and nothing is written until it is right.
 */
export class DbfGeometryError extends AppError {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(
      'NQ520',
      `委托库记录位置错乱, 停止读取与写入: ${path}: ${problem}`,
      '网关不读取、不发送、不写入该文件 (the gateway reads, sends and writes nothing until the file is sound). 请券商核对委托库: 找到被截断的记录 (broker: find the torn record), 用券商程序修复或重建文件, 未发送的委托重新录入; 文件恢复正常后网关自动继续.',
    );
  }
}

/** A row cannot be written: a value does not fit its field or is not a finite number. */
export class DbfValueError extends AppError {
  constructor(
    readonly layout: string,
    readonly field: string,
    reason: string,
  ) {
    super(
      'NQ504',
      `${layout} field ${field}: ${reason}`,
      'Nothing was written. This is a bug in the caller or bad data from upstream.',
    );
  }
}

/** A record whose deletion flag is neither ' ' nor '*' (not the last one: that one may be mid-write). */
export const WARN_BAD_FLAG = 'NQ505';
/** A record appended blank (spaces or NULs) and never filled in within the wait: not sent. */
export const UNSENT_BLANK = 'NQ522';
/** The header says more records than the file holds. */
export const WARN_COUNT_PAST_END = 'NQ506';
/** A crash left a half-written tail or a lagging count; it was repaired on open. */
export const WARN_REPAIRED = 'NQ507';

/** The object is closed, not yet opened, or broken by an earlier write failure. */
export class DbfStateError extends AppError {
  constructor(
    readonly path: string,
    state: string,
  ) {
    super(
      'NQ508',
      `${path}: ${state}`,
      'Close and open the file again; opening repairs what a failed write left.',
    );
  }
}

/** Writing the return file failed; the writer refuses further appends until reopened (which repairs). */
export class DbfWriteError extends AppError {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(
      'NQ510',
      `cannot write ${path}: ${(cause as Error).message}`,
      'Check the disk (space, permissions). The returns are not acknowledged, so the main station resends them once the file is reopened.',
      { cause },
    );
  }
}

/** A return row would break "every HBXH exactly once, 1, 2, 3 ...". Nothing was written. */
export class DbfSequenceError extends AppError {
  constructor(
    readonly path: string,
    readonly expected: number,
    readonly got: number,
  ) {
    super(
      'NQ509',
      `${path}: return sequence HBXH ${got} refused, the next one must be ${expected}`,
      'A gap or a repeat in NQHB.DBF is never written. The gateway asks the main station to resend from the last sequence it holds.',
    );
  }
}

/** The return file holds another day's records (the vendor's start-up refusal, word for word). */
export class ReturnsNotTodayError extends VendorError {
  constructor(
    readonly path: string,
    readonly foundDate: string,
    readonly today: string,
  ) {
    super(
      'NQ203_RETURNS_NOT_TODAY',
      {},
      `${path} holds records of ${foundDate}, today is ${today} (CST). Delete or move the file and restart; the main station resends today's returns. Or enable archiving of the old return file.`,
    );
    // The vendor's sentence stays intact; the file it concerns follows it.
    this.message = `${this.message} (${path})`;
  }
}
