import { afterEach, describe, expect, it } from 'vitest';
import { makeLab, setIni, simReady, startGateway, startSim } from '../../helpers/lab.js';
import { NqgwProcess, runNqgw, waitUntil } from '../../helpers/process.js';
import { deadPort, TcpForwarder } from '../../helpers/proxy.js';
import { expectExactlyOnce } from '../../helpers/checks.js';

const running: NqgwProcess[] = [];
const forwarders: TcpForwarder[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  await Promise.all(forwarders.splice(0).map((f) => f.stop()));
});

describe('link faults', () => {
  it('walks past a dead first server, survives drop, silence, quit and a server going away, losing nothing', async () => {
    const lab = await makeLab();
    const siteA = new TcpForwarder(lab.sim.port);
    const siteB = new TcpForwarder(lab.sim.port);
    forwarders.push(siteA, siteB);
    await siteA.start();
    await siteB.start();
    setIni(lab.twIni, 'servers', 'server1', `127.0.0.1:${await deadPort()}`);
    setIni(lab.twIni, 'servers', 'server2', `127.0.0.1:${siteA.port}`);
    setIni(lab.twIni, 'servers', 'server3', `127.0.0.1:${siteB.port}`);
    setIni(lab.twIni, 'link', 'heartbeat_ms', '1000');
    setIni(lab.twIni, 'link', 'silence_ms', '3000');
    setIni(lab.twIni, 'link', 'backoff_max_ms', '1000');
    setIni(lab.simIni, 'server', 'heartbeat_s', '1'); // the peer must talk more often than our silence limit
    running.push(startSim(lab));
    const admin = await simReady(lab);
    const gateway = startGateway(lab);
    running.push(gateway);
    await gateway.waitFor(
      new RegExp(`连接通信服务器 \\S* ?127.0.0.1:${siteA.port}[\\s\\S]*小站端与服务器连接成功`),
    );

    const total = 3000;
    const feeder = new NqgwProcess([
      'feed',
      '--config',
      lab.twIni,
      '--count',
      String(total),
      '--rate',
      '300',
    ]);
    running.push(feeder);

    await new Promise((r) => setTimeout(r, 1000));
    await admin.post('/faults/notice', { station: lab.station, text: '演练通知: 链路切换测试' });
    await gateway.waitFor(/主站特别提示: 演练通知: 链路切换测试/);
    const logons = (): number => (gateway.output.match(/登录成功/g) ?? []).length;
    let before = logons();
    await admin.post('/faults/drop', { station: lab.station });
    // A dropped socket shows as 连接断开 (clean close) or 通信状态出错 (reset), by how it arrives.
    await waitUntil(() => logons() > before, 'logged on again after the drop');

    before = logons();
    await admin.post('/faults/silence', { station: lab.station, ms: 6000 });
    await gateway.waitFor(/连接超时，系统将自动与服务器重新建立连接/, 10_000);
    await waitUntil(() => logons() > before, 'logged on again after the silence', 15_000);
    await waitUntil(
      async () => (await admin.station(lab.station)).connected,
      'the simulator sees the new session',
    );

    await admin.post('/faults/quit', { station: lab.station });
    await gateway.waitFor(/收到quit包, 连接中断/);

    await siteA.stop(); // the site the gateway was using goes away
    await gateway.waitFor(new RegExp(`连接通信服务器 \\S* ?127.0.0.1:${siteB.port}`), 15_000);

    expect(await feeder.exited).toBe(0);
    await waitUntil(
      async () => (await admin.station(lab.station)).returns === 2 * total,
      'all returns',
      60_000,
    );
    await waitUntil(async () => {
      const s = JSON.parse((await runNqgw(['status', '--config', lab.twIni, '--json'])).output) as {
        returns: number;
        notice: string;
      };
      return s.returns === 2 * total && s.notice.includes('演练通知');
    }, 'status caught up');
    expect(await gateway.stop()).toBe(0);
    await expectExactlyOnce(lab, admin, total);
  });
});
