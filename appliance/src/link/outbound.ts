import { FLAG_POSS_DUP, HEADER_SIZE, writeHeader } from './frame.js';
import { MessageType, type OrderBody } from './messages.js';

export interface OutgoingOrder {
  body: OrderBody;
  /** A resend of an order that may already have reached the main station (journal replay). */
  possDup: boolean;
}

/**
 * Lay out a batch of Order frames, numbered from `firstSeq`, in ONE buffer: one allocation and one
 * socket write for the whole batch (20,000 orders/s is the target). Byte-for-byte what
 * `encodeMessage` would give for each order in turn.
 */
export function encodeOrders(orders: readonly OutgoingOrder[], firstSeq: number): Buffer {
  const json: string[] = new Array<string>(orders.length);
  const lengths: number[] = new Array<number>(orders.length);
  let total = 0;
  for (let i = 0; i < orders.length; i++) {
    const text = JSON.stringify(orders[i]!.body);
    const len = Buffer.byteLength(text, 'utf8');
    json[i] = text;
    lengths[i] = len;
    total += HEADER_SIZE + len;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < orders.length; i++) {
    const len = lengths[i]!;
    writeHeader(out, at, MessageType.Order, len, firstSeq + i, orders[i]!.possDup ? FLAG_POSS_DUP : 0);
    out.write(json[i]!, at + HEADER_SIZE, len, 'utf8');
    at += HEADER_SIZE + len;
  }
  return out;
}
