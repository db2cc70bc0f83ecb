import { afterEach, describe, expect, it } from 'vitest';
import { readOrderFile } from '../../../appliance/src/dbf/index.js';
import { makeLab, setIni, simReady, startGateway, startSim } from '../../helpers/lab.js';
import { runNqgw, waitUntil, type NqgwProcess } from '../../helpers/process.js';
import { expectExactlyOnce } from '../../helpers/checks.js';
import { SntpResponder } from '../clock/responder.js';

const running: NqgwProcess[] = [];
const responders: SntpResponder[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  await Promise.all(responders.splice(0).map((r) => r.stop()));
});

async function status(
  twIni: string,
): Promise<{ pending: number; holds: string[]; clock: { state: string } | null }> {
  return JSON.parse((await runNqgw(['status', '--config', twIni, '--json'])).output);
}

describe('clock hold policy in the running gateway', () => {
  it('holds orders in NQWT.DBF while the clock is in alarm and sends them all, once, when it is back', async () => {
    const ntp = new SntpResponder({ offsetMs: 150 }); // our clock is 150 ms behind the time server
    responders.push(ntp);
    await ntp.start();
    const lab = await makeLab();
    setIni(lab.twIni, 'clock', 'servers', `127.0.0.1:${ntp.port}`);
    setIni(lab.twIni, 'clock', 'interval_s', '1');
    setIni(lab.twIni, 'clock', 'timeout_ms', '200');
    setIni(lab.twIni, 'clock', 'policy', 'hold');
    setIni(lab.twIni, 'clock', 'chrony', 'off');
    running.push(startSim(lab));
    const admin = await simReady(lab);
    const gateway = startGateway(lab);
    running.push(gateway);
    await gateway.waitFor(/时钟 unknown → alarm/);
    await gateway.waitFor(/小站端与服务器连接成功/);

    expect((await runNqgw(['feed', '--config', lab.twIni, '--count', '50'])).code).toBe(0);
    await waitUntil(async () => (await status(lab.twIni)).pending === 50, '50 orders shown as 待发委托');
    const held = await status(lab.twIni);
    expect(held.holds).toContain('clock');
    expect(held.clock?.state).toBe('alarm');
    expect((await admin.station(lab.station)).ordersTaken).toBe(0);
    expect((await readOrderFile(lab.orders)).every((o) => o.CLBZ === '0')).toBe(true);

    ntp.set({ offsetMs: 10 });
    await gateway.waitFor(/时钟 alarm → ok/, 10_000);
    await waitUntil(async () => (await admin.station(lab.station)).returns === 100, 'all 50 orders answered');
    await waitUntil(async () => (await status(lab.twIni)).pending === 0, '待发委托 back to 0');
    expect(await gateway.stop()).toBe(0);
    await expectExactlyOnce(lab, admin, 50);
  });
});
