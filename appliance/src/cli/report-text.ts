import type { DailyReport } from '../report/index.js';
import { padColumns } from './width.js';

/**
 * The daily report as an operator prints it or files it (日报): one label column, CJK-aligned
 * on a terminal (cli/width.ts), Chinese labels with the English beside where the figure's meaning
 * is not obvious. Every figure is the JSON's; nothing is computed here but sums for display.
 */
const LABEL = 18;

function row(label: string, value: string): string {
  return `  ${padColumns(label, LABEL)}${value}`;
}

function codes(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([c, n]) => `${c}×${n}`);
  return parts.length === 0 ? '无 (none)' : parts.join('  ');
}

function ms(v: number | null): string {
  return v === null ? '-' : `${v >= 0 ? '+' : ''}${v.toFixed(1)} ms`;
}

function cst(iso: string | null): string {
  if (!iso) return '-';
  const d = new Date(Date.parse(iso) + 8 * 3600_000);
  return d.toISOString().slice(11, 19);
}

export function renderDailyReport(r: DailyReport): string {
  const out: string[] = [];
  out.push(`股转系统交易网关 日报 (daily report)   交易日 ${r.date}   小站号 ${r.station}   主机 ${r.host}`);
  out.push(
    `生成时间 ${r.generatedAt}   ${r.software}   配置 config ${r.config.hash.slice(0, 12)}   tw.ini sha256 ${r.config.sha256.slice(0, 16)}`,
  );
  out.push('');
  out.push('委托 / 回报 (orders and returns)');
  out.push(row('已发委托', `${r.orders.sent}   (未收到主站应答 ${r.orders.unanswered})`));
  out.push(row('未发送记录', `${r.unsent.count}`));
  const f = r.orders.orderFile;
  out.push(
    row(
      '委托库 NQWT.DBF',
      f ? `${f.records} 笔: CLBZ 0=${f.clbz0}  1=${f.clbz1}  2=${f.clbz2}` : '无本日记录',
    ),
  );
  const ret = r.returns;
  out.push(
    row(
      '即时回报',
      `${ret.total}   确认 ${ret.accepted}  拒绝 ${ret.rejected}  成交 ${ret.filled}  撤单 ${ret.cancelled}  未知类别 ${ret.unknownKind}`,
    ),
  );
  out.push(row('回报序号', `${ret.lastSeq}`));
  out.push('');
  out.push('非法委托 / 拒绝 (rejections by kind)');
  out.push(row('网关检查', codes(r.rejections.gateway)));
  out.push(row('主站错单通知', codes(r.rejections.mainStation)));
  out.push(
    row(
      '主站拒绝回报',
      r.rejections.returnCodes.length === 0
        ? '无 (none)'
        : r.rejections.returnCodes.map((c) => `${c.code || '-'} ${c.words}×${c.count}`).join('; '),
    ),
  );
  for (const u of r.unsent.records.slice(0, 20))
    out.push(row(`  第 ${u.recNo} 笔`, `${u.unit || '-'} ${u.serial || '-'}  ${u.code}  ${u.reason}`));
  if (r.unsent.records.length > 20) out.push(row('', `… 共 ${r.unsent.count} 笔 (nqgw orders --unsent)`));
  out.push('');
  out.push('通信 (link)');
  const servers = Object.entries(r.link.byServer).map(([s, n]) => `${s} ×${n}`);
  out.push(row('登录', `${r.link.logons}   ${servers.join('; ')}`));
  out.push(row('切换服务器', `${r.link.switches.length}`));
  for (const s of r.link.switches) out.push(row('', `${cst(s.at)}  ${s.from} -> ${s.to}`));
  out.push(row('连接事件', codes(r.link.events)));
  out.push(row('操作员操作', `${r.link.operatorActions.length}`));
  for (const a of r.link.operatorActions)
    out.push(
      row(
        '',
        `${cst(a.time)}  ${a.operator}${a.checker ? ` / 复核 ${a.checker}` : ''}  ${a.action}  ${a.result}`,
      ),
    );
  out.push('');
  out.push('告警 (alerts)');
  out.push(row('产生 / 解除', `${r.alerts.raised} / ${r.alerts.cleared}`));
  for (const [code, a] of Object.entries(r.alerts.byCode).sort(([x], [y]) => x.localeCompare(y)))
    out.push(
      row('', `${padColumns(code, 22)}${padColumns(a.severity, 10)}产生 ${a.raised}  解除 ${a.cleared}`),
    );
  out.push(row('未解除', r.alerts.open.length === 0 ? '无' : r.alerts.open.join(', ')));
  out.push('');
  out.push('时钟 (clock)');
  out.push(
    row(
      '最大偏差',
      `${ms(r.clock.worstOffsetMs)}${r.clock.worstAt ? ` at ${cst(r.clock.worstAt)}` : ''}   (测量 ${r.clock.measurements} 次)`,
    ),
  );
  out.push(row('状态变化', codes(r.clock.stateChanges)));
  out.push('');
  out.push('日志上传 (log shipping)');
  const s = r.shipping.status;
  out.push(
    row(
      '状态',
      !r.shipping.configured
        ? '未配置对象存储 (off)'
        : s
          ? `${s.alarm}  已上传 ${s.objectsShipped}  待传 ${s.spoolBytes} B  失败 ${s.failures}${s.lastError ? ` (${s.lastError})` : ''}  丢行 ${s.linesDropped}`
          : '无状态文件',
    ),
  );
  out.push(
    row(
      '日终归档',
      r.shipping.archives.length === 0
        ? '无'
        : r.shipping.archives.map((a) => `${cst(a.createdAt)} ${a.files} 个文件 ${a.bytes} B`).join('; '),
    ),
  );
  out.push(row('上传事件', codes(r.shipping.events)));
  out.push('');
  out.push('Ekey / 软加密 (station key)');
  out.push(row('Ekey 事件', codes(r.ekey.events)));
  const soft = r.soft;
  out.push(
    row(
      '软加密',
      !soft
        ? '未使用'
        : soft.window
          ? `${soft.window.start}..${soft.window.end} 第 ${soft.window.dayIndex}/${soft.window.tradingDays} 个交易日, 剩余 ${soft.window.remaining}, 当日确认 ${soft.confirmedToday ? '是' : '否'}, 软加密登录 ${soft.softLogons}`
          : `无有效窗口, 软加密登录 ${soft.softLogons}`,
    ),
  );
  out.push('');
  const missing = r.sources
    .filter((x) => !x.found)
    .map((x) => (x.note?.startsWith('unreadable') ? `${x.name} (${x.note})` : x.name));
  out.push(`数据来源 (sources): ${r.sources.map((x) => `${x.name}${x.found ? '' : ' (缺)'}`).join(', ')}`);
  if (missing.length > 0) out.push(`缺少 (missing): ${missing.join(', ')}: 相应数字为 0 或空`);
  return `${out.join('\n')}\n`;
}
