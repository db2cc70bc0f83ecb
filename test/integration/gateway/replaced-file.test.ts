import { afterEach, describe, expect, it } from 'vitest';
import { renameSync } from 'node:fs';
import path from 'node:path';
import {
  createDbfFile,
  NQWT_LAYOUT,
  OrderFileAppender,
  readOrderFile,
  readReturnFile,
} from '../../../appliance/src/dbf/index.js';
import { makeLab, setIni, startLinked } from '../../helpers/lab.js';
import { runNqgw, waitUntil, type NqgwProcess } from '../../helpers/process.js';
import { expectExactlyOnce } from '../../helpers/checks.js';

const running: NqgwProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

describe('the order file replaced under a running gateway', () => {
  it('reopens it, sends only what is new, and re-flags the orders it had already sent', async () => {
    const lab = await makeLab();
    const { admin, gateway } = await startLinked(lab, running);
    expect((await runNqgw(['feed', '--config', lab.twIni, '--count', '20'])).code).toBe(0);
    await waitUntil(async () => (await admin.station(lab.station)).ordersTaken === 20, '20 taken');

    // The broker's program restores its own copy: the same 20 orders, flags back at '0', plus 10 new.
    const sent = await readOrderFile(lab.orders);
    const copy = path.join(lab.dir, 'NQWT.copy');
    await createDbfFile(copy, NQWT_LAYOUT);
    const appender = await OrderFileAppender.open(copy);
    await appender.append(sent.map((o) => ({ ...o, CLBZ: '0' })));
    await appender.close();
    renameSync(copy, lab.orders);
    await gateway.waitFor(/NQ502/);
    await gateway.waitFor(/委托库已被替换, 已重新打开/);
    expect((await runNqgw(['feed', '--config', lab.twIni, '--count', '10'])).code).toBe(0);

    await waitUntil(async () => (await readReturnFile(lab.returns)).length === 60, '60 returns');
    await waitUntil(
      async () => (await readOrderFile(lab.orders)).every((o) => o.CLBZ === '1'),
      'all flagged',
    );
    expect(await gateway.stop()).toBe(0);
    await expectExactlyOnce(lab, admin, 30);
  });

  it('不接受成交: with no_fills the main station sends confirmations and no fills', async () => {
    const lab = await makeLab();
    setIni(lab.twIni, 'options', 'no_fills', 'true');
    const { admin } = await startLinked(lab, running);
    expect((await runNqgw(['feed', '--config', lab.twIni, '--count', '10'])).code).toBe(0);
    await waitUntil(async () => (await admin.station(lab.station)).ordersTaken === 10, '10 taken');
    await waitUntil(async () => (await readReturnFile(lab.returns)).length === 10, '10 returns');
    expect((await readReturnFile(lab.returns)).map((r) => r.HBLB)).toEqual(Array(10).fill('0'));
    expect((await admin.station(lab.station)).returns, 'the main station made no fill returns').toBe(10);
  });
});
