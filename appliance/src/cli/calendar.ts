import type { Command } from 'commander';
import { AppError } from '../shared/index.js';
import { loadConfig } from '../config/index.js';
import { loadTradingCalendar, type TradingCalendar } from '../calendar/index.js';
import { softSettingsFromConfig } from '../ekey/index.js';
import { EXIT } from './output.js';

/**
 * `nqgw calendar count --from YYYY-MM-DD --to YYYY-MM-DD [--calendar-dir DIR | --config F] [--json]`:
 * the number of trading days in the closed range, on the shipped closure data plus the operator's
 * files (--calendar-dir, or tw.ini [soft] calendar_dir, default <state_dir>/calendar).
 * Exit 0 with the count; 2 bad dates or bad data; 3 a year in the range has no data (refused).
 */
export interface CalendarCountOptions {
  from: string;
  to: string;
  calendarDir?: string;
  config?: string;
  json?: boolean;
}

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const stdio: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

export function registerCalendarCommands(program: Command): void {
  const calendar = program.command('calendar').description('the exchanges\u2019 trading calendar (休市安排)');
  calendar
    .command('count')
    .description('number of trading days from --from to --to, both included (exit 3 when a year has no data)')
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD')
    .requiredOption('--to <date>', 'last day, YYYY-MM-DD')
    .option('--calendar-dir <dir>', 'operator calendar files (YYYY.json), overriding shipped years')
    .option('--config <file>', 'tw.ini: take the operator calendar directory from [soft] calendar_dir')
    .option('--json', 'print the result as JSON')
    .action((opts: CalendarCountOptions) => {
      process.exitCode = runCalendarCount(opts);
    });
}

function openCalendar(opts: { calendarDir?: string; config?: string }): TradingCalendar {
  let operatorDir: string | null = opts.calendarDir ?? null;
  if (operatorDir === null && opts.config !== undefined) {
    operatorDir = softSettingsFromConfig(loadConfig(opts.config)).calendarDir;
  }
  return loadTradingCalendar({ operatorDir });
}

/** Exit code of an AppError from the calendar: refusal for an unknown year, else bad input. */
export function calendarExit(err: AppError): number {
  return err.code === 'NQ151' ? EXIT.REFUSED : EXIT.BAD_INPUT;
}

export function runCalendarCount(opts: CalendarCountOptions, io: CliIo = stdio): number {
  try {
    const cal = openCalendar(opts);
    const days = cal.tradingDaysBetween(opts.from, opts.to);
    if (opts.json) {
      io.out(
        JSON.stringify(
          { from: opts.from, to: opts.to, tradingDays: days.length, days, knownYears: cal.knownYears() },
          null,
          2,
        ),
      );
    } else {
      io.out(String(days.length));
    }
    return EXIT.OK;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    io.err(`[${err.code}] ${err.message}`);
    if (err.hint) io.err(`  -> ${err.hint}`);
    return calendarExit(err);
  }
}
