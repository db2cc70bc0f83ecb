import { afterEach, describe, expect, it } from 'vitest';
import {
  OrderFileAppender,
  OrderFileReader,
  readOrderFile,
  readReturnFile,
} from '../../../appliance/src/dbf/index.js';
import { makeOrder } from '../../../appliance/src/lab/index.js';
import { makeLab, setIni, simReady, startGateway, startSim } from '../../helpers/lab.js';
import { runNqgw, waitUntil, type NqgwProcess } from '../../helpers/process.js';

const running: NqgwProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

/**
 * The gateway's own checks and the main station's rejections, each with the vendor's words on
 * the operator log and an outcome in the files the broker's program reads.
 */
describe('order checks and rejections', () => {
  it('refuses, retries and reports each bad order in the vendor words, and sends the good ones', async () => {
    const lab = await makeLab();
    setIni(lab.twIni, 'options', 'invalid_flag_retry_s', '2');
    running.push(startSim(lab));
    const admin = await simReady(lab);
    await admin.post('/securities/832000/suspend');
    const gateway = startGateway(lab);
    running.push(gateway);
    await gateway.waitFor(/小站端与服务器连接成功/);

    const now = Date.now();
    const appender = await OrderFileAppender.open(lab.orders);
    await appender.append([
      makeOrder('729900', 1, now), // 1 good
      makeOrder('111111', 2, now), // 2 unit not configured (gateway)
      makeOrder('729900', 3, now, { WTRQ: '20200102' }), // 3 wrong date (gateway)
      makeOrder('729900', 4, now, { CLBZ: 'X' }), // 4 invalid flag, fixed by the broker before the retry
      makeOrder('729900', 5, now, { CLBZ: 'Y' }), // 5 invalid flag for good: passed over
      makeOrder('729900', 6, now, { ZQDM: '600000' }), // 6 not a listed NEEQ code
      makeOrder('729900', 7, now, { ZQDM: '832000' }), // 7 suspended
      makeOrder('729900', 8, now, { YWLB: 'ZZ', ZQDM: '830001' }), // 8 illegal business type
      makeOrder('729900', 1, now), // 9 repeated serial number
    ]);
    await appender.close();

    await gateway.waitFor(/委托第 2 笔交易单元 '111111' 错!/);
    await gateway.waitFor(/错误：委托第 3 笔日期 '20200102' 错!/);
    // The wait in the words is the configured one (invalid_flag_retry_s = 2), not a fixed 30.
    await gateway.waitFor(/委托第 4 笔处理标志非法, 2秒后重新处理/);
    const fixer = new OrderFileReader(lab.orders);
    await fixer.open();
    await fixer.readNew();
    await fixer.setFlags([4], '0');
    await fixer.close();
    await gateway.waitFor(/主站错单通知：委托第6笔证券代码非法\/已停牌!/);
    await gateway.waitFor(/主站错单通知：委托第7笔证券代码非法\/已停牌!/);
    await gateway.waitFor(/主站错单通知：委托第8笔为非法业务!/);
    await gateway.waitFor(/主站错单通知：委托第9笔流水号非法!/);
    await gateway.waitFor(/委托第 5 笔处理标志非法, 已跳过/, 10_000);

    await waitUntil(
      async () => (await readOrderFile(lab.orders)).every((o) => o.CLBZ !== '0' && o.CLBZ !== 'X'),
      'flags settled',
      10_000,
    );
    const flags = (await readOrderFile(lab.orders)).map((o) => o.CLBZ).join('');
    expect(flags).toBe('122' + '1' + 'Y' + '1111');

    await waitUntil(
      async () => (await readReturnFile(lab.returns)).length === 8,
      '8 returns: 2 orders confirmed and filled, 4 rejected',
      10_000,
    );
    const rows = await readReturnFile(lab.returns);
    const rejects = rows.filter((r) => r.HBLB === '1').map((r) => `${r.LSH}:${r.CWDM}`);
    expect(rejects.sort()).toEqual(['1:E001', '6:E002', '7:E002', '8:E003']);
    const taken = await admin.orders(lab.station);
    expect(taken.map((o) => o.LSH).sort()).toEqual(['1', '1', '4', '6', '7', '8']);

    await waitUntil(async () => {
      const s = JSON.parse((await runNqgw(['status', '--config', lab.twIni, '--json'])).output) as Record<
        string,
        number
      >;
      return s.rejected === 7 && s.accepted === 2 && s.sent === 6 ? s : null;
    }, 'status: 非法委托 7, 成功委托 2, 已发委托 6');

    // Issue 11: the flag of record 5 fixed after the retry gave up: it is sent, not forgotten.
    const listed = JSON.parse(
      (await runNqgw(['orders', '--unsent', '--config', lab.twIni, '--json'])).output,
    ) as { records: { recNo: number; code: string }[] };
    expect(listed.records.map((r) => `${r.recNo}:${r.code}`)).toEqual(['2:NQ401', '3:NQ402', '5:NQ404']);
    const lateFixer = new OrderFileReader(lab.orders);
    await lateFixer.open();
    await lateFixer.readNew();
    await lateFixer.setFlags([5], '0');
    await lateFixer.close();
    await gateway.waitFor(/委托第 5 笔已更正, 重新处理/, 10_000);
    await waitUntil(
      async () => (await admin.orders(lab.station)).some((o) => o.LSH === '5'),
      'record 5 taken once its flag is fixed',
      10_000,
    );
    expect((await readOrderFile(lab.orders)).map((o) => o.CLBZ).join('')).toBe('122111111');
  });
});
