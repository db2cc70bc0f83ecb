import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createDbfFile, NQHB_LAYOUT, readReturnFile } from '../../../appliance/src/dbf/index.js';
import { makeLab, setIni, simReady, startGateway, startLinked, startSim } from '../../helpers/lab.js';
import { writeReturnsOfDay } from '../../helpers/returns.js';
import { runNqgw, waitUntil, type NqgwProcess } from '../../helpers/process.js';

const running: NqgwProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

describe('start-up', () => {
  it("refuses a return file holding another day's rows, in the vendor's three lines, and leaves it alone", async () => {
    const lab = await makeLab();
    await writeReturnsOfDay(lab.returns, '20200102');
    const before = readFileSync(lab.returns);
    const result = await runNqgw(['run', '--config', lab.twIni]);
    expect(result.code).toBe(3);
    const order = [
      '回报库中的记录不是今天的记录, 请删除库后重启系统!',
      '错误: 打开回报数据库失败!',
      '数据初始化失败! 系统无法正常运行!',
    ];
    const at = order.map((line) => result.output.indexOf(line));
    expect(
      at.every((i) => i >= 0),
      result.output,
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(readFileSync(lab.returns)).toEqual(before);
    expect(existsSync(`${lab.orders}.lock`), 'no lock left behind').toBe(false);
  });

  it('archives yesterday’s return file instead when archive_old_returns is set', async () => {
    const lab = await makeLab();
    await writeReturnsOfDay(lab.returns, '20200102');
    setIni(lab.twIni, 'options', 'archive_old_returns', 'true');
    await startLinked(lab, running);
    expect(readdirSync(lab.dir)).toContain('NQHB.20200102.DBF');
    expect(await readReturnFile(lab.returns)).toEqual([]);
  });

  it('never lets two gateways serve one order file', async () => {
    const lab = await makeLab();
    running.push(startSim(lab));
    await simReady(lab);
    const first = startGateway(lab);
    running.push(first);
    await first.waitFor(/欢迎使用/);
    const second = await runNqgw(['run', '--config', lab.twIni]);
    expect(second.code).toBe(3);
    expect(second.output).toMatch(/NQ705.*another gateway serves this order file/);
  });

  it('refuses a garbage order file with its name, and touches neither file', async () => {
    const lab = await makeLab();
    writeFileSync(lab.orders, Buffer.from('this is not a dBase file at all, but text someone saved here\n'));
    await createDbfFile(lab.returns, NQHB_LAYOUT, { overwrite: true });
    const returnsBefore = readFileSync(lab.returns);
    const result = await runNqgw(['run', '--config', lab.twIni]);
    expect(result.code).toBe(3);
    expect(result.output).toContain(lab.orders);
    expect(result.output).toMatch(/NQ50\d/);
    expect(readFileSync(lab.returns)).toEqual(returnsBefore);
  });

  it('refills a deleted return file from the main station at the next logon, same rows, same HBXH', async () => {
    const lab = await makeLab();
    const linked = await startLinked(lab, running);
    const admin = linked.admin;
    let gateway = linked.gateway;
    expect((await runNqgw(['feed', '--config', lab.twIni, '--count', '40'])).code).toBe(0);
    await waitUntil(async () => (await readReturnFile(lab.returns)).length === 80, '80 returns');
    const original = await readReturnFile(lab.returns);
    expect(await gateway.stop()).toBe(0);

    rmSync(lab.returns);
    gateway = startGateway(lab);
    running.push(gateway);
    await waitUntil(
      async () => existsSync(lab.returns) && (await readReturnFile(lab.returns)).length === 80,
      'refilled',
    );
    expect(await readReturnFile(lab.returns)).toEqual(original);
    expect((await admin.station(lab.station)).ordersTaken).toBe(40);
  });

  it('shows the main station’s notice and quit for a unit that is not of this station, and keeps trying', async () => {
    const lab = await makeLab();
    setIni(lab.twIni, 'station', 'units', '729900,729901,729999');
    running.push(startSim(lab));
    await simReady(lab);
    const gateway = startGateway(lab);
    running.push(gateway);
    await gateway.waitFor(/主站特别提示: 交易单元729999不属于本小站，请检查配置文件/);
    await gateway.waitFor(/收到quit包, 连接中断/);
    await waitUntil(async () => {
      const s = JSON.parse((await runNqgw(['status', '--config', lab.twIni, '--json'])).output) as {
        notice: string;
        linkState: string;
      };
      return s.notice.includes('交易单元729999不属于本小站') && s.linkState !== '正常';
    }, 'notice on the status screen');
    expect(existsSync(path.join(lab.stateDir, 'LINKDOWN.FLG')), 'link-down flag file while refused').toBe(
      true,
    );
  });
});
