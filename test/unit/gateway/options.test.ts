import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OptionEffects } from '../../../appliance/src/gateway/options.js';
import type { GatewayOptions } from '../../../appliance/src/config/index.js';

const base: GatewayOptions = {
  noFills: false,
  linkDownFlag: null,
  timeFile: null,
  timeFileIntervalS: 5,
  autoExit: null,
  archiveOldReturns: false,
  sendBlockWarnMs: 15000,
  invalidFlagRetryS: 30,
};
// 15:29:58 CST on a trading day.
const START = Date.UTC(2026, 10, 23, 7, 29, 58);

afterEach(() => vi.useRealTimers());

describe("the vendor's other options", () => {
  it('exits automatically at HH:MM (CST), once', async () => {
    vi.useFakeTimers();
    let now = START;
    let exits = 0;
    const effects = new OptionEffects(
      { ...base, autoExit: 15 * 60 + 30 },
      { now: () => now },
      () => exits++,
      () => {},
    );
    effects.start();
    now += 1000;
    await vi.advanceTimersByTimeAsync(1000);
    expect(exits).toBe(0);
    now += 2000;
    await vi.advanceTimersByTimeAsync(2000);
    expect(exits).toBe(1);
    now += 60_000;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(exits).toBe(1);
    effects.stop();
  });

  it('does not exit at once when started after the exit time (an evening drill)', async () => {
    vi.useFakeTimers();
    let now = START + 3600_000; // 16:29:58
    let exits = 0;
    const effects = new OptionEffects(
      { ...base, autoExit: 15 * 60 + 30 },
      { now: () => now },
      () => exits++,
      () => {},
    );
    effects.start();
    now += 5000;
    await vi.advanceTimersByTimeAsync(5000);
    expect(exits).toBe(0);
    effects.stop();
  });

  it('says at start whether auto_exit fires today: NQ225 armed, NQ224 not (started after it), in the status', () => {
    const notes: { level: string; text: string; code: string }[] = [];
    const note = (level: string, text: string, code: string): number => notes.push({ level, text, code });
    const before = new OptionEffects(
      { ...base, autoExit: 15 * 60 + 30 },
      { now: () => START },
      () => {},
      () => {},
      note,
    );
    before.start();
    expect(before.autoExit).toEqual({ at: '15:30', armed: true });
    before.stop();
    const after = new OptionEffects(
      { ...base, autoExit: 15 * 60 + 30 },
      { now: () => START + 3600_000 },
      () => {},
      () => {},
      note,
    );
    after.start();
    expect(after.autoExit).toEqual({ at: '15:30', armed: false });
    after.stop();
    expect(notes.map((n) => [n.level, n.code])).toEqual([
      ['info', 'NQ225'],
      ['warn', 'NQ224'],
    ]);
    expect(notes[1]!.text).toContain('启动时已过自动退出时间 15:30');
    expect(notes[1]!.text).toContain('24:00');
    const none = new OptionEffects(
      base,
      { now: () => START },
      () => {},
      () => {},
      note,
    );
    none.start();
    expect(none.autoExit).toBeNull();
    none.stop();
  });

  it('keeps the link-down flag file only while the link is down, and writes the time file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-opt-'));
    const flag = path.join(dir, 'LINKDOWN.FLG');
    const time = path.join(dir, 'TIME.TXT');
    const effects = new OptionEffects(
      { ...base, linkDownFlag: flag, timeFile: time },
      { now: () => START },
      () => {},
      () => {},
    );
    effects.start();
    await effects.linkDown(true);
    expect(existsSync(flag)).toBe(true);
    await effects.linkDown(false);
    expect(existsSync(flag)).toBe(false);
    await vi.waitFor(() => expect(readFileSync(time, 'utf8')).toBe('20261123 152958\n'));
    effects.stop();
  });

  it('tells a time file it cannot write to the operator log (the timer awaits nobody)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-opt-'));
    const time = path.join(dir, 'no-such-dir', 'TIME.TXT');
    const errors: string[] = [];
    const effects = new OptionEffects(
      { ...base, timeFile: time },
      { now: () => START },
      () => {},
      (text) => errors.push(text),
    );
    effects.start();
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    expect(errors[0]).toContain(`cannot write the time file ${time}: ENOENT`);
    effects.stop();
  });
});
