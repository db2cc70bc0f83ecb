import { promises as fsp, mkdirSync } from 'node:fs';
import path from 'node:path';
import { cstDate, systemClock, type Clock } from '../shared/index.js';

/**
 * The day record: what the daily report needs and nothing else kept: alerts raised and cleared
 * (the operator log says a raise in the vendor's words but not every clear) and each clock
 * measurement's offset (the log says only the watchdog's state changes, so the day's worst offset
 * would be lost). One JSON object a line in state_dir/report/YYYYMMDD.jsonl (CST day of the
 * event), appended off the caller's path: the writes are chained, one at a time, in order, and a
 * failing disk is said once (onError) and costs only these lines, never the order path.
 */
export type DayRecordLine =
  | { t: string; k: 'alert'; event: 'raised' | 'cleared'; code: string; severity: string; words: string }
  | { t: string; k: 'clock'; offsetMs: number; state: string };

export const RECORD_DIR = 'report';

export function recordFileFor(stateDir: string, date: string): string {
  return path.join(stateDir, RECORD_DIR, `${date}.jsonl`);
}

export interface DayRecorderOptions {
  stateDir: string;
  clock?: Clock;
  /** The first failure of a run of failures (said once; the next success re-arms it). */
  onError?: (err: Error) => void;
}

export class DayRecorder {
  private chain: Promise<void> = Promise.resolve();
  private failing = false;
  private lastOffset: number | null = null;
  private readonly clock: Clock;

  constructor(private readonly options: DayRecorderOptions) {
    this.clock = options.clock ?? systemClock;
    mkdirSync(path.join(options.stateDir, RECORD_DIR), { recursive: true, mode: 0o750 });
  }

  alert(event: 'raised' | 'cleared', a: { code: string; severity: string; words: string }): void {
    const now = this.clock.now();
    this.append(now, {
      t: new Date(now).toISOString(),
      k: 'alert',
      event,
      code: a.code,
      severity: a.severity,
      words: a.words,
    });
  }

  /**
   * A status snapshot's clock: recorded when the offset differs from the last one recorded (each
   * watchdog round measures anew; the many snapshots between two rounds repeat its value).
   */
  clockSeen(clock: { state: string; offsetMs: number | null } | null): void {
    if (!clock || clock.offsetMs === null || clock.offsetMs === this.lastOffset) return;
    this.lastOffset = clock.offsetMs;
    const now = this.clock.now();
    this.append(now, {
      t: new Date(now).toISOString(),
      k: 'clock',
      offsetMs: clock.offsetMs,
      state: clock.state,
    });
  }

  /** Resolves when every line given so far is written (or failed). */
  flush(): Promise<void> {
    return this.chain;
  }

  private append(now: number, line: DayRecordLine): void {
    const file = recordFileFor(this.options.stateDir, cstDate(now));
    const text = `${JSON.stringify(line)}\n`;
    this.chain = this.chain.then(async () => {
      try {
        await fsp.appendFile(file, text, { mode: 0o640 });
        this.failing = false;
      } catch (err) {
        if (!this.failing) this.options.onError?.(err as Error);
        this.failing = true;
      }
    });
  }
}

/** The lines of one day's record; a torn last line (a crash mid-write) is left out. */
export async function readDayRecord(stateDir: string, date: string): Promise<DayRecordLine[] | null> {
  let text: string;
  try {
    text = await fsp.readFile(recordFileFor(stateDir, date), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const out: DayRecordLine[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as DayRecordLine);
    } catch {
      // a torn line: only the last can be, and it was never a whole record
    }
  }
  return out;
}
