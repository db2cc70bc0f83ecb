import { HEADER_SIZE } from './frame.js';

/**
 * Liveness rules of the link as pure functions of "now" and the last-seen times (QuickFIX/J's
 * SessionState.isTestRequestNeeded / isTimedOut). The session keeps the times and drives these
 * with one timer, re-armed at `nextDeadline`.
 *
 * Two separate clocks, never mixed (MQTT.js#1861): OUTGOING silence decides when a heartbeat is
 * due; INCOMING silence decides when the peer is dead. Sending never postpones the dead-peer check.
 */

export interface KeepaliveTimes {
  /** When we last wrote a frame (any type). */
  lastSentAt: number;
  /** When we last received a COMPLETE frame from the peer (bytes of an unfinished one do not count). */
  lastReceivedAt: number;
  /** Since when a write has been waiting for 'drain', or null. */
  blockedSince: number | null;
  /** When the send-blocked warning was last raised in this blocked spell, or null. */
  lastBlockWarnAt: number | null;
}

export interface KeepaliveSettings {
  heartbeatMs: number;
  silenceMs: number;
  /** Warn when a write has not drained for more than this (vendor: 15000). */
  sendBlockWarnMs: number;
  /** Repeat the warning this often while still blocked. */
  sendBlockRepeatMs: number;
}

/** A heartbeat is due after heartbeatMs with nothing sent. */
export function heartbeatDue(now: number, lastSentAt: number, heartbeatMs: number): boolean {
  return now - lastSentAt >= heartbeatMs;
}

/** The peer is presumed dead after silenceMs with nothing received. */
export function peerSilent(now: number, lastReceivedAt: number, silenceMs: number): boolean {
  return now - lastReceivedAt >= silenceMs;
}

/**
 * NQ321's words, for a link given up while a frame was incomplete: `held` bytes of it (header
 * included) in hand, `announced` the body length its header gave (null: the header itself is
 * incomplete).
 */
export function incompleteFrameWords(ms: number, held: number, announced: number | null): string {
  const what =
    announced === null
      ? `半个包头 (${held} 字节)`
      : `包头宣称 ${announced} 字节, 只收到 ${held - HEADER_SIZE} 字节`;
  return `主站数据包 ${Math.round(ms / 1000)} 秒未收完整: ${what}; 判定链路失效, 切换到下一通信服务器`;
}

/** How long the send path has been blocked, or 0. */
export function blockedFor(now: number, blockedSince: number | null): number {
  return blockedSince === null ? 0 : Math.max(0, now - blockedSince);
}

/** Raise (or repeat) the 发送线程已阻塞 warning now? */
export function sendBlockedWarningDue(now: number, t: KeepaliveTimes, s: KeepaliveSettings): boolean {
  if (t.blockedSince === null) return false;
  if (now - t.blockedSince <= s.sendBlockWarnMs) return false;
  return t.lastBlockWarnAt === null || now - t.lastBlockWarnAt >= s.sendBlockRepeatMs;
}

/** The earliest moment at which one of the checks above can change its answer. */
export function nextDeadline(t: KeepaliveTimes, s: KeepaliveSettings): number {
  let at = Math.min(t.lastSentAt + s.heartbeatMs, t.lastReceivedAt + s.silenceMs);
  if (t.blockedSince !== null) {
    const warnAt =
      t.lastBlockWarnAt === null
        ? t.blockedSince + s.sendBlockWarnMs + 1
        : t.lastBlockWarnAt + s.sendBlockRepeatMs;
    at = Math.min(at, warnAt);
  }
  return at;
}
