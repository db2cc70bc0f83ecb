import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../appliance/src/config/index.js';
import { NQHB_LAYOUT, readReturnFile } from '../../../appliance/src/dbf/index.js';
import { Gateway, type OperatorLine } from '../../../appliance/src/gateway/index.js';
import type { LabDescription } from '../../../appliance/src/lab/index.js';
import { AlertEngine } from '../../../appliance/src/ops/index.js';
import { cstDate } from '../../../appliance/src/shared/index.js';
import { makeLab, setIni } from '../../helpers/lab.js';
import { waitUntil } from '../../helpers/process.js';
import { fillUp, mountTmpfs, unmountAll } from '../../helpers/tmpfs.js';
import { confirmation, CraftedStation } from './crafted-station.js';

/**
 * Returns the gateway cannot write as sent, and a return file that cannot be written at all:
 * the Gateway in this process, a crafted main station over real TLS on loopback (frames made by
 * the link's own encoder), real files, and for the full disk a real tmpfs filled to the last
 * byte. What must hold: every HBXH in NQHB.DBF exactly once, nothing lost, and no reconnect loop.
 */

interface Rig {
  lab: LabDescription;
  station: CraftedStation;
  gateway: Gateway;
  lines: OperatorLine[];
  /** The ops room's alert engine, fed the gateway's operator lines as the service does. */
  alerts: AlertEngine;
  today: string;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.gateway.stop();
    await r.station.stop();
    rmSync(r.lab.dir, { recursive: true, force: true });
  }
});
afterAll(unmountAll);

async function rig(returnsFile?: string): Promise<Rig> {
  const lab = await makeLab();
  const station = new CraftedStation(lab);
  const port = await station.start();
  setIni(lab.twIni, 'servers', 'server1', `127.0.0.1:${port}`);
  if (returnsFile) setIni(lab.twIni, 'files', 'returns', returnsFile);
  const gateway = new Gateway(loadConfig(lab.twIni));
  const lines: OperatorLine[] = [];
  const alerts = new AlertEngine({ heartbeatMs: 10_000, now: Date.now, eventTtlMs: 300_000 });
  gateway.log.subscribe((l) => {
    lines.push(l);
    alerts.observeLine(l);
  });
  const r: Rig = { lab, station, gateway, lines, alerts, today: cstDate(Date.now()) };
  rigs.push(r);
  await gateway.start();
  await waitUntil(() => station.logons.length === 1, 'the first logon');
  return r;
}

const coded = (r: Rig, code: string): OperatorLine[] => r.lines.filter((l) => l.code === code);
const hbxh = async (file: string): Promise<number[]> => (await readReturnFile(file)).map((x) => x.HBXH);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/** The bytes of field `name` of record `recNo` (1-based), as written. */
function fieldBytes(file: string, recNo: number, name: string): string {
  const b = readFileSync(file);
  const f = NQHB_LAYOUT.fields.find((x) => x.name === name)!;
  const at = NQHB_LAYOUT.headerLength + (recNo - 1) * NQHB_LAYOUT.recordLength + f.offset;
  return b.toString('latin1', at, at + f.length);
}

