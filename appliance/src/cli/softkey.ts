import type { Command } from 'commander';
import { AppError, type Clock, systemClock } from '../shared/index.js';
import { loadConfig, type TwConfig } from '../config/index.js';
import { SoftEncryption, type SoftStatus } from '../ekey/index.js';
import { approvalFields, checkApproval, cliSource, writeAudit, type Approval } from '../cutover/index.js';
import { EXIT } from './output.js';
import type { CliIo } from './calendar.js';
import { registerSoftkeyMaterialCommands } from './softkey-material.js';

/**
 * `nqgw softkey apply|confirm-today|status|close`: the soft-encryption (软加密) ledger.
 * Exit codes: 0 done; 1 (status) soft mode open but not usable today, or near its end;
 * 2 bad arguments or configuration; 3 the rules refuse (10 trading days, no window, not
 * confirmed, unknown calendar year).
 */
export interface SoftkeyDeps {
  io?: CliIo;
  clock?: Clock;
}

const stdio: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

const REFUSAL_CODES = new Set([
  'NQ151',
  'NQ161',
  'NQ162',
  'NQ163',
  'NQ164',
  'NQ165',
  'NQ166',
  'NQ167',
  'NQ168',
  'NQ620', // approval: no approver while require_checker = yes
  'NQ621', // approval: the approver is the operator
]);

function exitFor(err: AppError): number {
  return REFUSAL_CODES.has(err.code) ? EXIT.REFUSED : EXIT.BAD_INPUT;
}

function guarded(io: CliIo, fn: () => number): number {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    io.err(`[${err.code}] ${err.message}`);
    if (err.hint) io.err(`  -> ${err.hint}`);
    const problems = (err as { problems?: { file: string; line: number | null; message: string }[] })
      .problems;
    if (Array.isArray(problems)) {
      for (const p of problems) io.err(`  ${p.file}${p.line ? `:${p.line}` : ''} ${p.message}`);
    }
    return exitFor(err);
  }
}

function open(config: string, clock: Clock): SoftEncryption {
  return SoftEncryption.fromConfig(loadConfig(config), clock);
}

/**
 * apply, confirm-today and close are duty actions (issue 13): approved when tw.ini requires it
 * (`require_checker = yes`: an approver other than the operator) and written to the audit log
 * (state_dir/audit.log) with their outcome, refusals included. The soft ledger keeps its own record.
 */
function audited(
  io: CliIo,
  action: string,
  opts: { config: string; operator: string; approver?: string },
  args: Record<string, unknown>,
  fn: (config: TwConfig, approval: Approval) => string,
): number {
  let config: TwConfig | null = null;
  let approval: Approval | undefined;
  const record = (result: 'ok' | 'refused' | 'failed', detail: string): void => {
    if (config === null) return;
    try {
      writeAudit(config.files.stateDir, {
        time: new Date().toISOString(),
        ...(approval
          ? approvalFields(approval)
          : {
              operator: opts.operator,
              ...(opts.approver?.trim() ? { approver: opts.approver.trim() } : {}),
            }),
        source: cliSource(),
        action,
        args,
        result,
        detail,
      });
    } catch (err) {
      io.err(`[NQ622] ${(err as Error).message}`);
    }
  };
  const code = guarded(io, () => {
    config = loadConfig(opts.config);
    try {
      approval = checkApproval(config.management.requireChecker, opts.operator, opts.approver);
      record('ok', fn(config, approval));
    } catch (err) {
      const refused = err instanceof AppError && REFUSAL_CODES.has(err.code);
      record(
        refused ? 'refused' : 'failed',
        `${err instanceof AppError ? `[${err.code}] ` : ''}${(err as Error).message}`,
      );
      throw err;
    }
    return EXIT.OK;
  });
  return code;
}

export interface SoftApplyOptions {
  config: string;
  start: string;
  end: string;
  reason: string;
  operator: string;
  /** Who approved (批准人); required by `require_checker = yes`. */
  approver?: string;
}

export function runSoftApply(opts: SoftApplyOptions, deps: SoftkeyDeps = {}): number {
  const io = deps.io ?? stdio;
  const args = { start: opts.start, end: opts.end, reason: opts.reason };
  return audited(io, 'softkey-apply', opts, args, (config) => {
    const w = SoftEncryption.fromConfig(config, deps.clock ?? systemClock).apply({
      start: opts.start,
      end: opts.end,
      reason: opts.reason,
      operator: opts.operator,
    });
    io.out(
      `软加密申请 #${w.id} 已记录: ${w.start} 至 ${w.end}, ${w.tradingDays} 个交易日, 原因: ${w.reason}, 操作员: ${w.operator}`,
    );
    io.out(
      '每个交易日须向深证通申请当天开通, 然后执行: nqgw softkey confirm-today --config F --operator NAME',
    );
    return `soft-encryption application #${w.id} ${w.start}..${w.end} (${w.tradingDays} trading days)`;
  });
}

export function runSoftConfirm(
  opts: { config: string; operator: string; approver?: string },
  deps: SoftkeyDeps = {},
): number {
  const io = deps.io ?? stdio;
  return audited(io, 'softkey-confirm-today', opts, {}, (config) => {
    const soft = SoftEncryption.fromConfig(config, deps.clock ?? systemClock);
    const r = soft.confirmToday(opts.operator);
    const today = soft.today();
    const by = r.window.confirmations.get(today);
    io.out(
      r.already
        ? `今天 ${today} 已确认 (${by?.operator ?? '?'}), 软加密申请 #${r.window.id} 第 ${r.day.dayIndex} 个交易日`
        : `今天 ${today} 已确认向深证通申请开通软加密: 申请 #${r.window.id} 第 ${r.day.dayIndex} 个交易日, 剩余 ${r.day.remaining} 个交易日`,
    );
    return `${today} confirmed for application #${r.window.id}${r.already ? ' (already)' : ''}`;
  });
}

