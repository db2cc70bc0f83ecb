export { Gateway, type GatewayDeps } from './engine.js';
export { DAY_ENDED, DAY_HOLD } from './dayguard.js';
export {
  FileJournal,
  emptyReplay,
  orderKey,
  JournalCorruptError,
  JournalWriteError,
  type JournalEntry,
  readJournal,
  journalFileFor,
  type UnsentInfo,
} from './journal.js';
export { OrderFileLock, LockHeldError, type LockOwner } from './lock.js';
export {
  judgeForeignLock,
  takeOverForeignLock,
  lockHostname,
  LEASE_REFRESH_MS,
  LEASE_STALE_MS,
  TakeOverRefusedError,
  type ForeignLock,
} from './lock.js';
export { leaseAgeMs } from './lockfs.js';
export { OperatorLog, type OperatorLine } from './oplog.js';
export { readStatusSnapshot, STATUS_FILE, type GatewayStatus } from './status.js';
export { StartupError } from './startup.js';
export { toOrderBody } from './orders.js';
export { credentialsFor } from './credentials.js';
