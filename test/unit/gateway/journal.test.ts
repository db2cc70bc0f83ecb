import { describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AnswerMatcher,
  FileJournal,
  JournalCorruptError,
  orderKey,
} from '../../../appliance/src/gateway/journal.js';
import type { OrderBody } from '../../../appliance/src/link/messages.js';

const order = (lsh: string, recNo: number): OrderBody => ({
  JYDY: '729900',
  WTRQ: '20261121',
  WTSJ: '093000',
  LSH: lsh,
  GDDM: '0800000001',
  ZQDM: '830001',
  YWLB: '0B',
  WTJG: 10.5,
  WTSL: 100,
  DFXW: '',
  DFGD: '',
  YDH: '',
  CDLSH: '',
  BZ: '',
  recNo,
});

function tempFile(): string {
  return path.join(mkdtempSync(path.join(os.tmpdir(), 'nqgw-jnl-')), 'day.jnl');
}

async function writeDay(file: string): Promise<void> {
  const j = new FileJournal(file);
  await j.open(new AnswerMatcher());
  await j.append(
    [
      { k: 'o', key: orderKey('729900', '1'), recNo: 1, order: order('1', 1) },
      { k: 'o', key: orderKey('729900', '2'), recNo: 2, order: order('2', 2) },
      { k: 'r', key: orderKey('999999', '3'), recNo: 3, code: 'NQ401' },
      { k: 'm', next: 4 },
    ],
    true,
  );
  await j.append([{ k: 'a', keys: [orderKey('729900', '1')] }], false);
  await j.close();
}

describe('FileJournal', () => {
  it('replays what was sent, answered and refused, and where to resume', async () => {
    const file = tempFile();
    await writeDay(file);
    const matcher = new AnswerMatcher();
    const journal = new FileJournal(file);
    const replay = await journal.open(matcher);
    await journal.close();
    expect([...replay.pending.keys()]).toEqual([2]);
    expect(replay.decided.get(3)).toEqual({ key: '999999|3', outcome: 'refused', code: 'NQ401' });
    expect(replay.resumeRecNo).toBe(4);
    expect(replay.ordered).toBe(2);
    expect(replay.refused).toBe(1);
    expect(matcher.answered(orderKey('729900', '2'))).toBe(2);
  });

  it('drops a torn last line and trims the file, so the next append starts clean', async () => {
    const file = tempFile();
    await writeDay(file);
    const intact = readFileSync(file);
    appendFileSync(file, '1234abcd\t{"k":"o","key":"72');
    const j = new FileJournal(file);
    const replay = await j.open(new AnswerMatcher());
    expect(replay.entries).toBe(5);
    await j.close();
    expect(readFileSync(file)).toEqual(intact);
  });

  it('refuses a journal damaged in the middle instead of guessing', async () => {
    const file = tempFile();
    await writeDay(file);
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"LSH":"2"', '"LSH":"9"');
    writeFileSync(file, lines.join('\n'));
    await expect(new FileJournal(file).open(new AnswerMatcher())).rejects.toBeInstanceOf(JournalCorruptError);
  });
});

describe('AnswerMatcher', () => {
  it('matches answers to a repeated serial number first-sent, first-answered', () => {
    const m = new AnswerMatcher();
    m.sent('729900|7', 10);
    m.sent('729900|7', 12);
    expect(m.answered('729900|7')).toBe(10);
    expect(m.answered('729900|7')).toBe(12);
    expect(m.answered('729900|7')).toBeUndefined();
  });
});
