/**
 * report/: the daily report (日报) of a trading day, read from what the gateway records, and the
 * day record that keeps what the log alone would lose (alerts cleared, clock offsets).
 */
export { collectDailyReport, type CollectOptions } from './collect.js';
export { DayRecorder, readDayRecord, recordFileFor, type DayRecordLine } from './recorder.js';
export { shipReport, type ShippedReport } from './ship.js';
export type { DailyReport } from './types.js';
