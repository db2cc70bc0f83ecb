/**
 * logs/: structured local logs (winston, JSON lines, segments rotated by size, age and CST day),
 * the durable shipper to S3-compatible storage, and the end-of-day archive (docs/logs.md).
 */
export { parseLogSettings, type LogSettings, type StoreSettings, type FullPolicy } from './settings.js';
export {
  LogSettingsError,
  SpoolCorruptError,
  KeyConflictError,
  StoreTimeoutError,
  StoreAbortedError,
  StoreRequestError,
} from './errors.js';
export { LogService, segmentKey, type LogLine, type LogServiceOptions } from './service.js';
export {
  SegmentWriter,
  listSegments,
  segmentsDir,
  openSegmentFile,
  SEGMENT_QUEUE_BYTES,
  type OpenSegmentFile,
  type SegmentFile,
  type SegmentRef,
} from './segments.js';
export { Spool, sha256, md5b64, type SpoolEntry } from './spool.js';
export { Shipper, shipStatusPath, SHIP_STATUS_FILE, type ShipMetrics } from './shipper.js';
export { ObjectStore, type StoredObject } from './store.js';
export { Backoff } from './backoff.js';
export {
  planRetention,
  pruneSegments,
  retentionLines,
  daysBetween,
  RETENTION_CODE,
  RETENTION_FAILED_CODE,
  type RetentionOptions,
  type RetentionPlan,
  type RetentionResult,
} from './retention.js';
export { followSegments, tailWithCursor, type FollowCursor } from './follow.js';
export {
  uploadArchive,
  archiveFiles,
  type ArchiveManifest,
  type ArchiveResult,
  type ManifestFile,
} from './archive.js';
