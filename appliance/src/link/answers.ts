import type { OrderAnswerBody } from './messages.js';
import type { OutgoingOrder } from './outbound.js';

/** One order sent on this session and not yet answered. */
export interface Unanswered {
  recNo: number;
  sentAt: number;
}

/** What the watch reports when the oldest unanswered order is overdue. */
export interface AnswerStall {
  /** Orders sent on this session still without an OrderAnswer. */
  count: number;
  /** Record number (委托第 x 笔) of the oldest of them. */
  oldestRecNo: number;
  /** How long ago the oldest was sent, ms. */
  oldestAgeMs: number;
}

/**
 * The orders this session sent that the main station has not answered yet (an OrderAnswer,
 * 'taken' or 'duplicate', answers one), keyed like the gateway's journal: unit and serial number.
 * A main station that keeps heartbeating but has stopped answering orders looks alive to the
 * silence rule; this is what notices it. One per session: after a reconnect the gateway resends
 * its unanswered orders as possible duplicates and they are watched afresh.
 *
 * A Map keeps insertion order, so its first entry is the oldest order still unanswered.
 */
export class AnswerWatch {
  private readonly waiting = new Map<string, Unanswered>();

  constructor(private readonly timeoutMs: number) {}

  get count(): number {
    return this.waiting.size;
  }

  sent(orders: readonly OutgoingOrder[], now: number): void {
    for (const o of orders) {
      const key = orderKey(o.body.JYDY, o.body.LSH);
      // The first send is the one the deadline counts from.
      if (!this.waiting.has(key)) this.waiting.set(key, { recNo: o.body.recNo, sentAt: now });
    }
  }

  answered(answer: OrderAnswerBody): void {
    this.waiting.delete(orderKey(answer.JYDY, answer.LSH));
  }

  /** The oldest unanswered order, or null. */
  oldest(): Unanswered | null {
    for (const u of this.waiting.values()) return u;
    return null;
  }

  /** When the oldest unanswered order becomes overdue, or null when nothing is waiting. */
  deadline(): number | null {
    const o = this.oldest();
    return o === null ? null : o.sentAt + this.timeoutMs;
  }

  /** The stall, when the oldest unanswered order was sent `timeoutMs` or more ago; else null. */
  stalled(now: number): AnswerStall | null {
    const o = this.oldest();
    if (o === null || now - o.sentAt < this.timeoutMs) return null;
    return { count: this.waiting.size, oldestRecNo: o.recNo, oldestAgeMs: now - o.sentAt };
  }
}

/** NQ320's words: what is stuck, what the gateway does about it, what the operator can do. */
export function stallWords(stall: AnswerStall): string {
  return (
    `主站 ${Math.round(stall.oldestAgeMs / 1000)} 秒未应答委托: ${stall.count} 笔未获应答, 最早为委托第 ${stall.oldestRecNo} 笔; ` +
    '判定主站停滞, 切换到下一通信服务器, 登录后重发这些委托 (可能重复, 主站去重). 反复出现时请向主站确认其状态, 或 nqgw switch N'
  );
}

function orderKey(jydy: string, lsh: string): string {
  return `${jydy}\u0000${lsh}`;
}
