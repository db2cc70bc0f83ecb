/**
 * THE one place the layouts of NQWT.DBF (委托库) and NQHB.DBF (回报库) live.
 *
 * The official layout is in a non-public specification (《全国股转系统公司交易支持平台数据接口规范》);
 * what follows is the project's model of it (SPEC.md, "The DBF model the project implements";
 * docs/interface.md). When the official field list is at hand, correct it here and nowhere else:
 * offsets, header size, record length, the header check and the record codecs are all derived
 * from these tables.
 */

/** dBase III without memo. */
export const DBF_VERSION = 0x03;
/** Language driver id for GBK (code page 936), written at header byte 29. */
export const LANGUAGE_DRIVER_GBK = 0x4d;
export const HEADER_TERMINATOR = 0x0d;
export const EOF_MARKER = 0x1a;
export const FLAG_LIVE = 0x20; // ' '
export const FLAG_DELETED = 0x2a; // '*'
export const TEXT_ENCODING = 'gbk';

export type FieldType = 'C' | 'N';

/** A field as declared in the tables below. */
export interface FieldDecl {
  readonly name: string;
  readonly type: FieldType;
  readonly length: number;
  readonly decimals: number;
  /**
   * Free text (BZ, CWXX): a value longer than the field is cut at a character boundary when
   * written. Every other field refuses a value that does not fit, because a cut code or serial
   * number would be a different code or serial number.
   */
  readonly text?: boolean;
  /** The only values the field may hold (HBLB), checked when read and when written. */
  readonly values?: readonly string[];
}

/** A field with its place in the record, computed once. */
export interface FieldSpec extends FieldDecl {
  /** Byte offset inside the record; the deletion flag is byte 0, so the first field is at 1. */
  readonly offset: number;
}

export interface DbfLayout {
  /** 'NQWT' or 'NQHB': used in messages. */
  readonly name: string;
  /** The file's usual name, for messages. */
  readonly fileName: string;
  readonly description: string;
  readonly fields: readonly FieldSpec[];
  /** Bytes per record, deletion flag included. */
  readonly recordLength: number;
  /** Bytes of the header we write: 32 + 32 per field + the 0x0D terminator. */
  readonly headerLength: number;
  /** Offset of a named field inside the record (throws on an unknown name: a schema bug). */
  offsetOf(name: string): number;
}

function layout(name: string, fileName: string, description: string, decls: FieldDecl[]): DbfLayout {
  let offset = 1;
  const fields: FieldSpec[] = decls.map((d) => {
    const f = { ...d, offset };
    offset += d.length;
    return f;
  });
  const byName = new Map(fields.map((f) => [f.name, f.offset]));
  return {
    name,
    fileName,
    description,
    fields,
    recordLength: offset,
    headerLength: 32 + 32 * fields.length + 1,
    offsetOf(field: string): number {
      const o = byName.get(field);
      if (o === undefined) throw new Error(`${name} has no field ${field}`);
      return o;
    },
  };
}

const C = (name: string, length: number, text = false): FieldDecl => ({
  name,
  type: 'C',
  length,
  decimals: 0,
  text,
});
const N = (name: string, length: number, decimals: number): FieldDecl => ({
  name,
  type: 'N',
  length,
  decimals,
});

/** 委托库: written by the broker's counter program, read and flagged (CLBZ) by the gateway. */
export const NQWT = layout('NQWT', 'NQWT.DBF', '委托库, order file', [
  C('JYDY', 6), // 交易单元
  C('WTRQ', 8), // 委托日期 YYYYMMDD (CST)
  C('WTSJ', 6), // 委托时间 HHMMSS (CST)
  C('LSH', 10), // 流水号, unique per trading unit and day
  C('GDDM', 10), // 股东代码
  C('ZQDM', 6), // 证券代码
  C('YWLB', 2), // 业务类别 0B 0S 1B 1S CX
  N('WTJG', 11, 3), // 委托价格
  N('WTSL', 12, 0), // 委托数量
  C('DFXW', 6), // 对方交易单元 (negotiated trades)
  C('DFGD', 10), // 对方股东代码
  C('YDH', 6), // 约定号
  C('CDLSH', 10), // 撤单原流水号 (cancels)
  C('CLBZ', 1), // 处理标志
  C('BZ', 20, true), // 备注
]);

/** 回报库: written by the gateway, read by the broker's counter program. */
export const NQHB = layout('NQHB', 'NQHB.DBF', '回报库, return file', [
  C('JYDY', 6), // 交易单元
  C('HBRQ', 8), // 回报日期 YYYYMMDD (CST)
  C('HBSJ', 6), // 回报时间 HHMMSS (CST)
  C('LSH', 10), // serial number of the order answered
  // 回报类别 0 accepted, 1 rejected, 2 filled, 3 cancelled; blank: the main station sent another value (dbf/return-fit.ts)
  { name: 'HBLB', type: 'C', length: 1, decimals: 0, values: ['0', '1', '2', '3', ''] },
  C('ZQDM', 6), // 证券代码
  C('GDDM', 10), // 股东代码
  C('YWLB', 2), // 业务类别 of the order
  C('CJBH', 16), // 成交编号
  N('CJJG', 11, 3), // 成交价格
  N('CJSL', 12, 0), // 成交数量
  C('CWDM', 4), // 错误代码
  C('CWXX', 60, true), // 错误信息, GBK
  N('HBXH', 12, 0), // 回报序号: the main station's return sequence, 1, 2, 3 ... per station and day
]);

/** CLBZ values. '2' is the project's own modelled value (see docs/interface.md). */
export const CLBZ = {
  NEW: '0',
  SENT: '1',
  /** Refused by the gateway's own checks: modelled, not from the vendor's documents. */
  REJECTED_LOCALLY: '2',
} as const;

/** One order record of NQWT.DBF. Strings come back without their trailing spaces. */
export interface OrderRow {
  JYDY: string;
  WTRQ: string;
  WTSJ: string;
  LSH: string;
  GDDM: string;
  ZQDM: string;
  YWLB: string;
  WTJG: number;
  WTSL: number;
  DFXW: string;
  DFGD: string;
  YDH: string;
  CDLSH: string;
  CLBZ: string;
  BZ: string;
}

/** HBLB: '' is written for a kind the main station sent that is none of the four (NQ540). */
export type ReturnKind = '0' | '1' | '2' | '3' | '';

/** One return record of NQHB.DBF. */
export interface ReturnRow {
  JYDY: string;
  HBRQ: string;
  HBSJ: string;
  LSH: string;
  HBLB: ReturnKind;
  ZQDM: string;
  GDDM: string;
  YWLB: string;
  CJBH: string;
  CJJG: number;
  CJSL: number;
  CWDM: string;
  CWXX: string;
  HBXH: number;
}

/** Byte offset of record `recNo` (1-based) in a file whose header is `headerLength` bytes. */
export function recordOffset(headerLength: number, recordLength: number, recNo: number): number {
  return headerLength + (recNo - 1) * recordLength;
}
