import { describe, expect, it } from 'vitest';
import {
  blockedFor,
  heartbeatDue,
  nextDeadline,
  peerSilent,
  sendBlockedWarningDue,
  type KeepaliveSettings,
  type KeepaliveTimes,
} from '../../../appliance/src/link/index.js';

const S: KeepaliveSettings = {
  heartbeatMs: 10_000,
  silenceMs: 20_000,
  sendBlockWarnMs: 15_000,
  sendBlockRepeatMs: 5_000,
};

describe('keepalive rules', () => {
  it('a heartbeat is due after heartbeatMs of outgoing silence', () => {
    expect(heartbeatDue(19_999, 10_000, 10_000)).toBe(false);
    expect(heartbeatDue(20_000, 10_000, 10_000)).toBe(true);
  });

  it('the peer is silent after silenceMs of incoming silence, whatever we sent', () => {
    const t: KeepaliveTimes = {
      lastSentAt: 19_999,
      lastReceivedAt: 0,
      blockedSince: null,
      lastBlockWarnAt: null,
    };
    expect(peerSilent(19_999, t.lastReceivedAt, S.silenceMs)).toBe(false);
    expect(peerSilent(20_000, t.lastReceivedAt, S.silenceMs)).toBe(true);
    // Sending keeps pushing the heartbeat deadline, never the silence deadline.
    expect(nextDeadline({ ...t, lastSentAt: 15_000 }, S)).toBe(20_000);
    expect(nextDeadline({ ...t, lastSentAt: 19_999 }, S)).toBe(20_000);
  });

  it('the next deadline is the earliest check', () => {
    const t: KeepaliveTimes = { lastSentAt: 0, lastReceivedAt: 0, blockedSince: null, lastBlockWarnAt: null };
    expect(nextDeadline(t, S)).toBe(10_000);
    expect(nextDeadline({ ...t, lastSentAt: 50_000, lastReceivedAt: 3_000 }, S)).toBe(23_000);
    expect(nextDeadline({ ...t, lastSentAt: 50_000, lastReceivedAt: 50_000, blockedSince: 1_000 }, S)).toBe(
      16_001,
    );
    expect(
      nextDeadline(
        { ...t, lastSentAt: 50_000, lastReceivedAt: 50_000, blockedSince: 1_000, lastBlockWarnAt: 16_001 },
        S,
      ),
    ).toBe(21_001);
  });

  it('warns about a blocked send path after MORE than sendBlockWarnMs, then every repeat interval', () => {
    const t: KeepaliveTimes = {
      lastSentAt: 0,
      lastReceivedAt: 0,
      blockedSince: 1_000,
      lastBlockWarnAt: null,
    };
    expect(sendBlockedWarningDue(16_000, t, S)).toBe(false);
    expect(sendBlockedWarningDue(16_001, t, S)).toBe(true);
    const warned = { ...t, lastBlockWarnAt: 16_001 };
    expect(sendBlockedWarningDue(21_000, warned, S)).toBe(false);
    expect(sendBlockedWarningDue(21_001, warned, S)).toBe(true);
    expect(sendBlockedWarningDue(99_999, { ...t, blockedSince: null }, S)).toBe(false);
    expect(blockedFor(21_001, 1_000)).toBe(20_001);
    expect(blockedFor(21_001, null)).toBe(0);
  });
});
