import iconv from 'iconv-lite';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeLab } from '../../helpers/lab.js';
import { NqgwProcess, runNqgw } from '../../helpers/process.js';

const running: NqgwProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

/**
 * A tw.ini edited on Windows and saved as GBK (ANSI, code page 936), with Chinese server names
 * and comments: read as GBK and said so by `config check`, never shown garbled; bytes that are
 * neither UTF-8 nor GBK are refused with the line.
 */
async function labWithGbkIni(): Promise<{ twIni: string; orders: string }> {
  const lab = await makeLab();
  const text = readFileSync(lab.twIni, 'utf8')
    .replace('[servers]\n', '[servers]\n; 主站地址 (增值业务网专线)\n')
    .replace(/^(server1 = .*)$/m, '$1\nserver1_name = 南方卫星');
  writeFileSync(lab.twIni, iconv.encode(text, 'gbk'));
  return lab;
}

describe('tw.ini saved as GBK', () => {
  it('config check reads it as GBK, says so, and shows the names as written', async () => {
    const lab = await labWithGbkIni();
    const r = await runNqgw(['config', 'check', lab.twIni]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('1 server: 南方卫星 127.0.0.1:');
    expect(r.output).toMatch(/^encoding: GBK \[NQ250\]/m);
    expect(r.output).not.toContain('\uFFFD');
  });

  it('the other commands read it too (feed appends to the configured order file)', async () => {
    const lab = await labWithGbkIni();
    const r = await runNqgw(['feed', '--count', '2', '--config', lab.twIni]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain(`appended 2 orders to ${lab.orders}`);
  });

  it('nqgw run says in its log that it read tw.ini as GBK', async () => {
    const lab = await labWithGbkIni();
    const gateway = new NqgwProcess(['run', '--config', lab.twIni]);
    running.push(gateway);
    await gateway.waitFor(/"text":"tw.ini 按 GBK 编码读取: [^"]+","code":"NQ250"/);
    await gateway.waitFor(/欢迎使用股转系统交易网关/);
  });

  it('a UTF-8 tw.ini is said to be UTF-8', async () => {
    const lab = await makeLab();
    const r = await runNqgw(['config', 'check', lab.twIni]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/^encoding: UTF-8$/m);
  });

  it('bytes that are neither UTF-8 nor GBK are refused with the line, not read garbled', async () => {
    const lab = await makeLab();
    const text = readFileSync(lab.twIni, 'utf8');
    const at = text.split('\n').findIndex((l) => l.startsWith('server1 ')) + 1;
    const cut = text.indexOf('\n', text.indexOf('server1 = '));
    // An inline comment of bytes no encoding makes text of (0xFF is neither UTF-8 nor a GBK lead byte).
    const bytes = [Buffer.from(text.slice(0, cut)), Buffer.from([0x20, 0x3b, 0x20, 0xff, 0xfe, 0xff])];
    writeFileSync(lab.twIni, Buffer.concat([...bytes, Buffer.from(text.slice(cut))]));
    for (const args of [
      ['config', 'check', lab.twIni],
      ['status', '--config', lab.twIni],
    ]) {
      const r = await runNqgw(args);
      expect(r.code, r.output).toBe(2);
      expect(r.output).toContain(`${lab.twIni}:${at}`);
      expect(r.output).toContain('[NQ251] the line is neither UTF-8 nor GBK text');
    }
  });
});
