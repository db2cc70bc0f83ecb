import type { Command } from 'commander';
import { peekOrderRecords } from '../dbf/index.js';
import { journalFileFor, readJournal } from '../gateway/index.js';
import { cstDate } from '../shared/index.js';
import { EXIT } from './output.js';
import { loadCliConfig, UsageError } from './usage.js';

/** One line of `nqgw orders --unsent`. */
export interface UnsentLine {
  recNo: number;
  unit: string;
  serial: string;
  code: string;
  reason: string;
  /** CLBZ in NQWT.DBF now ('2' refused; '0' again once the broker corrected it). */
  clbz: string;
}

/** `nqgw orders` called wrongly: exit 2 through main.ts's handler (code NQ523, kept for scripts). */
class OrdersUsageError extends UsageError {
  constructor(text: string) {
    super('NQ523', text, 'Usage: nqgw orders --unsent [--config tw.ini] [--date YYYYMMDD] [--json]');
  }
}

/**
 * The records of a day's NQWT.DBF the gateway did not send: from the day's journal (what was
 * decided and why) and NQWT.DBF opened read-only (unit, serial, CLBZ as they stand). Files only,
 * so it answers whether the gateway runs or not.
 */
export async function listUnsent(stateDir: string, ordersFile: string, date: string): Promise<UnsentLine[]> {
  const replay = await readJournal(journalFileFor(stateDir, date));
  const recNos = [...replay.unsent.keys()].sort((a, b) => a - b);
  const peeked = recNos.length === 0 ? [] : await peekOrderRecords(ordersFile, recNos).catch(() => null);
  return recNos.map((recNo, i) => {
    const info = replay.unsent.get(recNo)!;
    const now = peeked?.[i];
    return {
      recNo,
      unit: info.unit || now?.unit || '',
      serial: info.serial || now?.serial || '',
      code: info.code,
      reason: info.text,
      clbz: now?.clbz ?? '?',
    };
  });
}

function render(date: string, lines: UnsentLine[]): string {
  if (lines.length === 0) return `${date} 没有未发送的委托 (no unsent records)\n`;
  const out = [`${date} 未发送 ${lines.length} 笔 (记录号 交易单元 流水号 处理标志 代码 原因):`];
  for (const l of lines)
    out.push(
      `第 ${l.recNo} 笔  ${l.unit || '-'}  ${l.serial || '-'}  CLBZ=${l.clbz || '-'}  ${l.code}  ${l.reason}`,
    );
  return `${out.join('\n')}\n`;
}

export function registerOrdersCommand(program: Command): void {
  program
    .command('orders')
    .description("list the day's NQWT.DBF records the gateway did not send (exit 0; 2 bad input)")
    .requiredOption('--config <file>', 'tw.ini')
    .option('--unsent', 'the records not sent, with record number, unit, serial, reason code and words')
    .option('--date <yyyymmdd>', 'trading day (CST), default today')
    .option('--json', 'machine-readable output')
    .action(async (opts: { config: string; unsent?: boolean; date?: string; json?: boolean }) => {
      // Failures go to main.ts's one handler: a wrong call or tw.ini exits 2, said once.
      if (!opts.unsent) throw new OrdersUsageError('nqgw orders needs --unsent (the only listing there is)');
      if (opts.date !== undefined && !/^\d{8}$/.test(opts.date))
        throw new OrdersUsageError(`--date ${opts.date}: expected YYYYMMDD`);
      const config = loadCliConfig(opts.config);
      const date = opts.date ?? cstDate(Date.now());
      const lines = await listUnsent(config.files.stateDir, config.files.orders, date);
      if (opts.json)
        process.stdout.write(`${JSON.stringify({ date, count: lines.length, records: lines })}\n`);
      else process.stdout.write(render(date, lines));
      process.exitCode = EXIT.OK;
    });
}
