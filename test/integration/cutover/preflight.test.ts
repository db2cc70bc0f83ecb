import { spawnSync } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { writeReturnsOfDay } from '../../helpers/returns.js';
import type { CutoverResult } from '../../../appliance/src/cutover/index.js';
import { makeLab, setIni, simReady, startGateway, startSim } from '../../helpers/lab.js';
import { waitUntil, type NqgwProcess } from '../../helpers/process.js';
import { runCutoverCli, statusPid } from './cli.js';

const running: NqgwProcess[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await Promise.all(running.splice(0).map((p) => p.stop('SIGTERM')));
});

async function cutoverJson(
  args: string[],
): Promise<{ code: number | null; result: CutoverResult; output: string }> {
  const { code, output, stdout } = await runCutoverCli([...args, '--json']);
  return { code, output, result: JSON.parse(stdout) as CutoverResult };
}

function step(result: CutoverResult, name: string): CutoverResult['steps'][number] {
  const s = result.steps.find((x) => x.step === name);
  if (!s) throw new Error(`no step ${name} in ${JSON.stringify(result.steps)}`);
  return s;
}

/** Each preflight failure stops the cutover before anything is started, and says what to do. */
describe('cutover preflight failures', () => {
  it('a tw.ini with errors: exit 2, the problems listed, nothing else tried', async () => {
    const lab = await makeLab();
    setIni(lab.twIni, 'station', 'units', '7299');
    const { code, output } = await runCutoverCli(['--config', lab.twIni]);
    expect(code).toBe(2);
    expect(output).toMatch(/FAIL\s+configuration valid: \[NQ601\]/);
    expect(output).toContain('nqgw config check');
    expect(output).not.toContain('start as active');
  });

  it('a missing key file is a configuration failure that names the file', async () => {
    const lab = await makeLab();
    unlinkSync(lab.pki.stationKey);
    const { code, result } = await cutoverJson(['--config', lab.twIni]);
    expect(code).toBe(2);
    expect(step(result, 'config').verdict).toBe('FAIL');
    expect(step(result, 'config').detail).toContain('station-W888888T.key');
  });

  it('tls mode ekey with no token to be found: NO-GO, saying what to do', async () => {
    const lab = await makeLab();
    setIni(lab.twIni, 'tls', 'mode', 'ekey');
    setIni(lab.twIni, 'ekey', 'module', '/nonexistent/libpkcs11.so');
    const { code, result } = await cutoverJson(['--config', lab.twIni]);
    expect(code).toBe(3);
    expect(step(result, 'tls')).toMatchObject({ verdict: 'FAIL' });
    expect(step(result, 'tls').hint).toBeTruthy();
  });

  it('an interface directory that cannot be written: NO-GO with the directory named', async (ctx) => {
    const lab = await makeLab();
    // Root ignores permission bits; an immutable directory refuses even root.
    if (spawnSync('chattr', ['+i', lab.dir]).status !== 0) ctx.skip();
    cleanups.push(() => void spawnSync('chattr', ['-i', lab.dir]));
    const { code, result } = await cutoverJson(['--config', lab.twIni]);
    expect(code).toBe(3);
    expect(step(result, 'dirs').verdict).toBe('FAIL');
    expect(step(result, 'dirs').detail).toContain(`cannot write in ${lab.dir}`);
    expect(result.steps.some((s) => s.step === 'start')).toBe(false);
  });

  it('NQHB.DBF of another day: NO-GO before the gateway would refuse it, file unchanged', async () => {
    const lab = await makeLab();
    await writeReturnsOfDay(lab.returns, '20200102');
    const { code, result } = await cutoverJson(['--config', lab.twIni]);
    expect(code).toBe(3);
    expect(step(result, 'nqhb')).toMatchObject({ verdict: 'FAIL' });
    expect(step(result, 'nqhb').detail).toContain('holds rows of 20200102');
    expect(step(result, 'nqhb').hint).toContain('archive_old_returns');
  });

  it('clock: measured when tw.ini has [clock]; no time server answering is a WARN, not a refusal', async () => {
    const lab = await makeLab();
    setIni(lab.twIni, 'clock', 'servers', '127.0.0.1:9');
    setIni(lab.twIni, 'clock', 'timeout_ms', '200');
    const { result } = await cutoverJson(['--config', lab.twIni]);
    expect(step(result, 'clock')).toMatchObject({ verdict: 'WARN' });
    expect(step(result, 'clock').detail).toContain('clock unknown: no server answered');
  });

  it('main station down: every server tried, NO-GO', async () => {
    const lab = await makeLab(); // no simulator started
    const { code, result } = await cutoverJson(['--config', lab.twIni]);
    expect(code).toBe(3);
    expect(step(result, 'mainstation').verdict).toBe('FAIL');
    expect(step(result, 'mainstation').detail).toMatch(
      /no main-station server answered: server1 127\.0\.0\.1:\d+/,
    );
  });

  it('a live gateway already holds the lock: refuses to start a second active', async () => {
    const lab = await makeLab();
    running.push(startSim(lab));
    await simReady(lab);
    const gw = startGateway(lab);
    running.push(gw);
    await gw.waitFor(/小站端与服务器连接成功/);
    const { code, result } = await cutoverJson(['--config', lab.twIni]);
    expect(code).toBe(3);
    expect(step(result, 'lock').verdict).toBe('FAIL');
    expect(step(result, 'lock').detail).toContain(`already active on this host: pid ${gw.child.pid}`);
    expect(result.steps.some((s) => s.step === 'start')).toBe(false);
    await waitUntil(() => statusPid(lab.stateDir) === gw.child.pid, 'the gateway still running');
  });

  it('a lock held by another host: refuses and names that host', async () => {
    const lab = await makeLab();
    writeFileSync(
      `${lab.orders}.lock`,
      JSON.stringify({
        host: `${os.hostname()}-prod`,
        pid: 4242,
        since: '2026-11-20T01:00:00Z',
        station: lab.station,
      }),
    );
    const { code, result } = await cutoverJson(['--config', lab.twIni]);
    expect(code).toBe(3);
    expect(step(result, 'lock').detail).toContain(`a gateway on host ${os.hostname()}-prod`);
    expect(step(result, 'lock').hint).toContain(`${lab.orders}.lock`);
  });
});
