import { ReturnFileWriter } from '../../appliance/src/dbf/index.js';
import type { ReturnBody } from '../../appliance/src/link/index.js';

/**
 * One return as the main station sends it and NQHB.DBF keeps it: a confirmation (HBLB '0',
 * nothing traded) of unit 729900 dated 2026-01-05, its HBXH and serial (LSH) both `hbxh`.
 * `over` sets whatever a test looks at.
 */
export function returnRow(hbxh: number, over: Partial<ReturnBody> = {}): ReturnBody {
  return {
    HBXH: hbxh,
    JYDY: '729900',
    HBRQ: '20260105',
    HBSJ: '100000',
    LSH: String(hbxh),
    HBLB: '0',
    ZQDM: '430001',
    GDDM: '0800012345',
    YWLB: '0B',
    CJBH: '',
    CJJG: 0,
    CJSL: 0,
    CWDM: '',
    CWXX: '',
    ...over,
  };
}

/** A return file left from another day: one confirmation dated `date` (YYYYMMDD). */
export async function writeReturnsOfDay(file: string, date: string): Promise<void> {
  const { writer } = await ReturnFileWriter.open(file, { today: date, archiveOld: false });
  await writer.append([returnRow(1, { HBRQ: date, HBSJ: '093000', ZQDM: '830001', GDDM: '0100000001' })]);
  await writer.close();
}
