import { describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  AnswerMatcher,
  FileJournal,
  JournalClosedError,
  JournalCorruptError,
  JournalFullError,
  JournalShortWriteError,
  JournalSyncError,
  JournalWriteError,
  orderKey,
  type JournalWriteContext,
} from '../../../appliance/src/gateway/journal.js';
import { LINE_ALERTS } from '../../../appliance/src/ops/catalogue.js';
import { tempDir } from '../../helpers/tempdir.js';
import { order } from './journal-contract.js';
import { FaultyFs } from './journal-faults.js';

function tempFile(): string {
  return path.join(tempDir('nqgw-jnl-'), 'day.jnl');
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
    const err = await new FileJournal(file).open(new AnswerMatcher()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JournalCorruptError);
    expect(err).toMatchObject({ code: 'NQ701', file, record: 2 });
  });

  it('leaves the file byte for byte as it was when a batch fails, and names the offset it was cut to', async () => {
    const file = tempFile();
    await writeDay(file);
    const before = readFileSync(file);
    const fs = new FaultyFs();
    const j = new FileJournal(file, { fs });
    await j.open(new AnswerMatcher());
    fs.arm({ op: 'datasync', errno: 'EIO' });
    const err = await j.append([{ k: 'm', next: 9 }], true).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NQ780', offset: before.length, record: 6 });
    expect(readFileSync(file)).toEqual(before);
    await j.close();
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

describe('journal errors', () => {
  it('each raises the order-path alert when the gateway logs it under its code', () => {
    const at: JournalWriteContext = { file: 'day.jnl', step: 'write', record: 1, records: 1, offset: 0 };
    const errors = [
      new JournalCorruptError('day.jnl', 2),
      new JournalWriteError(at, new Error('EIO')),
      new JournalSyncError(at, new Error('EIO')),
      new JournalFullError(at, new Error('ENOSPC')),
      new JournalShortWriteError(at, 3, 9),
      new JournalClosedError(at),
    ];
    expect(errors.map((e) => e.code)).toEqual(['NQ701', 'NQ702', 'NQ780', 'NQ781', 'NQ782', 'NQ783']);
    for (const e of errors) expect(LINE_ALERTS[e.code]).toBe('ORDER_PATH_FAILURE');
  });
});
