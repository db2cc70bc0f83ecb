import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { readStatusSnapshot, type GatewayStatus } from '../gateway/index.js';
import { OpsClient } from '../ops/index.js';
import { cstClock } from '../shared/index.js';
import { EXIT, printError } from './output.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The vendor's main screen, as text for an SSH session. */
export function renderScreen(s: GatewayStatus, running: boolean): string {
  const row = (a: string, b: string): string => `${a.padEnd(28)}${b}`;
  const lines = [
    `股转系统交易网关 (nqgw)   ${running ? '运行中' : '未运行 (last seen ' + s.updatedAt + ')'}`,
    row(`小站号: ${s.station}`, `通信服务器: ${s.server ?? '-'}`),
    row(`交易单元: ${s.units.join(',')}`, `即时回报: ${s.returns}`),
    row(`待发委托: ${s.pending}`, `已发委托: ${s.sent}`),
    row(`成功委托: ${s.accepted}`, `非法委托: ${s.rejected}`),
    ...(s.unsent && s.unsent.count > 0
      ? [`未发送 ${s.unsent.count} 笔 (nqgw orders --unsent): ${s.unsent.last ?? ''}`]
      : []),
    row(`通信状态: ${s.linkState}`, `股市状态: ${s.marketState}`),
    `特别提示: ${s.notice}`,
  ];
  if (s.clock)
    lines.push(
      `时钟: ${s.clock.state}${s.clock.offsetMs === null ? '' : ` (offset ${s.clock.offsetMs.toFixed(1)} ms)`}`,
    );
  if (s.ekey) {
    const state = s.ekey.present === false ? '未插入' : s.ekey.present ? '已插入' : '未知';
    lines.push(`Ekey: ${state}${s.ekey.failures > 0 ? ` (24 小时内故障 ${s.ekey.failures} 次)` : ''}`);
  }
  if (s.soft) {
    lines.push(
      `小站使用软加密: ${s.soft.window}, 第 ${s.soft.day}/${s.soft.of} 个交易日, 剩余 ${s.soft.remaining}`,
    );
  }
  if (s.holds.length > 0) lines.push(`暂停发送: ${s.holds.join(', ')}`);
  if (s.tradingDay) {
    const exit = s.autoExit
      ? `  自动退出: ${s.autoExit.at}${s.autoExit.armed ? '' : ' (今天不自动退出: 启动时已过)'}`
      : '';
    lines.push(`交易日: ${s.tradingDay}${exit}`);
  }
  lines.push('');
  for (const l of s.log.slice(-15)) lines.push(`${cstClock(l.time)} ${l.text}`);
  return `${lines.join('\n')}\n`;
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('print the status screen (exit 0: link up, 1: running but link not up, 3: not running)')
    .requiredOption('--config <file>', 'tw.ini')
    .option('--json', 'machine-readable output')
    .action(async (opts: { config: string; json?: boolean }) => {
      try {
        const config = loadConfig(opts.config);
        // The live API first (it answers only while the gateway runs); else the last snapshot.
        const live = await (async () =>
          OpsClient.fromConfig(config).get<GatewayStatus>('/api/status'))().catch(() => null);
        const status = live ?? (await readStatusSnapshot(config.files.stateDir));
        const running = live !== null || (status !== null && alive(status.pid));
        if (opts.json) process.stdout.write(`${JSON.stringify({ ...status, running })}\n`);
        else if (status) process.stdout.write(renderScreen(status, running));
        else process.stdout.write('网关未运行 (no status yet)\n');
        process.exitCode = !running ? EXIT.REFUSED : status?.linkState === '正常' ? EXIT.OK : EXIT.DEGRADED;
      } catch (err) {
        printError(err);
        process.exitCode = EXIT.BAD_INPUT;
      }
    });
}
