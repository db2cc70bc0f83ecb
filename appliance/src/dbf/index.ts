/**
 * The DBF room: NQWT.DBF (orders, read incrementally and flagged in place) and NQHB.DBF (returns,
 * appended with the header kept right). The field layouts live in schema.ts only.
 */
export {
  NQWT as NQWT_LAYOUT,
  NQHB as NQHB_LAYOUT,
  CLBZ,
  DBF_VERSION,
  LANGUAGE_DRIVER_GBK,
  EOF_MARKER,
  FLAG_LIVE,
  FLAG_DELETED,
  recordOffset,
  type DbfLayout,
  type FieldSpec,
  type FieldType,
  type OrderRow,
  type ReturnRow,
  type ReturnKind,
} from './schema.js';
export { encodeOrder, decodeOrder, encodeReturn, decodeReturn, encodeRows } from './codec.js';
export { encodeReturnRows, type ReturnRecord } from './codec.js';
export { fitReturn, type FittedReturn, type ReturnFieldIssue } from './return-fit.js';
export { createDbfFile, type CreateOptions } from './create.js';
export {
  OrderFileReader,
  type OrderBatch,
  type OrderRecord,
  type OrderReaderOptions,
  SETTLE_MS,
} from './order-reader.js';
export { type UnsentRecord, lenientText } from './order-verdict.js';
export { peekOrderRecords, type PeekedRecord } from './peek.js';
export { OrderFileAppender, type AppendOptions } from './order-appender.js';
export { ReturnFileWriter, type ReturnOpenOptions, type ReturnOpenResult } from './return-writer.js';
export { readOrderFile, readReturnFile } from './whole-file.js';
export {
  DbfFormatError,
  DbfReplacedError,
  DbfFieldError,
  DbfValueError,
  DbfStateError,
  DbfWriteError,
  DbfSequenceError,
  DbfGeometryError,
  ReturnsNotTodayError,
  UNSENT_BLANK,
  WARN_BAD_FLAG,
  WARN_COUNT_PAST_END,
  WARN_REPAIRED,
  type DbfWarning,
} from './errors.js';
