import { crc32 } from '../shared/index.js';
import type { OrderBody } from '../link/index.js';
import { JournalCorruptError } from './journal-errors.js';

/**
 * What a journal holds, and how its records are read back: the same for every journal
 * (journal.ts), whatever keeps the records. On disk (journal-file.ts) one record is one line,
 * `<crc32 hex>\t<json>\n`; the checksum tells a torn last line (cut by a crash: dropped) from
 * damage in the middle (loud error: a journal that lies is worse than a stopped gateway).
 */
export type JournalEntry =
  /** An order taken from NQWT.DBF, to be sent. */
  | { k: 'o'; key: string; recNo: number; order: OrderBody }
  /** Orders the main station answered (taken or duplicate): nothing more to do for them. */
  | { k: 'a'; keys: string[] }
  /** A record refused by the gateway's own checks (CLBZ set to '2'). `text`: the words logged. */
  | { k: 'r'; key: string; recNo: number; code: string; text?: string }
  /**
   * A record that is not an order (a field that is not a value, a bad deletion flag, a blank
   * record never filled in), in a file whose geometry is sound: CLBZ set to '2', not sent.
   */
  | { k: 'u'; key: string; recNo: number; code: string; text: string }
  /** A record passed over after its invalid CLBZ stayed invalid past the retry (CLBZ left as is). */
  | { k: 'x'; recNo: number; key?: string; code?: string; text?: string }
  /** Every NQWT record before `next` is decided: a restart reads on from here. */
  | { k: 'm'; next: number };

export interface Decision {
  key: string;
  outcome: 'sent' | 'refused';
  /** Why it was refused: a record refused again for the same reason is not counted twice. */
  code?: string;
}

/** A record of NQWT.DBF the gateway did not send (`nqgw orders --unsent`, 未发送). */
export interface UnsentInfo {
  code: string;
  text: string;
  unit: string;
  serial: string;
}

/** What the journal says at start-up. */
export interface JournalReplay {
  /** Orders journaled but not answered, by NQWT record number. */
  pending: Map<number, { key: string; order: OrderBody }>;
  /**
   * NQWT records already decided (sent or refused), with the order's key: a restart must not
   * decide them again. The key guards against a replaced file whose record N is another order.
   */
  decided: Map<number, Decision>;
  /** First NQWT record number not yet decided. */
  resumeRecNo: number;
  entries: number;
  /** Orders journaled today (已发委托 after a restart) and records refused or passed over. */
  ordered: number;
  refused: number;
  /** Records not sent, by record number: refused, not an order, or an invalid CLBZ passed over. */
  unsent: Map<number, UnsentInfo>;
}

export function orderKey(unit: string, serial: string): string {
  return `${unit}|${serial}`;
}

function splitKey(key: string | undefined): { unit: string; serial: string } {
  const bar = key?.indexOf('|') ?? -1;
  return bar < 0 || !key ? { unit: '', serial: '' } : { unit: key.slice(0, bar), serial: key.slice(bar + 1) };
}

export function emptyReplay(): JournalReplay {
  return {
    pending: new Map(),
    decided: new Map(),
    resumeRecNo: 1,
    entries: 0,
    ordered: 0,
    refused: 0,
    unsent: new Map(),
  };
}

export function encodeLine(entry: JournalEntry): string {
  const json = JSON.stringify(entry);
  return `${crc32(json).toString(16).padStart(8, '0')}\t${json}\n`;
}

/** Decodes one journal line; null for a torn or damaged one. */
function decodeLine(line: string): JournalEntry | null {
  const tab = line.indexOf('\t');
  if (tab !== 8) return null;
  const json = line.slice(9);
  if (crc32(json).toString(16).padStart(8, '0') !== line.slice(0, 8)) return null;
  try {
    return JSON.parse(json) as JournalEntry;
  } catch {
    return null;
  }
}

/**
 * Replays journal text into `replay`; returns the bytes of whole, good lines. A bad line is
 * forgiven only at the very end (where a crash cuts); elsewhere it is JournalCorruptError.
 */
export function replayText(
  file: string,
  text: string,
  replay: JournalReplay,
  matcher: AnswerMatcher,
): number {
  let goodBytes = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const isLast = i === lines.length - 1;
    if (isLast && line === '') break;
    const entry = decodeLine(line);
    if (!entry) {
      if (isLast || (i === lines.length - 2 && lines[i + 1] === '')) break;
      throw new JournalCorruptError(file, i + 1);
    }
    if (isLast) break; // complete JSON but no newline: the crash came before the sync; drop it
    applyEntry(replay, entry, matcher);
    goodBytes += Buffer.byteLength(line, 'utf8') + 1;
  }
  return goodBytes;
}

/**
 * Answers name an order by unit and serial number only. A broker may repeat a serial number (the
 * main station then rejects the second), so answers are matched to orders first-sent,
 * first-answered: the main station answers in the order it receives.
 */
export class AnswerMatcher {
  private readonly byKey = new Map<string, number[]>();

  sent(key: string, recNo: number): void {
    const list = this.byKey.get(key);
    if (list) list.push(recNo);
    else this.byKey.set(key, [recNo]);
  }

  /** The record an answer for `key` belongs to, or undefined for an answer we were not waiting for. */
  answered(key: string): number | undefined {
    const list = this.byKey.get(key);
    const recNo = list?.shift();
    if (list && list.length === 0) this.byKey.delete(key);
    return recNo;
  }
}

export function applyEntry(replay: JournalReplay, entry: JournalEntry, matcher: AnswerMatcher): void {
  replay.entries++;
  switch (entry.k) {
    case 'o': {
      const earlier = replay.decided.get(entry.recNo);
      // Counted unless it is the same order again (a refused record corrected and sent counts).
      if (!(earlier?.outcome === 'sent' && earlier.key === entry.key)) replay.ordered++;
      replay.decided.set(entry.recNo, { key: entry.key, outcome: 'sent' });
      replay.unsent.delete(entry.recNo);
      replay.pending.set(entry.recNo, { key: entry.key, order: entry.order });
      matcher.sent(entry.key, entry.recNo);
      break;
    }
    case 'a':
      for (const key of entry.keys) {
        const recNo = matcher.answered(key);
        if (recNo !== undefined) replay.pending.delete(recNo);
      }
      break;
    case 'r':
    case 'u':
      replay.decided.set(entry.recNo, { key: entry.key, outcome: 'refused', code: entry.code });
      replay.refused++;
      replay.unsent.set(entry.recNo, { code: entry.code, text: entry.text ?? '', ...splitKey(entry.key) });
      break;
    case 'x':
      replay.refused++;
      replay.unsent.set(entry.recNo, {
        code: entry.code ?? 'NQ404',
        text: entry.text ?? '',
        ...splitKey(entry.key),
      });
      break;
    case 'm':
      replay.resumeRecNo = Math.max(replay.resumeRecNo, entry.next);
      break;
  }
}
