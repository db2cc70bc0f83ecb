import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError, findUp } from '../shared/index.js';
import { dayNumber, isWeekend, yearOf } from './dates.js';
import { CalendarDataError } from './errors.js';

/**
 * One year of the exchange's closures, as shipped in appliance/data/calendar/YYYY.json or written
 * by an operator into their calendar directory (same format):
 *
 *   {
 *     "year": 2025,
 *     "source": "where the dates come from (the exchanges' notice, the State Council's notice)",
 *     "closures": [ { "from": "2025-01-28", "to": "2025-02-04", "name": "春节" }, ... ],
 *     "adjustedWorkingWeekends": [ "2025-01-26", "2025-02-08", ... ]
 *   }
 *
 * `closures` are the days the market is shut besides ordinary weekends (ranges may include
 * weekend days). `adjustedWorkingWeekends` (调休上班日) are the Saturdays and Sundays that are
 * working days for everyone else: the exchanges do NOT trade on them. They are listed so that the
 * file says so explicitly and a reader is not tempted to count them; they must be weekend days.
 */
export interface YearFile {
  year: number;
  source: string;
  closures: { from: string; to: string; name: string }[];
  adjustedWorkingWeekends: string[];
}

/** A checked year: the set of closed weekdays plus where it came from. */
export interface YearData {
  year: number;
  source: string;
  /** Path of the file it was read from. */
  file: string;
  origin: 'shipped' | 'operator';
  /** Every date (YYYY-MM-DD) listed as closed, weekend days included. */
  closed: ReadonlySet<string>;
  /** Holiday name of each closed date. */
  names: ReadonlyMap<string, string>;
  adjustedWorkingWeekends: ReadonlySet<string>;
}

const FILE_RE = /^(\d{4})\.json$/;

/** Check one year file's content; throws CalendarDataError naming the first problem. */
export function parseYearFile(text: string, file: string, origin: YearData['origin']): YearData {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CalendarDataError(file, `not JSON (${(err as Error).message})`);
  }
  const bad = (problem: string): never => {
    throw new CalendarDataError(file, problem);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('expected a JSON object');
  const obj = raw as Record<string, unknown>;
  const year = obj['year'];
  if (typeof year !== 'number' || !Number.isInteger(year) || year < 1990 || year > 2100) {
    bad('"year" must be a whole number between 1990 and 2100');
  }
  const y = year as number;
  const m = FILE_RE.exec(file.split(/[\\/]/).pop() ?? '');
  if (m && Number(m[1]) !== y) bad(`file name says ${m[1]} but "year" is ${y}`);
  const source = obj['source'];
  if (typeof source !== 'string' || source.trim() === '') bad('"source" must say where the dates come from');
  const inYear = (what: string, value: unknown): string => {
    if (typeof value !== 'string' || dayNumber(value) === null)
      return bad(`${what}: '${String(value)}' is not a YYYY-MM-DD date`);
    if (yearOf(value) !== y) return bad(`${what}: ${value} is not in ${y}`);
    return value;
  };

  const closed = new Set<string>();
  const names = new Map<string, string>();
  const closures = obj['closures'];
  if (!Array.isArray(closures)) bad('"closures" must be a list');
  for (const [i, c] of (closures as unknown[]).entries()) {
    if (typeof c !== 'object' || c === null) bad(`closures[${i}] must be an object`);
    const rec = c as Record<string, unknown>;
    const from = inYear(`closures[${i}].from`, rec['from']);
    const to = inYear(`closures[${i}].to`, rec['to'] ?? rec['from']);
    const name =
      typeof rec['name'] === 'string' && rec['name'].trim() !== ''
        ? rec['name']
        : bad(`closures[${i}].name is missing`);
    const a = dayNumber(from) as number;
    const b = dayNumber(to) as number;
    if (b < a) bad(`closures[${i}]: 'to' ${to} is before 'from' ${from}`);
    if (b - a > 20) bad(`closures[${i}]: ${b - a + 1} days is longer than any exchange holiday`);
    for (let d = a; d <= b; d++) {
      const iso = new Date(d * 86_400_000).toISOString().slice(0, 10);
      closed.add(iso);
      names.set(iso, name);
    }
  }
  const working = new Set<string>();
  const adjusted = obj['adjustedWorkingWeekends'] ?? [];
  if (!Array.isArray(adjusted)) bad('"adjustedWorkingWeekends" must be a list');
  for (const [i, v] of (adjusted as unknown[]).entries()) {
    const iso = inYear(`adjustedWorkingWeekends[${i}]`, v);
    if (!isWeekend(iso)) bad(`adjustedWorkingWeekends[${i}]: ${iso} is not a Saturday or Sunday`);
    if (closed.has(iso)) bad(`${iso} is both closed and an adjusted working day`);
    working.add(iso);
  }
  return { year: y, source: source as string, file, origin, closed, names, adjustedWorkingWeekends: working };
}

/** Read every YYYY.json in a directory. A file that does not check out is an error, not skipped. */
export function readYearDir(dir: string, origin: YearData['origin']): YearData[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && origin === 'operator') return [];
    throw new CalendarDataError(dir, `cannot read the directory (${(err as Error).message})`);
  }
  return names
    .filter((n) => FILE_RE.test(n))
    .sort()
    .map((n) => {
      const file = join(dir, n);
      return parseYearFile(readFileSync(file, 'utf8'), file, origin);
    });
}

/** appliance/data/calendar, found from this module (source or dist) or $NQGW_CALENDAR_DATA_DIR. */
export function shippedCalendarDir(): string {
  const fromEnv = process.env['NQGW_CALENDAR_DATA_DIR'];
  if (fromEnv) return fromEnv;
  const found = findUp(dirname(fileURLToPath(import.meta.url)), join('appliance', 'data', 'calendar'), 'dir');
  if (found !== null) return found;
  throw new AppError(
    'NQ154',
    'cannot find the directory appliance/data/calendar',
    'set NQGW_CALENDAR_DATA_DIR',
  );
}
