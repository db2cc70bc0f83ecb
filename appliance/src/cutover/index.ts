/**
 * cutover/: `nqgw cutover` - the preflight before a DR replica becomes the active gateway, the
 * start, and the verification that the main station answered the logon and sent a heartbeat;
 * and the drill, which does the same against a scratch site and leaves nothing behind.
 */
export { runCutover, CUTOVER_EXIT, type CutoverOptions, type CutoverResult } from './run.js';
export { runFailBack, type FailBackOptions } from './failback.js';
export {
  checkApproval,
  writeAudit,
  approvalFields,
  cliSource,
  ApprovalError,
  type Approval,
} from './approval.js';
export { parseFaultAt, formatDuration } from './timing.js';
export {
  CutoverReport,
  formatStep,
  formatSeconds,
  type StepRecord,
  type StepVerdict,
  type StepOutcome,
  type ReportSink,
} from './report.js';
export {
  checkClock,
  checkDrillDay,
  checkDirectories,
  checkMainStation,
  checkNoActive,
  checkReturnsToday,
  checkTls,
} from './preflight.js';
export {
  scratchTwIni,
  scratchExtras,
  makeScratch,
  removeScratch,
  listScratch,
  type Scratch,
} from './drill.js';
export { planStart, stopPid, GATEWAY_OUT, type StartPlan } from './start.js';
