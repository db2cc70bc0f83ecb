import type { Command } from 'commander';
import { readStatusSnapshot, type GatewayStatus } from '../gateway/index.js';
import { marketWords } from '../link/index.js';
import { OpsClient } from '../ops/index.js';
import { cstClock, cstDate, isAlive, software } from '../shared/index.js';
import { EXIT, shellArg } from './output.js';
import { padColumns } from './width.js';
import { configOption, loadCliConfig } from './usage.js';

/** Columns of the screen's three-column rows (terminal columns: CJK counts two). */
const COLUMN = 26;

/** YYYY-MM-DD HH:MM:SS (CST), the screen's clock beside 即时回报. */
function cstStamp(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const d = cstDate(ms);
  return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)} ${cstClock(ms)}`;
}

/**
 * The vendor's main screen, as text for an SSH session, laid out as the vendor's (seed 000): its
 * name and version, then 小站号 and 通信服务器; 交易单元, 即时回报 and the time; 待发委托, 已发委托,
 * 通信状态; 成功委托, 非法委托, 股市状态; 特别提示. `configPath` makes the hints paste-able.
 */
export function renderScreen(s: GatewayStatus, running: boolean, configPath?: string): string {
  const row = (...cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : padColumns(c, COLUMN)))
      .join('')
      .trimEnd();
  const withConfig = configPath ? ` --config ${shellArg(configPath)}` : '';
  const lines = [
    '深圳证券通信网',
    `股转系统交易网关 Version ${software().text}   ${running ? '运行中' : `未运行 (最后更新 ${cstStamp(s.updatedAt)})`}`,
    row(`小站号: ${s.station}`, `通信服务器: ${s.server ?? '-'}`),
    row(`交易单元: ${s.units.join(',')}`, `即时回报: ${s.returns}`, cstStamp(s.updatedAt)),
    row(`待发委托: ${s.pending}`, `已发委托: ${s.sent}`, `通信状态: ${s.linkState}`),
    row(`成功委托: ${s.accepted}`, `非法委托: ${s.rejected}`, `股市状态: ${marketWords(s.marketState)}`),
    ...(s.unsent && s.unsent.count > 0
      ? [`未发送 ${s.unsent.count} 笔 (nqgw orders --unsent${withConfig}): ${s.unsent.last ?? ''}`]
      : []),
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
  configOption(
    program
      .command('status')
      .description('print the status screen (exit 0: link up, 1: running but link not up, 3: not running)'),
  )
    .option('--json', 'machine-readable output')
    .action(async (opts: { config?: string; json?: boolean }) => {
      // A wrong call or a wrong tw.ini is thrown to main.ts's one handler: exit 2, said once.
      const config = loadCliConfig(opts.config);
      // The live API first (it answers only while the gateway runs); else the last snapshot.
      const live = await (async () => OpsClient.fromConfig(config).get<GatewayStatus>('/api/status'))().catch(
        () => null,
      );
      const status = live ?? (await readStatusSnapshot(config.files.stateDir));
      const running = live !== null || (status !== null && isAlive(status.pid));
      if (opts.json) process.stdout.write(`${JSON.stringify({ ...status, running })}\n`);
      else if (status) process.stdout.write(renderScreen(status, running, config.source));
      else process.stdout.write('网关未运行 (no status yet)\n');
      process.exitCode = !running ? EXIT.REFUSED : status?.linkState === '正常' ? EXIT.OK : EXIT.DEGRADED;
    });
}
