import { CLBZ, type OrderRow } from '../dbf/index.js';
import { cstDate, cstTime } from '../shared/index.js';

/**
 * Valid orders as a broker's counter program would write them, for the feeder, the benchmark and
 * the tests. Securities cycle through the NEEQ ranges the lab simulator lists (43xxxx, 83xxxx,
 * 87xxxx); serial numbers are the caller's, since they must be unique per unit and day.
 */
const SECURITIES = ['430001', '830001', '870001', '832000', '873001'];

export function makeOrder(
  unit: string,
  serial: number,
  now: number,
  overrides: Partial<OrderRow> = {},
): OrderRow {
  return {
    JYDY: unit,
    WTRQ: cstDate(now),
    WTSJ: cstTime(now),
    LSH: String(serial),
    GDDM: `08${String(serial % 100_000_000).padStart(8, '0')}`,
    ZQDM: SECURITIES[serial % SECURITIES.length]!,
    YWLB: serial % 2 === 0 ? '0B' : '0S',
    WTJG: 10.5 + (serial % 10) / 100,
    WTSL: 100 * (1 + (serial % 50)),
    DFXW: '',
    DFGD: '',
    YDH: '',
    CDLSH: '',
    CLBZ: CLBZ.NEW,
    BZ: '',
    ...overrides,
  };
}
