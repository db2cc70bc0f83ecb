import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  formatConfigProblems,
  loadConfig,
  type ConfigProblem,
} from '../../../appliance/src/config/index.js';
import { LAB_INI, makeDir, withLine } from './helpers.js';

let tmp: ReturnType<typeof makeDir>;
beforeEach(() => {
  tmp = makeDir();
});
afterEach(() => tmp.cleanup());

function problemsOf(text: string): ConfigProblem[] {
  const file = tmp.write('tw.ini', text);
  try {
    loadConfig(file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('NQ601');
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

function onlyProblem(text: string): ConfigProblem {
  const problems = problemsOf(text);
  expect(problems, formatConfigProblems(problems)).toHaveLength(1);
  return problems[0]!;
}

describe('loadConfig: a valid lab file', () => {
  it('loads with defaults and paths resolved against the directory of tw.ini', () => {
    const cfg = loadConfig(tmp.write('tw.ini', LAB_INI));
    expect(cfg.source).toBe(join(tmp.dir, 'tw.ini'));
    expect(cfg.station).toEqual({ id: 'W888888T', units: ['729900', '729901'] });
    expect(cfg.files).toEqual({
      orders: join(tmp.dir, 'NQWT.DBF'),
      returns: join(tmp.dir, 'NQHB.DBF'),
      stateDir: join(tmp.dir, 'state'),
    });
    expect(cfg.servers).toEqual([{ host: '127.0.0.1', port: 7043, name: 'lab simulator' }]);
    expect(cfg.tls).toEqual({
      mode: 'file',
      ca: join(tmp.dir, 'ca.pem'),
      cert: join(tmp.dir, 'station.crt'),
      key: join(tmp.dir, 'station.key'),
      serverName: 'mainstation',
    });
    expect(cfg.link).toEqual({
      heartbeatMs: 10_000,
      silenceMs: 20_000,
      connectTimeoutMs: 5_000,
      backoffInitialMs: 500,
      backoffMaxMs: 10_000,
      primaryRetryS: 300,
      answerTimeoutMs: 10_000,
    });
    expect(cfg.options).toEqual({
      noFills: false,
      linkDownFlag: null,
      timeFile: null,
      timeFileIntervalS: 5,
      autoExit: null,
      archiveOldReturns: false,
      sendBlockWarnMs: 15_000,
      invalidFlagRetryS: 30,
    });
    expect(cfg.management).toEqual({
      host: '127.0.0.1',
      port: 9300,
      tokenFile: join(tmp.dir, 'api.token'),
      requireChecker: false, // two-person duty is opt-in
    });
    expect(cfg.extra).toEqual({ clock: { servers: '127.0.0.1:11123' } });
  });

  it("reads every optional key, orders servers by number and passes other rooms' sections through", () => {
    mkdirSync(join(tmp.dir, 'run'));
    const text = [
      LAB_INI,
      '[link]',
      'heartbeat_ms = 2000',
      'silence_ms = 5000',
      'primary_retry_s = 60',
      '[options]',
      'no_fills = yes',
      'link_down_flag = run/LINKDOWN.FLG',
      'time_file = state/TIME.TXT', // inside state_dir, which the gateway creates
      'auto_exit = 15:40',
      '[management]',
      'listen = 0.0.0.0:9400',
      'alert_webhook = https://alerts.example/nqgw?team=ops',
      '[ekey]',
      'module = /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so',
      '[soft]',
      'ledger = soft.json',
    ]
      .join('\n')
      .replace('server1 = 127.0.0.1:7043', 'server3 = gw.example:7045\nserver1 = 127.0.0.1:7043');
    const cfg = loadConfig(tmp.write('tw.ini', text));
    expect(cfg.servers.map((s) => `${s.name}=${s.host}:${s.port}`)).toEqual([
      'lab simulator=127.0.0.1:7043',
      'server3=gw.example:7045',
    ]);
    expect(cfg.link.heartbeatMs).toBe(2000);
    expect(cfg.link.silenceMs).toBe(5000);
    expect(cfg.options.noFills).toBe(true);
    expect(cfg.options.linkDownFlag).toBe(join(tmp.dir, 'run', 'LINKDOWN.FLG'));
    expect(cfg.options.timeFile).toBe(join(tmp.dir, 'state', 'TIME.TXT'));
    expect(cfg.options.autoExit).toBe(15 * 60 + 40);
    expect(cfg.management.host).toBe('0.0.0.0');
    expect(cfg.management.alertWebhook).toBe('https://alerts.example/nqgw?team=ops');
    expect(cfg.extra['ekey']).toEqual({ module: '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so' });
    expect(cfg.extra['soft']).toEqual({ ledger: 'soft.json' });
  });

  it('refuses an alert_webhook that is not an http(s) URL, naming the line', () => {
    const p = onlyProblem(
      `${LAB_INI}\n[management]\nalert_webhook = ftp://alerts.example/hook?token=s3cret\n`,
    );
    expect(p.key).toBe('alert_webhook');
    expect(p.message).toContain("not an http(s) URL: 'ftp://alerts…'");
    expect(p.message).not.toContain('s3cret'); // a token in the URL stays out of the error
  });

  it('reads require_checker (two-person duty) as a bool: yes, YES, on, 1 and no', () => {
    for (const [text, want] of [
      ['yes', true],
      ['YES', true],
      ['on', true],
      ['1', true],
      ['no', false],
    ] as const) {
      const cfg = loadConfig(tmp.write('tw.ini', `${LAB_INI}\n[management]\nrequire_checker = ${text}\n`));
      expect(cfg.management.requireChecker, text).toBe(want);
    }
  });

  it('refuses a require_checker that is not a bool, naming the line', () => {
    const p = onlyProblem(`${LAB_INI}\n[management]\nrequire_checker = two\n`);
    expect(p).toMatchObject({ line: 24, key: 'require_checker', message: '"two" is not true or false' });
    expect(p.hint).toBe('write true or false, or delete the line for the default false');
  });

  it('accepts ekey mode without certificate files', () => {
    const text = withLine(15, 'mode = ekey').replace(/^(ca|cert|key) = .*$/gm, '');
    expect(loadConfig(tmp.write('tw.ini', text)).tls.mode).toBe('ekey');
  });
});

describe('loadConfig: each problem on its line', () => {
  it("a trading unit that is not six digits, in the operator's words", () => {
    const file = tmp.write('tw.ini', withLine(4, 'units = 729900,72990'));
    try {
      loadConfig(file);
      throw new Error('loaded');
    } catch (err) {
      expect(formatConfigProblems(err as ConfigError)).toBe(
        `${file}:4 [station] units: "72990" is not a six-digit trading unit — ` +
          'write units as six digits separated by commas, e.g. 729900,729901',
      );
    }
  });

  const cases: [string, number, string, string, string | null, RegExp][] = [
    ['malformed line', 5, 'this is not ini', 'station', null, /cannot read the line "this is not ini"/],
    ['duplicate unit', 4, 'units = 729900,729900', 'station', 'units', /729900 is listed twice/],
    ['empty unit', 4, 'units = 729900,', 'station', 'units', /empty item/],
    ['station id', 3, 'id = 888888', 'station', 'id', /"888888" is not a station id/],
    ['unknown key', 5, 'colour = blue', 'station', 'colour', /^unknown key$/],
    ['misplaced key', 5, 'heartbeat_ms = 100', 'station', 'heartbeat_ms', /belongs in \[link\]/],
    ['bad IPv4', 11, 'server1 = 172.50.101.300:7043', 'servers', 'server1', /not a valid IPv4 address/],
    ['port 0', 11, 'server1 = 127.0.0.1:0', 'servers', 'server1', /port 0 is outside 1-65535/],
    ['port 65536', 11, 'server1 = 127.0.0.1:65536', 'servers', 'server1', /outside 1-65535/],
    ['no port', 11, 'server1 = 127.0.0.1', 'servers', 'server1', /has no port/],
    [
      'bad host name',
      11,
      'server1 = main_station:7043',
      'servers',
      'server1',
      /neither an IPv4 address nor a valid host name/,
    ],
    ['name without server', 12, 'server2_name = 福田', 'servers', 'server2_name', /names server2/],
    ['tls mode', 15, 'mode = usb', 'tls', 'mode', /"usb" is not a TLS mode/],
    ['missing ca', 16, 'ca = nowhere/ca.pem', 'tls', 'ca', /does not exist/],
    [
      'orders directory',
      7,
      'orders = /no/such/dir/NQWT.DBF',
      'files',
      'orders',
      /directory \/no\/such\/dir .*does not exist/,
    ],
    ['unknown section', 20, '[clocks]', 'clocks', null, /did you mean \[clock\]/],
  ];
  for (const [name, line, text, section, key, message] of cases) {
    it(name, () => {
      const p = onlyProblem(withLine(line, text));
      expect(p).toMatchObject({ line, section, key });
      expect(p.message).toMatch(message);
      expect(p.hint.length).toBeGreaterThan(10);
    });
  }

  it('a duplicate key is reported on its first line, naming the second', () => {
    const p = onlyProblem(withLine(5, 'id = W888888T'));
    expect(p).toMatchObject({
      line: 3,
      section: 'station',
      key: 'id',
      message: 'given twice (again on line 5)',
    });
  });

  it('a lower-case station id is told to use capitals', () => {
    const p = onlyProblem(withLine(3, 'id = w888888t'));
    expect(p.hint).toBe('write it in capitals: id = W888888T');
  });

  it('numbers out of range, auto_exit, booleans and the management address', () => {
    const problems = problemsOf(
      [
        LAB_INI,
        '[link]', // 23
        'silence_ms = 30000', // 24
        'heartbeat_ms = ten', // 25
        '[options]', // 26
        'auto_exit = 25:00', // 27
        'no_fills = maybe', // 28
        'time_file_interval_s = 0', // 29
        '[management]', // 30
        'listen = 9300', // 31
      ].join('\n'),
    );
    const brief = problems.map((p) => [p.line, p.key, p.message]);
    expect(brief).toEqual([
      [24, 'silence_ms', '30000 is outside 300-29999'],
      [25, 'heartbeat_ms', '"ten" is not a whole number'],
      [27, 'auto_exit', '"25:00" is not a time written HH:MM (00:00-23:59)'],
      [28, 'no_fills', '"maybe" is not true or false'],
      [29, 'time_file_interval_s', '0 is outside 1-3600'],
      [31, 'listen', '"9300" has no port; expected host:port'],
    ]);
    expect(problems[0]!.hint).toMatch(/30 s/);
  });

  it('heartbeat must be below silence', () => {
    const p = onlyProblem(`${LAB_INI}\n[link]\nheartbeat_ms = 8000\nsilence_ms = 6000`);
    expect(p).toMatchObject({ line: 24, key: 'heartbeat_ms' });
    expect(p.message).toMatch(/not below silence_ms/);
  });

  it('no server at all', () => {
    const p = onlyProblem(withLine(11, '').replace('server1_name = lab simulator', ''));
    expect(p).toMatchObject({
      line: 10,
      section: 'servers',
      key: null,
      message: 'no main-station server is given',
    });
  });

  it('missing required keys point at the section header, or at nothing when the section is missing', () => {
    const text = withLine(3, '').replace(/\[tls\][\s\S]*?\n\n/, '');
    const problems = problemsOf(text);
    expect(problems.map((p) => [p.line, p.section, p.key, p.message])).toEqual([
      [2, 'station', 'id', 'not set'],
      [null, 'tls', 'mode', 'not set (there is no [tls] section)'],
    ]);
  });

  it('mode=file needs ca, cert and key', () => {
    const problems = problemsOf(LAB_INI.replace(/^(ca|cert|key) = .*$/gm, ''));
    expect(problems.map((p) => [p.line, p.key])).toEqual([
      [14, 'ca'],
      [14, 'cert'],
      [14, 'key'],
    ]);
  });

  it('a key before any section', () => {
    const p = onlyProblem(`units = 729900\n${LAB_INI}`);
    expect(p).toMatchObject({ line: 1, section: '', key: 'units', hint: 'move it under [station]' });
  });

  it('a file that cannot be read', () => {
    const file = join(tmp.dir, 'missing.ini');
    expect(() => loadConfig(file)).toThrow(ConfigError);
    try {
      loadConfig(file);
    } catch (err) {
      expect((err as ConfigError).problems[0]).toMatchObject({
        file,
        line: null,
        message: 'cannot read the file (ENOENT)',
      });
    }
  });
});

describe('loadConfig: did you mean', () => {
  it('suggests the key a typo was meant to be', () => {
    const p = onlyProblem(`${LAB_INI}\n[link]\nhearbeat_ms = 10000`);
    expect(p).toMatchObject({ line: 24, section: 'link', key: 'hearbeat_ms' });
    expect(p.message).toBe('unknown key; did you mean "heartbeat_ms"?');
    expect(p.hint).toBe('rename it to heartbeat_ms, or delete the line');
  });
  it('suggests units for unit (and says units is then not set)', () => {
    const problems = problemsOf(withLine(4, 'unit = 729900'));
    expect(problems.map((p) => [p.line, p.key, p.message])).toEqual([
      [2, 'units', 'not set'],
      [4, 'unit', 'unknown key; did you mean "units"?'],
    ]);
  });
  it('suggests server1 for sever1, and a section for a misspelt header', () => {
    const problems = problemsOf(withLine(11, 'sever1 = 127.0.0.1:7043').replace('[files]', '[file]'));
    expect(problems.map((p) => [p.line, p.section, p.key, p.message])).toEqual([
      [6, 'file', null, 'unknown section; did you mean [files]?'],
      [11, 'servers', 'sever1', 'unknown key; did you mean "server1"?'],
      [12, 'servers', 'server1_name', 'names server1, which is not given'],
      [null, 'files', 'orders', 'not set (there is no [files] section)'],
      [null, 'files', 'returns', 'not set (there is no [files] section)'],
    ]);
  });
});
