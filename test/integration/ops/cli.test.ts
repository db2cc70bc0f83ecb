import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import path from 'node:path';
import { Command } from 'commander';
import { registerOpsCommands } from '../../../appliance/src/cli/ops.js';
import { readAuditLog } from '../../../appliance/src/ops/index.js';
import { software } from '../../../appliance/src/shared/index.js';
import { runNqgw } from '../../helpers/process.js';
import { startOpsLab, type OpsLab } from './ops-lab.js';

let t: OpsLab;
beforeAll(async () => {
  t = await startOpsLab();
});
afterAll(async () => {
  await t?.stop();
});

/** Run `nqgw <args>` in this process (cli/main.ts registers the same commands). */
async function nqgw(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const program = new Command('nqgw').exitOverride();
  registerOpsCommands(program);
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => ((out += String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => ((err += String(c)), true));
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'nqgw', ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, out, err };
}

describe('nqgw operator commands over the API', () => {
  it('pause/resume/switch/reconnect act, print what was done, and are audited under --operator', async () => {
    const pause = await nqgw('pause', '--config', t.lab.twIni, '--operator', 'wang');
    expect(pause).toMatchObject({ code: 0 });
    expect(pause.out).toMatch(/^pause: ok - 暂停发送 .*audited as wang/);
    const alerts = await nqgw('alerts', '--config', t.lab.twIni);
    expect(alerts.code).toBe(1);
    expect(alerts.out).toContain('[警告] ORDERS_HELD');
    expect(alerts.out).toContain('处理: Orders wait in NQWT.DBF');
    expect((await nqgw('resume', '--config', t.lab.twIni, '--operator', 'wang', '--json')).out).toMatch(
      /"action":"resume"/,
    );
    const bad = await nqgw('switch', '7', '--config', t.lab.twIni, '--operator', 'wang');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/server must be 1\.\.2/);
    expect((await nqgw('switch', '2', '--config', t.lab.twIni, '--operator', 'wang')).code).toBe(0);
    expect((await nqgw('reconnect', '--config', t.lab.twIni)).code).toBe(0);
    const audit = readAuditLog(path.join(t.lab.stateDir, 'audit.log'));
    expect(audit.map((a) => `${a.operator} ${a.action} ${a.result}`).slice(0, 4)).toEqual([
      'wang pause ok',
      'wang resume ok',
      'wang switch refused',
      'wang switch ok',
    ]);
    expect(audit[4]!.operator).not.toBe('unknown'); // taken from the session (SUDO_USER/LOGNAME/USER)
  });

  it('events pages the log; status asks the API first', async () => {
    const first = await nqgw('events', '--config', t.lab.twIni, '--since', '0', '--limit', '2');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^ {5}1 \d\d:\d\d:\d\d info  \[NQ253\] 深圳证券通信网股转系统交易网关/);
    expect(first.out).toMatch(/^ {5}2 \d\d:\d\d:\d\d info  \[NQ207\] 欢迎使用股转系统交易网关/m);
    // The name and version in both lines are package.json's (shared/software.ts), nothing else.
    expect(first.out).toContain(`[NQ253] 深圳证券通信网股转系统交易网关 (${software().text})`);
    expect(first.out).toContain(`[NQ207] 欢迎使用股转系统交易网关 (${software().text})`);
    // The pager's hint is a whole command that can be pasted.
    expect(first.out).toContain(`-- next: nqgw events --config ${t.lab.twIni} --since 2 --limit 2`);
    const status = await runNqgw(['status', '--config', t.lab.twIni, '--json']);
    expect(JSON.parse(status.output)).toMatchObject({
      running: true,
      station: t.lab.station,
      servers: [{ number: 1 }, { number: 2 }],
    });
  });

  it('exits 3 when the gateway is not running', async () => {
    await t.gateway.stop();
    const res = await nqgw('alerts', '--config', t.lab.twIni);
    expect(res.code).toBe(3);
    expect(res.err).toMatch(/\[NQ964\] gateway API not reachable/);
    expect((await runNqgw(['status', '--config', t.lab.twIni])).code).toBe(3);
  });
});
