import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeLab } from '../../helpers/lab.js';
import { NqgwProcess } from '../../helpers/process.js';

const running: NqgwProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const seqName = (seq: number): string => String(seq).padStart(12, '0');

/** A line as the log service writes it (Chinese kept), numbered so order can be checked. */
function line(n: number, code?: string): string {
  const t = new Date(Date.UTC(2026, 10, 22, 2, 0, n)).toISOString();
  return `${JSON.stringify({ t, level: 'info', ...(code ? { code } : {}), text: `第 ${n} 行 委托`, station: 'W888888T', host: 'it', n })}\n`;
}

/** The n of every JSON line printed so far (the CLI's stderr, e.g. SDK warnings, left out). */
function printed(output: string): number[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => (JSON.parse(l) as { n: number }).n);
}

async function logLab(): Promise<{ twIni: string; segment: (seq: number, date?: string) => string }> {
  const lab = await makeLab();
  const dir = path.join(lab.stateDir, 'logs', 'segments');
  mkdirSync(dir, { recursive: true });
  return {
    twIni: lab.twIni,
    segment: (seq, date = '20261122') => path.join(dir, `${date}-${seqName(seq)}.jsonl`),
  };
}

describe('nqgw logs tail --follow', () => {
  it('prints the last N lines, then appended lines across segment rolls in sequence order; SIGTERM exits 0', async () => {
    const { twIni, segment } = await logLab();
    writeFileSync(segment(1), line(1) + line(2) + line(3));
    writeFileSync(segment(2), line(4) + line(5));
    const tail = new NqgwProcess(['logs', 'tail', '--config', twIni, '--follow', '--json', '-n', '3']);
    running.push(tail);
    await tail.waitFor(/"n":5\}/);
    expect(printed(tail.output)).toEqual([3, 4, 5]);

    appendFileSync(segment(2), line(6));
    await tail.waitFor(/"n":6\}/);
    // Half a line is not printed until it is whole.
    const seven = line(7);
    appendFileSync(segment(2), seven.slice(0, 20));
    await sleep(700);
    expect(printed(tail.output)).toEqual([3, 4, 5, 6]);
    appendFileSync(segment(2), seven.slice(20));
    await tail.waitFor(/"n":7\}/);

    // The writer's last line and the next segment in one go: 8 must still come before 9. The
    // next segment is found by sequence (3 is missing: a gap is fine), also across a CST day.
    appendFileSync(segment(2), line(8));
    writeFileSync(segment(4, '20261123'), line(9) + line(10));
    await tail.waitFor(/"n":10\}/);
    writeFileSync(segment(5, '20261123'), '');
    appendFileSync(segment(5, '20261123'), line(11));
    await tail.waitFor(/"n":11\}/);

    expect(await tail.stop('SIGTERM')).toBe(0);
    expect(printed(tail.output)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('waits for the first segment of an empty log, prints the human format, SIGINT exits 0', async () => {
    const { twIni, segment } = await logLab();
    const tail = new NqgwProcess(['logs', 'tail', '--config', twIni, '-f']);
    running.push(tail);
    await sleep(700);
    writeFileSync(segment(1), line(1, 'NQ815') + line(2));
    await tail.waitFor(/第 2 行/);
    expect(tail.output).toMatch(/10:00:01 info {2}\[NQ815\] 第 1 行 委托\n10:00:02 info {2}第 2 行 委托\n/);
    expect(await tail.stop('SIGINT')).toBe(0);
  });
});
