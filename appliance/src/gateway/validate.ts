import { formatMessage, type MessageCode } from '../shared/index.js';

/**
 * The gateway's own checks on an order before it goes out, with the vendor's words. A refused
 * order gets CLBZ '2' in NQWT.DBF (the broker's program sees it was not sent; a modelled value,
 * docs/interface.md), a line in the operator log and a count under 非法委托.
 */
export interface LocalRefusal {
  key: MessageCode;
  code: string;
  text: string;
}

export function checkOrder(
  row: { JYDY: string; WTRQ: string },
  recNo: number,
  units: ReadonlySet<string>,
  today: string,
): LocalRefusal | null {
  if (!units.has(row.JYDY)) {
    return refusal('NQ401_ORDER_UNIT', { n: recNo, unit: row.JYDY });
  }
  if (row.WTRQ !== today) {
    return refusal('NQ402_ORDER_DATE', { n: recNo, date: row.WTRQ });
  }
  return null;
}

function refusal(key: MessageCode, vars: Record<string, string | number>): LocalRefusal {
  return { key, code: key.slice(0, 5), text: formatMessage(key, vars) };
}
