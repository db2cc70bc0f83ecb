import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OperatorLog, type OperatorLine } from '../../../appliance/src/gateway/oplog.js';
import { LINE_MAX_BYTES } from '../../../appliance/src/gateway/logtext.js';

const clock = { now: () => Date.now() };
const logs: OperatorLog[] = [];

function tempLog(options: Partial<ConstructorParameters<typeof OperatorLog>[0]> = {}): {
  log: OperatorLog;
  file: string;
} {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nqgw-oplog-')), 'state', 'gateway.log');
  const log = new OperatorLog({ clock, file, stdout: false, ...options });
  logs.push(log);
  return { log, file };
}

const fileLines = (file: string): string[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];

/** Let queued callbacks, rejections and their handlers run. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

afterEach(async () => {
  await Promise.all(logs.splice(0).map((l) => l.close()));
});

describe('operator log: listeners cannot stop the log or the caller', () => {
  it('a throwing and a rejecting listener are contained, the others and the file go on, one report each', async () => {
    const { log, file } = tempLog();
    const seen: string[] = [];
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    try {
      log.subscribe(() => {
        throw new Error('alert rule broke');
      });
      log.subscribe(async () => {
        await Promise.resolve();
        throw new Error('shipping broke');
      });
      log.subscribe((line) => void seen.push(line.text));
      for (let i = 1; i <= 50; i++) expect(() => log.info(`line ${i}`, 'NQ209')).not.toThrow();
      await settle();
      await log.flush();
    } finally {
      process.off('unhandledRejection', onRejection);
    }
    expect(rejections).toEqual([]);
    // The healthy listener got every line, the file too (plus the two reports).
    expect(seen.filter((t) => t.startsWith('line '))).toHaveLength(50);
    const lines = fileLines(file);
    expect(lines.filter((l) => / \[NQ209\] line \d+$/.test(l))).toHaveLength(50);
    // Each failing listener is reported once (not once per line, not in a loop through the log).
    const reports = log.recent().filter((l) => l.code === 'NQ243');
    expect(reports).toHaveLength(2);
    expect(reports.map((r) => r.text).join('\n')).toMatch(/alert rule broke/);
    expect(reports.map((r) => r.text).join('\n')).toMatch(/shipping broke/);
    expect(lines.filter((l) => l.includes('[NQ243]'))).toHaveLength(2);
  });
});

describe('operator log: text from outside', () => {
  it('keeps no control character: a newline cannot forge a line, escapes cannot reach a terminal', async () => {
    const { log, file } = tempLog();
    const seen: OperatorLine[] = [];
    log.subscribe((l) => void seen.push(l));
    const hostile = 'notice\n12:00:00 [NQ210] 程序自动退出\r\u001b[31mred\u0000\u0007\t\u007f\u0085\u2028end';
    log.warn(hostile, 'NQ307');
    log.info('ok', 'NQ\n999');
    await log.flush();
    const lines = fileLines(file);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d \[NQ307\] notice 12:00:00 \[NQ210\] 程序自动退出 {2}\[31mred {6}end$/,
    );
    for (const text of [...lines, ...log.recent().map((l) => `${l.code} ${l.text}`), seen[0]!.text]) {
      expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    }
  });

  it('caps a 1 MiB line at 2 KiB with a mark saying it was cut', async () => {
    const { log, file } = tempLog();
    const huge = '主'.repeat(100_000) + 'x'.repeat(1024 * 1024 - 300_000); // 1 MiB of UTF-8
    log.warn(huge, 'NQ307');
    log.warn('x'.repeat(LINE_MAX_BYTES), 'NQ307');
    await log.flush();
    const [first, second] = log.recent();
    expect(Buffer.byteLength(first!.text)).toBeLessThan(LINE_MAX_BYTES + 100);
    expect(first!.text).toMatch(/^主+…\[已截断, 原长 1048576 字节\]$/);
    // Exactly at the limit: not cut.
    expect(second!.text).toBe('x'.repeat(LINE_MAX_BYTES));
    expect(statSync(file).size).toBeLessThan(2 * LINE_MAX_BYTES + 200);
  });
});

describe('operator log: gateway.log off the order path', () => {
  it('write() returns before the file has the line; flush() resolves once it has', async () => {
    const { log, file } = tempLog();
    log.info('first line', 'NQ207');
    // Nothing is on disk yet: the write is queued, the caller (the order path) goes on.
    expect(fileLines(file).some((l) => l.includes('first line'))).toBe(false);
    await log.flush();
    expect(fileLines(file)).toEqual([expect.stringMatching(/ \[NQ207\] first line$/)]);
  });

  it('keeps the order of lines and the ring and counts what it drops past the queue bound, with one line saying so', async () => {
    const { log, file } = tempLog({ queueBytes: 4096 });
    const total = 500;
    for (let i = 1; i <= total; i++) log.info(`burst ${String(i).padStart(4, '0')}`);
    // The ring (status page) has every line even when the file could not take them all.
    expect(log.recent().filter((l) => l.text.startsWith('burst '))).toHaveLength(200);
    await log.flush();
    const lines = fileLines(file);
    const written = lines.filter((l) => / burst \d{4}$/.test(l)).map((l) => Number(l.slice(-4)));
    const marks = lines.filter((l) => l.includes('[NQ240]'));
    const { dropped } = log.fileLosses;
    expect(dropped).toBeGreaterThan(0);
    expect(written.length + dropped).toBe(total);
    expect(written).toEqual([...written].sort((a, b) => a - b));
    expect(marks).toHaveLength(1);
    expect(marks[0]).toContain(`${dropped} 行未写入`);
  });

  it('rotates at the size and keeps N generations: gateway.log, .1, .2, .3', async () => {
    const { log, file } = tempLog({ rotateBytes: 4096, keepFiles: 3 });
    const total = 1000;
    for (let i = 1; i <= total; i++) {
      log.info(`rotating line ${String(i).padStart(5, '0')} ${'r'.repeat(40)}`);
      if (i % 100 === 0) await log.flush();
    }
    await log.flush();
    expect(existsSync(`${file}.4`)).toBe(false);
    const generations = [`${file}.3`, `${file}.2`, `${file}.1`, file];
    for (const g of generations) {
      expect(existsSync(g), g).toBe(true);
      expect(statSync(g).size).toBeLessThanOrEqual(4096);
    }
    for (const g of generations.slice(0, 3)) expect(statSync(g).size).toBeGreaterThan(4096 - 80);
    // Oldest first, the four files are one unbroken run ending with the last line.
    const numbers = generations.flatMap(fileLines).map((l) => Number(/line (\d{5})/.exec(l)![1]));
    expect(numbers.at(-1)).toBe(total);
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));
  });

  it('a failing file is reported once, lines still reach the ring, and it recovers by itself', async () => {
    const { log, file } = tempLog();
    mkdirSync(file, { recursive: true }); // gateway.log is a directory: every write fails (EISDIR)
    for (let i = 0; i < 20; i++) log.info(`while broken ${i}`);
    await log.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect(log.recent().filter((l) => l.code === 'NQ241')).toHaveLength(1);
    expect(log.recent().filter((l) => l.text.startsWith('while broken'))).toHaveLength(20);
    rmdirSync(file);
    log.info('after repair');
    await log.flush(); // waits out the retry delay after a failure
    expect(log.recent().filter((l) => l.code === 'NQ242')).toHaveLength(1);
    expect(fileLines(file).some((l) => l.endsWith(' after repair'))).toBe(true);
  });
});
