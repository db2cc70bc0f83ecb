import type { LogSettings, ObjectStore } from '../logs/index.js';
import { md5b64, sha256 } from '../logs/index.js';
import { cstTime, systemClock, type Clock } from '../shared/index.js';
import type { DailyReport } from './types.js';

export interface ShippedReport {
  jsonKey: string;
  textKey: string;
}

/**
 * Puts the report beside the day's end-of-day archive (logs/archive.ts):
 * PREFIX/STATION/HOST/archive/DATE/report-HHMMSS.json and .txt (the time it was shipped, CST, so
 * a report made again later, with more of the day in it, never overwrites an earlier one). The
 * JSON goes first: a .txt in the bucket always has its .json.
 */
export async function shipReport(
  report: DailyReport,
  text: string,
  settings: LogSettings,
  store: ObjectStore,
  clock: Clock = systemClock,
): Promise<ShippedReport> {
  const base = `${store.settings.prefix}/${settings.station}/${settings.host}/archive/${report.date}/report-${cstTime(clock.now())}`;
  const json = Buffer.from(`${JSON.stringify(report, null, 2)}\n`, 'utf8');
  const txt = Buffer.from(text, 'utf8');
  await store.put(`${base}.json`, json, md5b64(json), sha256(json), 'application/json');
  await store.put(`${base}.txt`, txt, md5b64(txt), sha256(txt), 'text/plain; charset=utf-8');
  return { jsonKey: `${base}.json`, textKey: `${base}.txt` };
}
