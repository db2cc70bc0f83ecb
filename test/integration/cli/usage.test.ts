import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeLab, setIni } from '../../helpers/lab.js';
import { runNqgw } from '../../helpers/process.js';
import { writeReturnsOfDay } from '../../helpers/returns.js';
import { tempDir } from '../../helpers/tempdir.js';

/**
 * The operator CLI never surprises (issue 13 section 4): a wrong call exits 2 with one line and at
 * most a hint line, no stack trace, each problem said once; tw.ini is found without --config
 * ($NQGW_CONFIG, else /etc/nqgw/tw.ini) and the refusal names what was tried. Real `nqgw`
 * processes (the built CLI), real files.
 */

/** No JavaScript stack frame in what the operator sees. */
const STACK = /^\s+at .+[(:]\d+/m;

/** Lines of output that are not blank. */
function lines(output: string): string[] {
  return output.split('\n').filter((l) => l.trim() !== '');
}

/** An environment without NQGW_CONFIG, whatever the test runner's has. */
const NO_ENV = { NQGW_CONFIG: '' };

describe('usage errors: exit 2, one line and a hint, no stack trace', () => {
  it.each([
    [['feed', '--count', 'abc'], /--count <n>' argument 'abc' is invalid/],
    [['feed', '--count', '0'], /--count <n>' argument '0' is invalid/],
    [['feed', '--count', '5', '--rate', 'fast'], /--rate <r>' argument 'fast' is invalid/],
    [['logs', 'tail', '-n', 'ten'], /--lines <n>' argument 'ten' is invalid/],
    [['status', '--confg', 'x'], /unknown option '--confg'/],
    [['stauts'], /unknown command 'stauts'/],
    [['archive', '--date', '2026-01-05'], /argument '2026-01-05' is invalid. expected a date as YYYYMMDD/],
    [['orders'], /\[NQ523\] nqgw orders needs --unsent/],
  ])('nqgw %j', async (args, words) => {
    const lab = await makeLab();
    const r = await runNqgw([...args, '--config', lab.twIni], NO_ENV);
    expect(r.code, r.output).toBe(2);
    expect(r.output).toMatch(words);
    expect(r.output).not.toMatch(STACK);
    expect(lines(r.output).length, r.output).toBeLessThanOrEqual(2);
    expect(existsSync(`${lab.orders}.lock`)).toBe(false);
  });

  it('archive without object storage: one line naming [logs], exit 2', async () => {
    const lab = await makeLab(); // the lab's [logs] has no endpoint/bucket without --s3-endpoint
    const r = await runNqgw(['archive', '--config', lab.twIni], NO_ENV);
    expect(r.code, r.output).toBe(2);
    expect(lines(r.output)[0]).toMatch(
      /^\[NQ914\] nowhere to archive to: \[logs\] in .*tw\.ini has no endpoint/,
    );
    expect(lines(r.output).length).toBe(2);
    expect(r.output).not.toMatch(STACK);
  });

  it('a tw.ini that does not exist: NQ911 naming it, for every command that reads tw.ini', async () => {
    const missing = path.join(tempDir('nqgw-usage-'), 'tw.ini');
    for (const args of [
      ['status'],
      ['run'],
      ['feed', '--count', '1'],
      ['alerts'],
      ['cutover'],
      ['softkey', 'status'],
    ]) {
      const r = await runNqgw([...args, '--config', missing], NO_ENV);
      expect(r.code, `${args.join(' ')}: ${r.output}`).toBe(2);
      expect(lines(r.output)[0]).toBe(`[NQ911] --config ${missing}: does not exist`);
      expect(lines(r.output).length).toBe(2);
    }
  });
});

describe('the default tw.ini', () => {
  it('nqgw status without --config and no NQGW_CONFIG: exit 2 naming what it tried, not 1 "degraded"', async () => {
    // The test host has no /etc/nqgw/tw.ini (an appliance image would): skip the claim if it does.
    if (existsSync('/etc/nqgw/tw.ini')) return;
    const r = await runNqgw(['status'], NO_ENV);
    expect(r.code, r.output).toBe(2);
    expect(lines(r.output)).toEqual([
      '[NQ913] no tw.ini: --config not given, NQGW_CONFIG not set, and /etc/nqgw/tw.ini does not exist',
      '  -> give --config FILE, or export NQGW_CONFIG=FILE',
    ]);
  });

  it('NQGW_CONFIG names tw.ini when --config is not given; a wrong one is named', async () => {
    const lab = await makeLab();
    const fed = await runNqgw(['feed', '--count', '3'], { NQGW_CONFIG: lab.twIni });
    expect(fed.code, fed.output).toBe(0);
    expect(fed.output).toContain(`appended 3 orders to ${lab.orders}`);
    const listed = await runNqgw(['orders', '--unsent', '--json'], { NQGW_CONFIG: lab.twIni });
    expect(listed.code, listed.output).toBe(0);

    const wrong = `${lab.twIni}.nope`;
    const r = await runNqgw(['status'], { NQGW_CONFIG: wrong });
    expect(r.code).toBe(2);
    expect(lines(r.output)[0]).toBe(`[NQ912] NQGW_CONFIG=${wrong} (no --config given): does not exist`);
    // --config wins over the environment.
    const both = await runNqgw(['feed', '--count', '1', '--config', lab.twIni], { NQGW_CONFIG: wrong });
    expect(both.code, both.output).toBe(0);
  });

  it('the help says the default', async () => {
    const r = await runNqgw(['status', '--help'], NO_ENV);
    expect(r.code).toBe(0);
    expect(r.output.replace(/\s+/g, ' ')).toContain(
      '--config <file> tw.ini (default: $NQGW_CONFIG, else /etc/nqgw/tw.ini)',
    );
  });
});

describe('problems are said once', () => {
  it.each([['run'], ['status'], ['feed', '--count', '1']])('nqgw %j with a wrong tw.ini', async (...args) => {
    const lab = await makeLab();
    setIni(lab.twIni, 'station', 'units', '72990');
    const r = await runNqgw([...args, '--config', lab.twIni], NO_ENV);
    expect(r.code, r.output).toBe(2);
    const said = r.output.split('"72990" is not a six-digit trading unit').length - 1;
    expect(said, r.output).toBe(1);
    expect(r.output).toMatch(/^\[NQ601\] 1 problem in /);
    expect(r.output).not.toMatch(STACK);
  });

  it("nqgw run refused at start-up: the vendor's three lines, each once, exit 3", async () => {
    const lab = await makeLab();
    await writeReturnsOfDay(lab.returns, '20200102');
    const r = await runNqgw(['run', '--config', lab.twIni], NO_ENV);
    expect(r.code, r.output).toBe(3);
    for (const words of [
      '回报库中的记录不是今天的记录, 请删除库后重启系统!',
      '错误: 打开回报数据库失败!',
      '数据初始化失败! 系统无法正常运行!',
    ]) {
      expect(r.output.split(words).length - 1, `${words} in:\n${r.output}`).toBe(1);
    }
  });
});

describe('nqgw lab init over an existing lab', () => {
  it('refuses without --force and leaves the lab as it was; --force rewrites it', async () => {
    const dir = path.join(tempDir('nqgw-lab-init-'), 'lab');
    const first = await runNqgw(['lab', 'init', dir]);
    expect(first.code, first.output).toBe(0);
    const twIni = readFileSync(path.join(dir, 'tw.ini'), 'utf8');
    const labJson = readFileSync(path.join(dir, 'lab.json'), 'utf8');

    const again = await runNqgw(['lab', 'init', dir]);
    expect(again.code, again.output).toBe(2);
    expect(lines(again.output)[0]).toBe(
      `[NQ915] ${dir} already holds a lab (lab.json, tw.ini, sim.ini): lab init would give it new ports, certificates and tw.ini`,
    );
    expect(lines(again.output)[1]).toMatch(/add --force/);
    expect(readFileSync(path.join(dir, 'tw.ini'), 'utf8')).toBe(twIni);
    expect(readFileSync(path.join(dir, 'lab.json'), 'utf8')).toBe(labJson);

    const forced = await runNqgw(['lab', 'init', dir, '--force']);
    expect(forced.code, forced.output).toBe(0);
    expect(forced.output).toMatch(/ports: {5}simulator \d+, simulator admin \d+, management \d+/);
    expect(readFileSync(path.join(dir, 'lab.json'), 'utf8')).not.toBe(labJson);
  });

  it('a directory without a lab in it is fine', async () => {
    const dir = tempDir('nqgw-lab-init-');
    writeFileSync(path.join(dir, 'notes.txt'), 'not a lab\n');
    const r = await runNqgw(['lab', 'init', dir]);
    expect(r.code, r.output).toBe(0);
  });
});
