import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readOrderFile, readReturnFile } from '../../../appliance/src/dbf/index.js';
import { cstDate } from '../../../appliance/src/shared/index.js';
import { makeLab, setIni, simReady } from '../../helpers/lab.js';
import { NqgwProcess, runNqgw, waitUntil } from '../../helpers/process.js';

/**
 * The CST day change under a running gateway, with real processes on a shifted clock: the
 * simulator, the gateway and the counter's feeder all run under libfaketime (Debian `faketime`,
 * scripts/ci-deps/base.sh) with one offset that puts CST midnight a few seconds ahead, real TLS
 * on loopback. The feeder writes orders across midnight, each dated by its own clock, as a
 * counter does. Found on the lab (issue 11): the gateway sent the new day's orders, the main
 * station answered them, and the returns never reached NQHB.DBF.
 */

/** Debian's libfaketime (package faketime), in the multiarch directory of this machine. */
const LIBFAKETIME = `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/faketime/libfaketime.so.1`;
/** Shifted time at which the processes start: this long before CST midnight. */
const LEAD_MS = 25_000;
const CST_MS = 8 * 3600_000;
const DAY_MS = 86_400_000;

const running: NqgwProcess[] = [];
const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** An alert webhook receiver (what the operator's paging sees): every POSTed body, parsed. */
async function webhookReceiver(): Promise<{ url: string; posts: unknown[] }> {
  const posts: unknown[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      posts.push(JSON.parse(body));
      res.end('{}');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, posts };
}

/** libfaketime's environment for a clock `offsetS` seconds ahead of the real one. */
function shifted(offsetS: number): NodeJS.ProcessEnv {
  return {
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME: `+${offsetS}`,
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
    FAKETIME_DONT_RESET: '1',
  };
}

interface SimOrder {
  JYDY: string;
  LSH: string;
}
interface SimReturn {
  HBXH: number;
  HBRQ: string;
  LSH: string;
}

describe('the CST day changes under a running gateway (real processes, libfaketime)', () => {
  it('sends nothing dated the new day, files every return of its day once, alerts, exits 4; the fresh start takes over', async () => {
    expect(existsSync(LIBFAKETIME), 'libfaketime missing: apt-get install faketime').toBe(true);
    // The next CST midnight at least LEAD_MS + 5 s away, and the offset that puts it LEAD_MS ahead.
    const realNow = Date.now();
    const midnight = Math.ceil((realNow + CST_MS + LEAD_MS + 5000) / DAY_MS) * DAY_MS - CST_MS;
    const offsetS = Math.round((midnight - LEAD_MS - realNow) / 1000);
    const env = shifted(offsetS);
    const shiftedNow = (): number => Date.now() + offsetS * 1000;
    const DAY = cstDate(midnight - 1);
    const NEXT = cstDate(midnight);

    const lab = await makeLab();
    setIni(lab.twIni, 'link', 'heartbeat_ms', '1000');
    setIni(lab.twIni, 'link', 'silence_ms', '3000');
    setIni(lab.twIni, 'link', 'backoff_initial_ms', '100');
    setIni(lab.twIni, 'link', 'backoff_max_ms', '300');
    setIni(lab.twIni, 'options', 'auto_exit', '15:30'); // started after it: not armed today
    setIni(lab.simIni, 'server', 'heartbeat_s', '1');
    const sim = new NqgwProcess(['sim', '--config', lab.simIni], env);
    running.push(sim);
    const admin = await simReady(lab);
    const dayOrders = (d: string): Promise<SimOrder[]> =>
      admin.get(`/stations/${lab.station}/orders?date=${d}`);
    const dayReturns = (d: string): Promise<SimReturn[]> =>
      admin.get(`/stations/${lab.station}/returns?date=${d}`);

    const hook = await webhookReceiver();
    const gateway = new NqgwProcess(['run', '--config', lab.twIni], { ...env, NQGW_ALERT_WEBHOOK: hook.url });
    running.push(gateway);
    await gateway.waitFor(/登录成功/);
    expect(gateway.output).toContain('"code":"NQ224"'); // auto_exit 15:30 passed: said, not silent
    const early = await runNqgw(['feed', '--config', lab.twIni, '--count', '20'], env);
    expect(early.code).toBe(0);
    await waitUntil(async () => (await dayReturns(DAY)).length === 40, '20 orders of the day carried');
    // The counter's clock a few seconds ahead: an order dated the next day, before midnight.
    const ahead = await runNqgw(['feed', '--config', lab.twIni, '--count', '2'], shifted(offsetS + LEAD_MS));
    expect(ahead.code).toBe(0);
    await gateway.waitFor(/"code":"NQ221"/);
    expect(shiftedNow(), 'the day-of phase ran before midnight (machine too slow?)').toBeLessThan(
      midnight - 3000,
    );

    // A counter writing at 40 orders a second across midnight, dated by its own clock.
    const msToMidnight = midnight - shiftedNow();
    await new Promise((r) => setTimeout(r, Math.max(0, msToMidnight - 2000)));
    const across = new NqgwProcess(['feed', '--config', lab.twIni, '--count', '160', '--rate', '40'], env);
    running.push(across);

    const code = await gateway.exited;
    expect(code, gateway.output.slice(-3000)).toBe(4);
    expect(await across.exited).toBe(0);
    expect(shiftedNow()).toBeGreaterThanOrEqual(midnight);

    // Nothing dated the new day reached the main station from the old day's gateway. (An order
    // of the day written to the socket in the last instant before midnight can arrive after it:
    // the main station books it on the new day and rejects it, E004. A straggler, dated DAY; its
    // return goes to the new day's NQHB.DBF below. Rare on loopback, allowed here.)
    const orders = await readOrderFile(lab.orders);
    const dateOf = new Map(orders.map((o) => [o.LSH, o.WTRQ]));
    const stragglers = (await dayOrders(NEXT)).map((o) => o.LSH);
    expect(stragglers.map((l) => dateOf.get(l))).toEqual(stragglers.map(() => DAY));
    expect(stragglers.length).toBeLessThanOrEqual(1);
    const ofDay = orders.filter((o) => o.WTRQ === DAY);
    const ofNext = orders.filter((o) => o.WTRQ === NEXT);
    expect(ofDay.length + ofNext.length).toBe(orders.length);
    expect(ofNext.length, 'the feeder wrote new-day orders').toBeGreaterThanOrEqual(2 + 40);
    expect(
      ofNext.every((o) => o.CLBZ === '0'),
      'new-day orders wait in NQWT.DBF',
    ).toBe(true);
    // Every order of the day the main station took is flagged sent; none was refused.
    const takenDay = await dayOrders(DAY);
    const sentDay = ofDay.filter((o) => o.CLBZ === '1').map((o) => o.LSH);
    expect([...takenDay.map((o) => o.LSH), ...stragglers].sort()).toEqual([...sentDay].sort());
    expect(ofDay.every((o) => o.CLBZ === '1' || o.CLBZ === '0')).toBe(true);
    expect(sentDay.length).toBeGreaterThanOrEqual(20);
    // Every return of the day the main station made is in NQHB.DBF, once, in order.
    const simDay = await dayReturns(DAY);
    const held = await readReturnFile(lab.returns);
    expect(held.map((r) => r.HBXH)).toEqual(simDay.map((r) => r.HBXH));
    expect(held.map((r) => r.HBXH)).toEqual(held.map((_, i) => i + 1));
    expect(held.every((r) => r.HBRQ === DAY)).toBe(true);

    // What the operator sees: the log lines, the alert's code, the status snapshot.
    expect(gateway.output).toMatch(new RegExp(`交易日已由 ${DAY} 变为 ${NEXT}[^\\n]*"code":"NQ220"`));
    const raised = hook.posts as {
      event: string;
      alert: { code: string; severity: string; words: string };
    }[];
    const dayEnded = raised.find((p) => p.event === 'raised' && p.alert.code === 'TRADING_DAY_ENDED');
    expect(dayEnded?.alert.severity).toBe('critical');
    expect(dayEnded?.alert.words).toContain('systemctl restart nqgw');
    expect(raised.some((p) => p.event === 'raised' && p.alert.code === 'AUTO_EXIT_NOT_ARMED')).toBe(true);
    expect(gateway.output).toContain('"code":"NQ226"');
    const log = readFileSync(path.join(lab.stateDir, 'gateway.log'), 'utf8');
    expect(log).toMatch(/\[NQ220\] 交易日已由/);
    const status = JSON.parse((await runNqgw(['status', '--config', lab.twIni, '--json'])).output) as {
      running: boolean;
      holds: string[];
      tradingDay: string;
      autoExit: { at: string; armed: boolean };
      log: { code?: string }[];
    };
    expect(status.running).toBe(false);
    expect(status.holds).toContain('trading-day-ended');
    expect(status.tradingDay).toBe(DAY);
    expect(status.autoExit).toEqual({ at: '15:30', armed: false });
    expect(status.log.map((l) => l.code)).toContain('NQ220');

    // The new day's start (the daily start, or systemctl restart nqgw): yesterday's NQHB.DBF is
    // archived, the logon carries the new day and sequence 0, the waiting orders go out once.
    setIni(lab.twIni, 'options', 'archive_old_returns', 'true');
    const fresh = new NqgwProcess(['run', '--config', lab.twIni], env);
    running.push(fresh);
    await fresh.waitFor(new RegExp(`登录成功[^\\n]*交易日 ${NEXT}`));
    await sim.waitFor(new RegExp(`${NEXT} \\S+ ${lab.station} logon ok, auth \\S+, lastReturnSeq 0`));
    await waitUntil(
      async () => (await dayOrders(NEXT)).length === ofNext.length + stragglers.length,
      'new-day orders carried',
    );
    await waitUntil(
      async () => (await readReturnFile(lab.returns)).length === (await dayReturns(NEXT)).length,
      'new-day returns written',
    );
    // The trading day the new gateway serves, and sends in its logon, is the new one.
    const freshStatus = JSON.parse((await runNqgw(['status', '--config', lab.twIni, '--json'])).output) as {
      running: boolean;
      tradingDay: string;
      holds: string[];
    };
    expect(freshStatus).toMatchObject({ running: true, tradingDay: NEXT, holds: [] });
    expect(await fresh.stop()).toBe(0);
    const takenNext = await dayOrders(NEXT);
    expect(takenNext.map((o) => o.LSH).sort()).toEqual([...ofNext.map((o) => o.LSH), ...stragglers].sort());
    const heldNext = await readReturnFile(lab.returns);
    expect(heldNext.every((r) => r.HBRQ === NEXT)).toBe(true);
    expect(heldNext.map((r) => r.HBXH)).toEqual(heldNext.map((_, i) => i + 1));
    // An order of the old day that was not sent before midnight is refused by the new day's
    // gateway (NQ402, CLBZ '2'): visible to the broker, never sent a day late.
    const after = await readOrderFile(lab.orders);
    expect(after.filter((o) => o.WTRQ === NEXT).every((o) => o.CLBZ === '1')).toBe(true);
    expect(after.filter((o) => o.WTRQ === DAY).every((o) => o.CLBZ === '1' || o.CLBZ === '2')).toBe(true);
  }, 120_000);
});
