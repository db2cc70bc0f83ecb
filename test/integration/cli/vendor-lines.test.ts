import { afterEach, describe, expect, it } from 'vitest';
import { LAB_SERVER_NAME } from '../../../appliance/src/lab/index.js';
import { makeLab, startLinked } from '../../helpers/lab.js';
import { runNqgw, waitUntil, type NqgwProcess } from '../../helpers/process.js';

const running: NqgwProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

/** The operator lines' texts, in the order the gateway printed them (its stdout is JSON lines). */
function texts(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => (JSON.parse(l) as { text: string }).text);
}

/** `expected` appear in `lines` in this order (other lines may come between). */
function inOrder(lines: string[], expected: string[], from = 0): number {
  let at = from;
  for (const want of expected) {
    const i = lines.findIndex((l, j) => j >= at && l === want);
    expect(i, `"${want}" after line ${at} in:\n${lines.slice(from).join('\n')}`).toBeGreaterThanOrEqual(0);
    at = i + 1;
  }
  return at;
}

/**
 * The vendor's screen lines, word for word and in the vendor's order (seed 000: the guide's
 * screenshots), from a real gateway logged on to the lab's simulator.
 */
describe("the vendor's screen lines", () => {
  it('start, connect and a quit from the main station, as the vendor prints them', async () => {
    const lab = await makeLab();
    const { admin, gateway } = await startLinked(lab, running);
    const lines = texts(gateway.output);
    expect(lines[0]).toMatch(/^深圳证券通信网股转系统交易网关 \(nqgw \S+\)$/);
    expect(lines[1]).toMatch(/^欢迎使用股转系统交易网关 \(nqgw \S+\)$/);
    inOrder(lines, [
      `服务器证书: /C=CN/ST=Guangdong/L=Shenzhen/O=nqgw lab main station/CN=${LAB_SERVER_NAME}`,
      '小站端等待主站应答',
      '小站端与服务器连接成功, 等待主站应答.',
    ]);

    // 股市状态 in words: the simulator's market is OPEN.
    const status = await waitUntil(async () => {
      const r = await runNqgw(['status', '--config', lab.twIni, '--json']);
      const s = JSON.parse(r.output) as { linkState: string; marketState: string };
      return s.linkState === '正常' ? s : null;
    }, 'logged on');
    expect(status.marketState).toBe('开市');
    await admin.post('/market', { state: 'CLOSED' });
    await gateway.waitFor(/股市状态: 闭市/);

    const before = texts(gateway.output).length;
    await admin.post('/faults/quit', { station: lab.station, reason: '演练' });
    const again = '通信状态出错, 系统将自动与服务器重新建立连接, 请稍候...';
    await waitUntil(() => texts(gateway.output).slice(before).includes(again), 'the reconnect line');
    inOrder(texts(gateway.output), ['收到quit包, 连接中断', '连接断开', again], before);
  });
});
