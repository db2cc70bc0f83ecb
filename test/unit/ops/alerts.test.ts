import { describe, expect, it } from 'vitest';
import { AlertEngine, type Alert } from '../../../appliance/src/ops/index.js';
import { makeStatus } from './fixtures.js';

function engine(): { e: AlertEngine; clock: { t: number }; raised: Alert[]; cleared: Alert[] } {
  const clock = { t: 1_000_000 };
  const e = new AlertEngine({
    heartbeatMs: 10_000,
    now: () => clock.t,
    eventTtlMs: 60_000,
    pendingLongMs: 60_000,
  });
  const raised: Alert[] = [];
  const cleared: Alert[] = [];
  e.on('raised', (a: Alert) => raised.push(a));
  e.on('cleared', (a: Alert) => cleared.push(a));
  return { e, clock, raised, cleared };
}

describe('AlertEngine', () => {
  it('raises LINK_DOWN only when the link stays down past the grace, and clears it when up', () => {
    const { e, clock, raised, cleared } = engine();
    e.observeStatus(makeStatus({ linkState: '中断' }));
    clock.t += 1000;
    e.observeStatus(makeStatus({ linkState: '正在连接' }));
    expect(raised).toEqual([]);
    clock.t += 2500;
    e.observeStatus(makeStatus({ linkState: '正在连接' }));
    expect(raised.map((a) => [a.code, a.severity])).toEqual([['LINK_DOWN', 'critical']]);
    expect(raised[0]!.since).toBe(new Date(clock.t).toISOString());
    expect(raised[0]!.action).toMatch(/nqgw switch N/);
    e.observeStatus(makeStatus());
    expect(cleared.map((a) => a.code)).toEqual(['LINK_DOWN']);
    expect(e.active()).toEqual([]);
    expect(e.recent()[0]).toMatchObject({ code: 'LINK_DOWN', clearedAt: new Date(clock.t).toISOString() });
  });

  it('keeps the vendor words of a log line (NQ308) and expires the event alert after its ttl', () => {
    const { e, clock } = engine();
    e.observeLine({ time: clock.t, level: 'warn', code: 'NQ308', text: '警告：发送线程已阻塞 15000 毫秒' });
    e.observeLine({ time: clock.t, level: 'warn', code: 'NQ308', text: '警告：发送线程已阻塞 30000 毫秒' });
    expect(e.active()).toMatchObject([
      { code: 'SEND_BLOCKED', vendorCode: 'NQ308', words: '警告：发送线程已阻塞 30000 毫秒', count: 2 },
    ]);
    e.observeLine({ time: clock.t, level: 'info', code: 'NQ302', text: '小站端与服务器连接成功' });
    expect(e.active()).toHaveLength(1);
    clock.t += 60_001;
    e.observeStatus(makeStatus());
    expect(e.active()).toEqual([]);
  });

  it('derives clock, hold, notice and stale-heartbeat alerts from the status', () => {
    const { e, clock, cleared } = engine();
    e.observeStatus(
      makeStatus({
        clock: { state: 'alarm', offsetMs: 150.2 },
        holds: ['clock'],
        notice: '09:15 系统测试',
        lastHeartbeatAt: new Date(clock.t - 26_000).toISOString(),
      }),
    );
    const codes = e
      .active()
      .map((a) => a.code)
      .sort();
    expect(codes).toEqual(['CLOCK_ALARM', 'HEARTBEAT_STALE', 'NOTICE', 'ORDERS_HELD']);
    expect(e.active().find((a) => a.code === 'CLOCK_ALARM')!.words).toBe('时钟状态 alarm (offset 150.2 ms)');
    expect(e.active().find((a) => a.code === 'NOTICE')).toMatchObject({
      words: '主站特别提示: 09:15 系统测试',
      vendorCode: 'NQ307',
    });
    e.observeStatus(makeStatus({ notice: '10:00 另一条' }));
    expect(cleared.map((a) => a.code).sort()).toEqual([
      'CLOCK_ALARM',
      'HEARTBEAT_STALE',
      'NOTICE',
      'ORDERS_HELD',
    ]);
    expect(e.active().map((a) => a.words)).toEqual(['主站特别提示: 10:00 另一条']);
  });

  it('raises ORDERS_PENDING_LONG when orders wait with none sent, and reports the pending age', () => {
    const { e, clock } = engine();
    e.observeStatus(makeStatus({ pending: 3, sent: 10 }));
    clock.t += 30_000;
    e.observeStatus(makeStatus({ pending: 3, sent: 10 }));
    expect(e.pendingAgeS()).toBe(30);
    clock.t += 31_000;
    e.observeStatus(makeStatus({ pending: 3, sent: 10 }));
    expect(e.active().map((a) => a.code)).toEqual(['ORDERS_PENDING_LONG']);
    e.observeStatus(makeStatus({ pending: 1, sent: 12 }));
    expect(e.active()).toEqual([]);
    expect(e.pendingAgeS()).toBe(0);
  });
});