export function runSoftClose(
  opts: { config: string; operator: string; approver?: string },
  deps: SoftkeyDeps = {},
): number {
  const io = deps.io ?? stdio;
  if (opts.operator.trim() === '') {
    return guarded(io, () => {
      throw new AppError('NQ169', '--operator: say who you are');
    });
  }
  return audited(io, 'softkey-close', opts, {}, (config) => {
    const w = SoftEncryption.fromConfig(config, deps.clock ?? systemClock).close(opts.operator);
    io.out(`软加密申请 #${w.id} (${w.start} 至 ${w.end}) 已关闭, 操作员: ${opts.operator}`);
    io.out('如需提前恢复证书认证, 请联系深证通修改本流程截止时间.');
    return `soft-encryption application #${w.id} closed`;
  });
}

export function runSoftStatus(opts: { config: string; json?: boolean }, deps: SoftkeyDeps = {}): number {
  const io = deps.io ?? stdio;
  return guarded(io, () => {
    const s = open(opts.config, deps.clock ?? systemClock).status();
    if (opts.json) io.out(JSON.stringify(s, null, 2));
    else for (const line of formatSoftStatus(s)) io.out(line);
    if (s.window && s.todayTrading === true && s.window.start <= s.today && !s.allowedToday)
      return EXIT.DEGRADED;
    if (s.alarm) return EXIT.DEGRADED;
    return EXIT.OK;
  });
}

export function formatSoftStatus(s: SoftStatus): string[] {
  const kind = s.todayTrading === null ? '交易日历无数据' : s.todayTrading ? '交易日' : '非交易日';
  const lines = [`今天: ${s.today} (${kind})`];
  if (!s.window) {
    lines.push('软加密: 无有效申请 (使用Ekey)');
  } else {
    const w = s.window;
    lines.push(
      `软加密申请 #${w.id}: ${w.start} 至 ${w.end}, ${w.tradingDays} 个交易日, 最后交易日 ${w.lastTradingDay ?? '-'}`,
    );
    lines.push(`  原因: ${w.reason}; 申请人: ${w.operator}; 记录于 ${w.appliedAt}`);
    lines.push(
      `  今天: ${w.dayIndex > 0 ? `第 ${w.dayIndex} 个交易日, 剩余 ${w.remaining} 个` : '不在有效交易日内'}; ` +
        `当天确认: ${w.confirmedToday ? `${w.confirmedToday.operator} ${w.confirmedToday.at}` : '未确认'}`,
    );
  }
  lines.push(`今天可用软加密登录: ${s.allowedToday ? '是' : '否'}`);
  if (s.refusal && s.window) lines.push(`  [${s.refusal.code}] ${s.refusal.message}`);
  if (s.alarm) lines.push(`告警: ${s.alarm}`);
  if (s.tornTail) lines.push(`注意: 台账 ${s.ledger} 末行不完整 (写入被中断), 已忽略`);
  return lines;
}

export function registerSoftkeyCommands(program: Command): void {
  const softkey = program
    .command('softkey')
    .description('soft encryption (软加密): applications, daily confirmations, status, certificate material');
  softkey
    .command('apply')
    .description('record an application to 深证通 (at most 10 trading days)')
    .requiredOption('--config <file>', 'tw.ini')
    .requiredOption('--start <date>', 'first day, YYYY-MM-DD (CST)')
    .requiredOption('--end <date>', 'last day, YYYY-MM-DD (CST)')
    .requiredOption('--reason <text>', '申请软加密的原因')
    .requiredOption('--operator <name>', 'who records it')
    .option('--approver <name>', 'who approved it (required with require_checker = yes)')
    .action((opts: SoftApplyOptions) => {
      process.exitCode = runSoftApply(opts);
    });
  softkey
    .command('confirm-today')
    .description("confirm that today's soft-encryption application to 深证通 was made")
    .requiredOption('--config <file>', 'tw.ini')
    .requiredOption('--operator <name>', 'who confirms')
    .option('--approver <name>', 'who approved it (required with require_checker = yes)')
    .action((opts: { config: string; operator: string; approver?: string }) => {
      process.exitCode = runSoftConfirm(opts);
    });
  softkey
    .command('status')
    .description('the soft-encryption window, today\u2019s confirmation and whether soft logon is allowed')
    .requiredOption('--config <file>', 'tw.ini')
    .option('--json', 'print as JSON')
    .action((opts: { config: string; json?: boolean }) => {
      process.exitCode = runSoftStatus(opts);
    });
  softkey
    .command('close')
    .description('close the soft-encryption window (back to the EKey)')
    .requiredOption('--config <file>', 'tw.ini')
    .requiredOption('--operator <name>', 'who closes it')
    .option('--approver <name>', 'who approved it (required with require_checker = yes)')
    .action((opts: { config: string; operator: string; approver?: string }) => {
      process.exitCode = runSoftClose(opts);
    });
  registerSoftkeyMaterialCommands(softkey); // csr, pkcs12: the certificate material (own file)
}
