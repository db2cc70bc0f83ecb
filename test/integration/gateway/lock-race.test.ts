import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from '../../helpers/process.js';

const LOCK = pathToFileURL(path.join(REPO, 'dist/appliance/src/gateway/lock.js')).href;
const ROUNDS = 30;
const CONTENDERS = 6;
/** Beyond pid_max: no process has it, so the lock's holder is certainly dead. */
const DEAD_PID = 2 ** 22 + 4321;

/**
 * A contender: a real process that, for every "go <order file>" on stdin, tries to take the lock
 * of that order file and says whether it won; a won lock is held (never released) until the end,
 * as a running gateway would hold it.
 */
const CONTENDER = `
  const { OrderFileLock } = await import(${JSON.stringify(LOCK)});
  const held = [];
  let buffered = '';
  process.stdin.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\\n')) >= 0) {
      const orders = buffered.slice(3, nl);
      buffered = buffered.slice(nl + 1);
      const lock = OrderFileLock.forOrderFile(orders, 'W888888T');
      try {
        lock.acquire();
        held.push(lock);
        process.stdout.write('won ' + orders + '\\n');
      } catch (err) {
        process.stdout.write('lost ' + orders + ' ' + err.code + '\\n');
      }
    }
  });
  process.stdout.write('ready\\n');
`;

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function contender(): { child: ChildProcess; lines: string[]; next: (re: RegExp) => Promise<string> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CONTENDER], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: string[] = [];
  let partial = '';
  let waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      waiters = waiters.filter((w) => (w.re.test(line) ? (w.resolve(line), false) : true));
    }
  });
  const next = (re: RegExp): Promise<string> => {
    const seen = lines.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => waiters.push({ re, resolve }));
  };
  return { child, lines, next };
}

describe('order-file lock: stale takeover under contention', () => {
  it(`${CONTENDERS} processes at once on a stale lock: exactly one wins, ${ROUNDS} rounds`, async () => {
    const racers = Array.from({ length: CONTENDERS }, contender);
    await Promise.all(racers.map((r) => r.next(/^ready$/)));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-lockrace-'));
    for (let round = 0; round < ROUNDS; round++) {
      const orders = path.join(dir, `NQWT${round}.DBF`);
      writeFileSync(
        `${orders}.lock`,
        JSON.stringify({
          host: os.hostname(),
          pid: DEAD_PID,
          since: '2026-11-20T01:00:00Z',
          station: 'W888888T',
        }),
      );
      for (const r of racers) r.child.stdin!.write(`go ${orders}\n`);
      const answers = await Promise.all(racers.map((r) => r.next(new RegExp(` ${orders}( |$)`))));
      const winners = racers.filter((_, i) => answers[i]!.startsWith('won '));
      expect(winners.length, `round ${round}: ${answers.join('; ')}`).toBe(1);
      expect(answers.filter((a) => a.startsWith('lost ')).every((a) => a.endsWith(' NQ705'))).toBe(true);
      const owner = JSON.parse(readFileSync(`${orders}.lock`, 'utf8')) as { pid: number };
      expect(owner.pid).toBe(winners[0]!.child.pid);
    }
    // Nothing left behind but the locks themselves (no temp files, no takeover markers).
    expect(readdirSync(dir).filter((f) => !f.endsWith('.lock'))).toEqual([]);
  });
});
