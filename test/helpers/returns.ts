import { ReturnFileWriter } from '../../appliance/src/dbf/index.js';

/** A return file left from another day: one confirmation dated `date` (YYYYMMDD). */
export async function writeReturnsOfDay(file: string, date: string): Promise<void> {
  const { writer } = await ReturnFileWriter.open(file, { today: date, archiveOld: false });
  await writer.append([
    {
      JYDY: '729900',
      HBRQ: date,
      HBSJ: '093000',
      LSH: '1',
      HBLB: '0',
      ZQDM: '830001',
      GDDM: '0100000001',
      YWLB: '0B',
      CJBH: '',
      CJJG: 0,
      CJSL: 0,
      CWDM: '',
      CWXX: '',
      HBXH: 1,
    },
  ]);
  await writer.close();
}
