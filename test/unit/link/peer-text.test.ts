import { describe, expect, it } from 'vitest';
import { cleanPeerText, MessageType, NOTICE_MAX_CHARS } from '../../../appliance/src/link/index.js';
import { harness, type Harness } from './fake.js';
import { tick, upHarness, useLinkClock } from './fixtures.js';

// Characters that forge log lines, colour terminals or reverse what an operator reads.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('main-station text is made safe before the log, status and alerts see it', () => {
  it('cleanPeerText: control characters out, length capped with the original length noted', () => {
    expect(cleanPeerText('今日\r\n2026-03-02 NQ201 伪造的一行\u001b[31m红\u0000', 100)).toBe(
      '今日 2026-03-02 NQ201 伪造的一行 [31m红',
    );
    expect(cleanPeerText('abc\u202edcba', 100)).toBe('abc dcba');
    const long = cleanPeerText('通'.repeat(70_000), 500);
    expect(long.startsWith('通'.repeat(500))).toBe(true);
    expect(long).toBe(`${'通'.repeat(500)}…(已截断, 原长 70000 字符)`);
    // A surrogate pair is never cut in half.
    const emoji = cleanPeerText('😀'.repeat(10), 3);
    expect(emoji.startsWith('😀😀😀…')).toBe(true);
  });

  describe('through the link client', () => {
    let h: Harness;
    useLinkClock();

    it('caps a huge notice and strips its control characters (event and NQ307 line)', async () => {
      h = await upHarness();
      const notices: string[] = [];
      h.client.on('notice', (t) => notices.push(t));
      const text = `系统维护\n2026-03-02 09:30:00 [error] NQ206 伪造\u001b]0;x\u0007${'长'.repeat(20_000)}`;
      h.conn().feed({ type: MessageType.Notice, body: { text } });
      expect(notices).toHaveLength(1);
      const shown = notices[0]!;
      expect(shown).not.toMatch(UNSAFE);
      expect(shown.startsWith('系统维护 2026-03-02 09:30:00 [error] NQ206 伪造 ]0;x 长')).toBe(true);
      expect(Array.from(shown).length).toBeLessThanOrEqual(NOTICE_MAX_CHARS + 30);
      expect(shown).toMatch(/…\(已截断, 原长 \d+ 字符\)$/);
      const line = h.logs.find((l) => l.code === 'NQ307')!;
      expect(line.text).toBe(`主站特别提示: ${shown}`);
    });

    it('cleans a quit reason and the words of a refused logon', async () => {
      h = await upHarness();
      const quits: string[] = [];
      h.client.on('quit', (r) => quits.push(r));
      h.conn().feed({ type: MessageType.Quit, body: { reason: `bye\r\n[info] 伪造${'x'.repeat(5_000)}` } });
      expect(quits[0]).not.toMatch(UNSAFE);
      expect(quits[0]!.length).toBeLessThan(300);
      expect(h.logs.every((l) => !UNSAFE.test(l.text))).toBe(true);
      await h.client.stop();

      h = harness();
      h.client.start();
      await tick();
      h.conn().feed({
        type: MessageType.LogonAnswer,
        body: {
          ok: false,
          code: 'R9\n',
          text: `证书\u0000错误\n${'y'.repeat(5_000)}`,
          tradingDate: '20260302',
          marketState: '',
          serverTime: 0,
        },
      });
      const refused = h.logs.find((l) => l.text.startsWith('主站拒绝登录'))!;
      expect(refused.text).not.toMatch(UNSAFE);
      expect(refused.text.length).toBeLessThan(300);
      expect(refused.code).toBe('R9');
    });
  });
});
