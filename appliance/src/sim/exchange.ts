/**
 * The main station's side of one order: judge it (rules.ts), record the outcome in the store and
 * say what goes back on the wire. Also the Outgoing item the session queues, and the pure
 * liveness check. Nothing here touches a socket.
 */
import { cstDate, cstTime } from '../shared/index.js';
import { MessageType, type Message } from './codec.js';
import type { SimConfig, StationConfig } from './config.js';
import { judgeOrder, normalizeOrder } from './rules.js';
import type { SimStore } from './store.js';

/** A message to send, or a Return whose body is already JSON text (as the store keeps it). */
export type Outgoing = Message | { type: MessageType.Return; raw: string };

export const CLIENT_QUIT_LOG = 'Client maybe quit, so I quit!';
export const SOFT_REFUSED = '软加密未开通';

/** True when nothing has been heard from the client for `silenceMs` (pure, for the check timer). */
export function isSilent(now: number, lastHeard: number, silenceMs: number): boolean {
  return now - lastHeard >= silenceMs;
}

/**
 * Take one order of `station` at `now`: records it (commit is the caller's) and returns the
 * answers. `noFills` (the session logged on with 不接受成交) makes no fills at all for it, rather
 * than making them and holding them back, so the station's HBXH stay without gaps.
 */
export function takeOrder(
  store: SimStore,
  config: SimConfig,
  station: StationConfig,
  now: number,
  body: unknown,
  possDup: boolean,
  noFills = false,
): Outgoing[] {
  const today = cstDate(now);
  const order = normalizeOrder(body);
  const day = store.day(station.id, today);
  const verdict = judgeOrder(order, possDup, {
    units: station.units,
    today,
    time: cstTime(now),
    listedPrefixes: config.listedPrefixes,
    fillRule: noFills ? 'confirm' : config.fillRule,
    isSuspended: (code) => store.isSuspended(code),
    findOrder: (unit, lsh) => store.findOrder(station.id, today, unit, lsh),
    nextSeq: day.returns.length + 1,
    nextFill: store.fillCount(today) + 1,
  });
  const answer = (status: 'taken' | 'duplicate'): Outgoing => ({
    type: MessageType.OrderAnswer,
    body: { JYDY: order.JYDY, LSH: order.LSH, status },
  });
  if (verdict.kind === 'duplicate') {
    store.record({ k: 'dup', st: station.id, d: today });
    return [answer('duplicate')];
  }
  const texts = store.recordOrder(station.id, today, verdict.order, verdict.returns);
  return [answer('taken'), ...texts.map((raw): Outgoing => ({ type: MessageType.Return, raw }))];
}
