import type { Command } from 'commander';
import { AppError } from '../shared/index.js';
import { loadConfig } from '../config/index.js';
import { cstIsoDate, loadTradingCalendar, type DayInfo, type TradingCalendar } from '../calendar/index.js';
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
  calendar
    .command('today')
    .description(
      'is today (CST) a trading day? exit 0 yes, 1 no (weekend, holiday, adjusted working weekend), 3 no data for the year, 2 bad arguments',
    )
    .option('--calendar-dir <dir>', 'operator calendar files (YYYY.json), overriding shipped years')
    .option('--config <file>', 'tw.ini: take the operator calendar directory from [soft] calendar_dir')
    .option('--json', 'print the day as JSON')
    .option(
      '--exec-condition',
      'for systemd ExecCondition=: exit 255 (unit failed) instead of 2 or 3, which systemd would take as a quiet skip',
    )
    // commander's own usage errors exit 1, which here means "not a trading day" and, under
    // ExecCondition=, a silent skip. Bad arguments must read as bad arguments.
    .exitOverride((err) => {
      if (err.exitCode === 0) process.exit(0); // --help
      process.exit(process.argv.includes('--exec-condition') ? EXEC_CONDITION_FAIL : EXIT.BAD_INPUT);
    })
    .action((opts: CalendarTodayOptions) => {
      process.exitCode = runCalendarToday(opts);
    });
}

/**
 * `nqgw calendar today [--calendar-dir DIR | --config F] [--json] [--exec-condition]`: whether
 * today, the exchange's (CST) date, is a trading day. Made for nqgw-daily.service, which starts
 * the active replica's gateway each trading morning.
 */
export interface CalendarTodayOptions {
  calendarDir?: string;
  config?: string;
  json?: boolean;
  /** Map every outcome but 0 and 1 to 255 (see EXEC_CONDITION_FAIL). */
  execCondition?: boolean;
}

/** Exit of `calendar today` for a day that does not trade. */
export const NOT_TRADING = 1;

/**
 * systemd's ExecCondition= skips the unit quietly on exit 1..254 and fails it only on 255 or a
 * crash. "No calendar data for this year" (3) or a broken tw.ini (2) must not look like a
 * holiday: the gateway would silently stay down on a trading day. Under --exec-condition they
 * become 255, so nqgw-daily.service fails and shows in `systemctl --failed` and the alarms.
 */
export const EXEC_CONDITION_FAIL = 255;

/**
 * The day's verdict at instant `now` (ms). Separate from the commander action so the tests give
 * the date instead of waiting for a weekend.
 */
export function runCalendarToday(
  opts: CalendarTodayOptions,
  io: CliIo = stdio,
  now: number = Date.now(),
): number {
  const failExit = (code: number): number => (opts.execCondition ? EXEC_CONDITION_FAIL : code);
  const today = cstIsoDate(now);
  let day: DayInfo;
  try {
    day = openCalendar(opts).describeDay(today);
  } catch (err) {
    if (!(err instanceof AppError)) {
      // Under ExecCondition= an uncaught exception would exit 1 (= not a trading day): say it
      // here and fail instead.
      if (!opts.execCondition) throw err;
      io.err(`nqgw calendar today: ${(err as Error)?.stack ?? String(err)}`);
      return EXEC_CONDITION_FAIL;
    }
    io.err(`[${err.code}] ${err.message}`);
    if (err.hint) io.err(`  -> ${err.hint}`);
    return failExit(calendarExit(err));
  }
  const trading = day.kind === 'trading';
  if (opts.json) {
    io.out(JSON.stringify({ ...day, trading }, null, 2));
  } else if (trading) {
    io.out(`${today} is a trading day`);
  } else {
    const why = day.kind === 'holiday' ? `holiday ${day.name ?? ''}`.trim() : day.kind;
    io.out(`${today} is not a trading day (${why})`);
  }
  return trading ? EXIT.OK : NOT_TRADING;
}

/** The calendar with the operator's directory: --calendar-dir, else tw.ini [soft] calendar_dir. */
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
