import { appendFileSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DayRecorder, readDayRecord, recordFileFor } from '../../../appliance/src/report/index.js';
import { alertsFromLines, linkFromLines } from '../../../appliance/src/report/lines.js';
import { tempDir } from '../../helpers/tempdir.js';

const line = (t: string, text: string, code?: string, level = 'info') => ({
  t,
  level,
  text,
  ...(code ? { code } : {}),
});

describe('daily report: what the log lines say', () => {
  it('counts logons by server and a switch only where the server changes', () => {
    const lines = [
      line('2026-12-02T01:30:00Z', '登录成功: server1 172.50.101.30:7043, 交易日 20261202, 股市状态 开市'),
      line('2026-12-02T02:00:00Z', '连接断开', 'NQ305'),
      line('2026-12-02T02:00:01Z', '登录成功: server1 172.50.101.30:7043, 交易日 20261202, 股市状态 开市'),
      line('2026-12-02T03:00:00Z', 'orders unanswered', 'NQ320', 'warn'),
      line('2026-12-02T03:00:02Z', '登录成功: server2 172.60.101.30:7043, 交易日 20261202, 股市状态 开市'),
      // Words that merely contain the phrase, with a code: not a logon.
      line('2026-12-02T03:00:03Z', '登录成功: server9 x, 交易日 ', 'NQ962'),
    ];
    expect(linkFromLines(lines)).toEqual({
      logons: 3,
      byServer: { 'server1 172.50.101.30:7043': 2, 'server2 172.60.101.30:7043': 1 },
      switches: [
        { at: '2026-12-02T03:00:02Z', from: 'server1 172.50.101.30:7043', to: 'server2 172.60.101.30:7043' },
      ],
      events: { NQ305: 1, NQ320: 1 },
    });
  });

  it('reads raises and clears from NQ962 lines when there is no day record', () => {
    expect(
      alertsFromLines([
        line('t', '告警 LINK_DOWN: 通信状态: 中断', 'NQ962', 'warn'),
        line('t', '告警解除 LINK_DOWN: 通信状态: 中断', 'NQ962'),
        line('t', '告警 LINK_DOWN: 没有代码', undefined, 'warn'),
      ]),
    ).toEqual([
      { event: 'raised', code: 'LINK_DOWN', severity: 'warning' },
      { event: 'cleared', code: 'LINK_DOWN', severity: 'info' },
    ]);
  });
});

describe('daily report: the day record', () => {
  it('keeps alerts and each new clock offset by CST day, and reads past a torn last line', async () => {
    const dir = tempDir('nqgw-record-');
    // 2026-12-02 23:59:59.500 CST, then half a second later: the next CST day.
    let now = Date.parse('2026-12-02T15:59:59.500Z');
    const rec = new DayRecorder({ stateDir: dir, clock: { now: () => now } });
    rec.alert('raised', { code: 'CLOCK_WARN', severity: 'warning', words: '时钟状态 warn' });
    rec.clockSeen({ state: 'warn', offsetMs: 61.5 });
    rec.clockSeen({ state: 'warn', offsetMs: 61.5 }); // the same round seen again: not recorded
    rec.clockSeen(null);
    now += 500;
    rec.clockSeen({ state: 'ok', offsetMs: 3.2 });
    await rec.flush();
    const day1 = await readDayRecord(dir, '20261202');
    expect(day1?.map((l) => l.k)).toEqual(['alert', 'clock']);
    appendFileSync(recordFileFor(dir, '20261203'), '{"t":"x","k":"clo');
    const day2 = await readDayRecord(dir, '20261203');
    expect(day2).toEqual([{ t: '2026-12-02T16:00:00.000Z', k: 'clock', offsetMs: 3.2, state: 'ok' }]);
    expect(await readDayRecord(dir, '20261204')).toBeNull();
    expect(readFileSync(recordFileFor(dir, '20261202'), 'utf8').split('\n')).toHaveLength(3);
  });
});