describe('a return the gateway cannot write as sent', () => {
  it('is written with what fits, the raw value kept and alerted, and the link is not rebuilt', async () => {
    const r = await rig();
    const { today, station } = r;
    station.add([
      confirmation(today, 1),
      confirmation(today, 2, { HBLB: '2', CJBH: 'F2', CJJG: 'abc', CJSL: 100 }),
      confirmation(today, 3, { HBLB: '2', CJBH: 'F3', CJJG: 123456789.5, CJSL: 100 }),
      confirmation(today, 4, { JYDY: '7299001' }),
      confirmation(today, 5, { HBRQ: undefined }),
      confirmation(today, 6, { HBLB: '1', CWDM: 'E009', CWXX: '拒绝\u0001\u001b[31m原因', ZQDM: '43\n001' }),
      confirmation(today, 7),
    ]);
    await waitUntil(() => station.maxAck === 7, 'all seven acknowledged', 10_000);
    // Quiet for a while after: no resync, no reconnect loop.
    await new Promise((res) => setTimeout(res, 1500));
    expect(station.logons).toHaveLength(1);

    const file = r.lab.returns;
    expect(await hbxh(file)).toEqual(range(7));
    const rows = await readReturnFile(file);
    expect(fieldBytes(file, 2, 'CJJG').trim()).toBe(''); // no value, never a false 0
    expect(fieldBytes(file, 3, 'CJJG').trim()).toBe('');
    expect(rows[1]).toMatchObject({ CJSL: 100, CJBH: 'F2' });
    expect(rows[3]).toMatchObject({ JYDY: '', LSH: '4' });
    expect(rows[4]).toMatchObject({ HBRQ: today, LSH: '5' });
    expect(rows[5]).toMatchObject({ ZQDM: '', CWXX: '拒绝  [31m原因', CWDM: 'E009' });
    expect(
      readFileSync(file)
        .subarray(NQHB_LAYOUT.headerLength, -1)
        .some((b) => b < 0x20),
    ).toBe(false);

    // The raw values, synced before the rows were acknowledged.
    const kept = readFileSync(path.join(r.lab.stateDir, 'unfit-returns', `${today}.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { HBXH: number; issues: { field: string; raw: unknown }[]; body: unknown },
      );
    expect(kept.map((k) => k.HBXH)).toEqual([2, 3, 4, 5, 6]);
    expect(kept[0]!.issues).toMatchObject([{ field: 'CJJG', raw: 'abc', kind: 'blanked' }]);
    expect(kept[1]!.issues).toMatchObject([{ field: 'CJJG', raw: 123456789.5 }]);
    expect(kept[2]!.issues).toMatchObject([{ field: 'JYDY', raw: '7299001' }]);
    expect(kept[3]!.issues).toMatchObject([{ field: 'HBRQ', kind: 'filled', written: today }]);
    expect(kept[4]!.body).toMatchObject({ CWXX: '拒绝\u0001\u001b[31m原因', ZQDM: '43\n001' });

    // Loud: one critical line per unfit field, naming HBXH, the field and the raw value.
    const loud = coded(r, 'NQ540').map((l) => l.text);
    expect(loud).toHaveLength(5);
    expect(loud[0]).toMatch(/回报序号 2 \(交易单元 "729900" 流水号 "2"\) 字段 CJJG .*"abc"/);
    expect(loud[2]).toMatch(/回报序号 4 \(交易单元 "7299001" 流水号 "4"\) 字段 JYDY .*"7299001"/);
    expect(loud.join('\n')).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(coded(r, 'NQ541')).toHaveLength(1); // control characters in the free text
    expect(coded(r, 'NQ206')).toEqual([]);
    expect(r.gateway.status().returns).toBe(7);
  });

  it('a numeric JYDY, an object LSH and HBLB 9 are written once with the raw kept, and the returns after them too, on one logon', async () => {
    const r = await rig();
    const { today, station } = r;
    station.add([
      confirmation(today, 1),
      confirmation(today, 2, { JYDY: 729900 }),
      confirmation(today, 3, { LSH: { n: 3 } }),
      confirmation(today, 4, { HBLB: '9' }),
      confirmation(today, 5),
      confirmation(today, 6, { HBLB: '2', CJBH: 'F6', CJJG: 10.5, CJSL: 100 }),
    ]);
    // The old link refused HBXH 2 as a protocol error: 1 written, then a logon after logon.
    await waitUntil(() => station.maxAck === 6, 'all six acknowledged', 10_000);
    await new Promise((res) => setTimeout(res, 1500));
    expect(station.logons).toHaveLength(1);
    expect(coded(r, 'NQ393')).toEqual([]);

    const file = r.lab.returns;
    expect(await hbxh(file)).toEqual(range(6));
    const rows = await readReturnFile(file);
    expect(rows[1]).toMatchObject({ JYDY: '', LSH: '2', HBLB: '0' });
    expect(rows[2]).toMatchObject({ JYDY: '729900', LSH: '', HBLB: '0' });
    expect(rows[3]).toMatchObject({ JYDY: '729900', LSH: '4', HBLB: '' });
    expect(fieldBytes(file, 4, 'HBLB')).toBe(' ');
    expect(rows[5]).toMatchObject({ HBLB: '2', CJBH: 'F6', CJJG: 10.5, CJSL: 100 });

    const kept = readFileSync(path.join(r.lab.stateDir, 'unfit-returns', `${today}.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { HBXH: number; issues: { field: string; raw: unknown }[]; body: unknown },
      );
    expect(kept.map((k) => k.HBXH)).toEqual([2, 3, 4]); // each once
    expect(kept[0]!.issues).toMatchObject([{ field: 'JYDY', raw: 729900, written: '' }]);
    expect(kept[1]!.issues).toMatchObject([{ field: 'LSH', raw: { n: 3 }, written: '' }]);
    expect(kept[2]!.issues).toMatchObject([{ field: 'HBLB', raw: '9', written: '', kind: 'blanked' }]);
    expect(kept[1]!.body).toMatchObject({ LSH: { n: 3 } });

    const loud = coded(r, 'NQ540').map((l) => l.text);
    expect(loud).toHaveLength(3);
    expect(loud[0]).toMatch(/回报序号 2 .*字段 JYDY .*729900/);
    expect(loud[1]).toMatch(/回报序号 3 .*字段 LSH .*\{"n":3\}/);
    expect(loud[2]).toMatch(/回报序号 4 .*字段 HBLB .*"9"/);
    expect(r.alerts.active().map((a) => a.code)).toContain('RETURN_UNFIT');
    // Counted as returns; the unknown kind is neither accepted nor rejected.
    expect(r.gateway.status().returns).toBe(6);
  });

  it('an HBXH that cannot be placed drops the link with NQ542 "call the main station", on a backoff, and the rows before it are written', async () => {
    const r = await rig();
    const { today, station } = r;
    const rows = [
      { ...confirmation(today, 1), HBXH: 1 },
      { ...confirmation(today, 2), HBXH: 'two' },
      { ...confirmation(today, 3), HBXH: 3 },
    ];
    station.returnsAfter = (last) => rows.filter((x) => typeof x.HBXH !== 'number' || x.HBXH > last);
    r.gateway.reconnect('test: send the unplaceable return');
    await waitUntil(() => coded(r, 'NQ542').length >= 2, 'refused again after the next logon', 15_000);
    // Row 1 came in the same chunk before the bad one: written, and the next logon says so.
    expect(station.logons.at(-1)!.body.lastReturnSeq).toBe(1);
    const from = Date.now();
    await new Promise((res) => setTimeout(res, 4000));
    // Backoff, not a loop: 0.5 s, 1 s, 2 s, 4 s ... with jitter (the unbounded loop: hundreds).
    expect(station.logons.filter((l) => l.at >= from).length).toBeLessThanOrEqual(5);
    const said = coded(r, 'NQ542')[0]!;
    expect(said.level).toBe('error');
    expect(said.text).toMatch(/HBXH.*"two".*请致电主站/);
    const alert = r.alerts.active().find((a) => a.code === 'RETURN_UNPLACEABLE');
    expect(alert).toMatchObject({ severity: 'critical', vendorCode: 'NQ542' });
    expect(alert!.action).toMatch(/Call the main station/);
    expect(await hbxh(r.lab.returns)).toEqual([1]);

    // The main station corrects the return: the next logon (on the backoff, no restart) writes on.
    rows[1]!.HBXH = 2;
    await waitUntil(() => station.maxAck === 3, 'rows 2 and 3 written after the correction', 20_000);
    expect(await hbxh(r.lab.returns)).toEqual([1, 2, 3]);
  }, 40_000);

  it('a main station that answers every resync with the same gap gets resyncs on a backoff, not a loop', async () => {
    const r = await rig();
    const { today, station } = r;
    // Whatever the gateway holds, the station sends 1, 2 and then 4: 3 never comes.
    const rows = [1, 2, 4].map((n) => ({ ...confirmation(today, n), HBXH: n }));
    station.returnsAfter = (last) => rows.filter((x) => (x.HBXH as number) > last);
    station.add([]); // nothing on the first session until it logs on again
    r.gateway.reconnect('test: start the gap');
    await waitUntil(() => station.maxAck === 2, 'rows 1 and 2 written');
    const from = Date.now();
    await new Promise((res) => setTimeout(res, 3500));
    const logons = station.logons.filter((l) => l.at >= from).length;
    // Immediately, then after 1 s and 2 s: at most 3 in 3.5 s (the old code: hundreds).
    expect(logons).toBeGreaterThanOrEqual(1);
    expect(logons).toBeLessThanOrEqual(4);
    expect(coded(r, 'NQ724').length).toBeGreaterThanOrEqual(1);
    expect(await hbxh(r.lab.returns)).toEqual([1, 2]);
  });
});

describe('NQHB.DBF on a full file system', () => {
  it('holds the returns unacknowledged, retries on a backoff, and writes every one exactly once when space is back', async () => {
    const mnt = mountTmpfs(64);
    const file = path.join(mnt, 'NQHB.DBF');
    const r = await rig(file);
    const { today, station } = r;
    station.add(range(40).map((n) => confirmation(today, n)));
    await waitUntil(() => station.maxAck === 40, 'the first 40 written');

    const filler = fillUp(mnt);
    // Returns keep coming: the first ones after the filler may still fit in the file's last page.
    let n = 40;
    const feed = setInterval(() => {
      n += 5;
      station.add(range(5).map((i) => confirmation(today, n - 5 + i)));
    }, 100);
    try {
      await waitUntil(() => coded(r, 'NQ206').length > 0, 'the write failure reported', 10_000);
      const ackAtFailure = station.maxAck;
      await waitUntil(() => coded(r, 'NQ721').length >= 1, 'a reopen attempt failed while full', 10_000);
      expect(station.maxAck).toBe(ackAtFailure); // nothing acknowledged that is not on disk
      rmSync(filler);
    } finally {
      clearInterval(feed);
    }
    const total = station.returns.length;
    await waitUntil(
      () => station.maxAck === total,
      `all ${total} acknowledged after space came back`,
      40_000,
    );
    await waitUntil(() => coded(r, 'NQ722').length === 1, 'recovery reported');
    expect(await hbxh(file)).toEqual(range(total));
    // One alert for the whole outage, and the link never rebuilt for it.
    expect(coded(r, 'NQ206')).toHaveLength(1);
    expect(coded(r, 'NQ720')).toHaveLength(1);
    expect(station.logons).toHaveLength(1);
    // At most one reopen attempt per backoff step: 1 s, 2 s, 4 s, ... (the old code: one reconnect per batch).
    expect(coded(r, 'NQ721').length).toBeLessThanOrEqual(6);
    expect(r.gateway.status().returns).toBe(total);
  }, 60_000);
});
