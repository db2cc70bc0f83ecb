import { describe, expect, it } from 'vitest';
import { renderScreen } from '../../../appliance/src/cli/status.js';
import { displayWidth, padColumns } from '../../../appliance/src/cli/width.js';
import { certificateSubject, marketWords } from '../../../appliance/src/link/index.js';
import { makeStatus } from '../ops/fixtures.js';

describe('terminal columns', () => {
  it('counts a CJK character as two columns', () => {
    expect(displayWidth('W888888T')).toBe(8);
    expect(displayWidth('小站号: W888888T')).toBe(3 * 2 + 2 + 8);
    expect(displayWidth('：，！')).toBe(6); // full-width punctuation
    expect(padColumns('交易单元: 729900', 20)).toBe('交易单元: 729900' + ' '.repeat(20 - 8 - 2 - 6));
    expect(padColumns('a very long cell indeed', 5)).toBe('a very long cell indeed ');
  });
});

describe('the status screen', () => {
  const status = makeStatus({
    station: 'W999999T',
    units: ['729900'],
    server: '南方 172.50.101.30:7043',
    returns: 12,
    pending: 3,
    sent: 1234,
    accepted: 1200,
    rejected: 34,
    marketState: 'OPEN', // a snapshot from an older gateway: still shown in words
    notice: '10:55 系统测试',
    unsent: { count: 1, last: '第 2 笔 NQ503' },
    updatedAt: '2026-12-02T02:55:29.000Z',
  });
  const screen = renderScreen(status, true, '/etc/nqgw/tw.ini').split('\n');

  it("opens with the vendor's name and version lines", () => {
    expect(screen[0]).toBe('深圳证券通信网');
    expect(screen[1]).toMatch(/^股转系统交易网关 Version nqgw \S+ {3}运行中$/);
  });

  it("lays the fields out in the vendor's rows, CJK columns aligned on the terminal", () => {
    const rows = screen.slice(2, 6);
    expect(rows).toEqual([
      expect.stringMatching(/^小站号: W999999T +通信服务器: 南方 172\.50\.101\.30:7043$/),
      expect.stringMatching(/^交易单元: 729900 +即时回报: 12 +2026-12-02 10:55:29$/),
      expect.stringMatching(/^待发委托: 3 +已发委托: 1234 +通信状态: 正常$/),
      expect.stringMatching(/^成功委托: 1200 +非法委托: 34 +股市状态: 开市$/),
    ]);
    // The second and third columns start at the same terminal column on every row.
    const columnOf = (row: string, label: string): number => displayWidth(row.slice(0, row.indexOf(label)));
    expect(
      new Set([
        columnOf(rows[0]!, '通信服务器'),
        columnOf(rows[1]!, '即时回报'),
        columnOf(rows[2]!, '已发委托'),
        columnOf(rows[3]!, '非法委托'),
      ]).size,
    ).toBe(1);
    expect(columnOf(rows[2]!, '通信状态')).toBe(columnOf(rows[3]!, '股市状态'));
    expect(columnOf(rows[1]!, '2026-12-02')).toBe(columnOf(rows[2]!, '通信状态'));
  });

  it('gives hints as whole commands that can be pasted', () => {
    expect(screen).toContain('未发送 1 笔 (nqgw orders --unsent --config /etc/nqgw/tw.ini): 第 2 笔 NQ503');
  });
});

describe("the link's screen words", () => {
  it("says the server certificate in the vendor's slash form", () => {
    const subject = { C: 'CN', ST: 'Guangdong', L: 'Shenzhen', O: 'Shenzhen Securities Communication' };
    expect(certificateSubject({ subject } as never)).toBe(
      '/C=CN/ST=Guangdong/L=Shenzhen/O=Shenzhen Securities Communication',
    );
    expect(certificateSubject(null)).toBe('');
  });

  it('says 股市状态 in words', () => {
    expect(marketWords('CLOSED')).toBe('闭市');
    expect(marketWords('')).toBe('未知');
    expect(marketWords('未知')).toBe('未知');
  });
});
