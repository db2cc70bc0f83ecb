import { describe, expect, it } from 'vitest';
import { AlertEngine, type Alert } from '../../../appliance/src/ops/index.js';

/** The return path's operator lines, as the ops room turns them into alerts. */
describe('alerts of the return path', () => {
  const setup = () => {
    const clock = { t: 1_000_000 };
    const e = new AlertEngine({ heartbeatMs: 10_000, now: () => clock.t, eventTtlMs: 300_000 });
    const raised: Alert[] = [];
    const cleared: Alert[] = [];
    e.on('raised', (a: Alert) => raised.push(a));
    e.on('cleared', (a: Alert) => cleared.push(a));
    const line = (code: string, text: string) => e.observeLine({ time: clock.t, level: 'error', code, text });
    return { e, clock, raised, cleared, line };
  };

  it('one critical RETURN_FILE_FAILED for a whole outage, in the vendor words, cleared when writing works again', () => {
    const { e, raised, cleared, line } = setup();
    line('NQ206', '错误: 写回报库失败: cannot write NQHB.DBF: ENOSPC');
    line('NQ720', '回报暂不确认 ...');
    line('NQ721', '回报库仍不可写 ...');
    line('NQ721', '回报库仍不可写 ...');
    expect(raised.map((a) => [a.code, a.severity, a.vendorCode])).toEqual([
      ['RETURN_FILE_FAILED', 'critical', 'NQ206'],
    ]);
    expect(raised[0]!.action).toMatch(/No restart needed/);
    expect(raised[0]!.action).not.toMatch(/restart the gateway/);
    line('NQ722', '回报库已恢复可写, 续写至回报序号 105');
    expect(cleared.map((a) => a.code)).toEqual(['RETURN_FILE_FAILED']);
    expect(e.active()).toEqual([]);
  });

  it('a return written with an unfit field raises a critical RETURN_UNFIT naming HBXH, field and raw value', () => {
    const { raised, line } = setup();
    line('NQ540', '回报序号 2 字段 CJJG not a number (string), 已写为空; 主站原值 "abc" 已记入 x');
    expect(raised).toMatchObject([{ code: 'RETURN_UNFIT', severity: 'critical', vendorCode: 'NQ540' }]);
    expect(raised[0]!.words).toContain('"abc"');
  });

  it('a return whose HBXH cannot be placed raises a critical RETURN_UNPLACEABLE that says to call the main station', () => {
    const { raised, line } = setup();
    line(
      'NQ542',
      '主站回报的回报序号 (HBXH) 非法: "two", 该回报及其后的回报均无法写入回报库; 请致电主站技术支持更正该回报',
    );
    expect(raised).toMatchObject([{ code: 'RETURN_UNPLACEABLE', severity: 'critical', vendorCode: 'NQ542' }]);
    expect(raised[0]!.words).toContain('请致电主站');
    expect(raised[0]!.action).toMatch(/Call the main station/);
    expect(raised[0]!.action).toMatch(/restart does not help/);
  });
});
