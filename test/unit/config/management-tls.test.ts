import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, isLoopbackHost, loadConfig } from '../../../appliance/src/config/index.js';
import { LAB_INI, makeDir } from './helpers.js';

let tmp: ReturnType<typeof makeDir>;
beforeEach(() => {
  tmp = makeDir();
});
afterEach(() => tmp.cleanup());

const load = (management: string) =>
  loadConfig(tmp.write('tw.ini', `${LAB_INI}\n[management]\n${management}\n`));

describe('[management] tls: HTTPS wherever the API is reachable from another host', () => {
  it('is off on loopback unless asked for, with api.crt and api.key in the state directory when on', () => {
    expect(load('listen = 127.0.0.1:9300').management.tls).toBeUndefined();
    expect(load('listen = 127.0.0.1:9300\ntls = yes').management.tls).toEqual({
      cert: join(tmp.dir, 'state', 'api.crt'),
      key: join(tmp.dir, 'state', 'api.key'),
    });
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '10.20.0.11', '::'].some(isLoopbackHost)).toBe(false);
  });

  it('is on by default on any other address, and tls = no there is a named problem', () => {
    expect(load('listen = 10.20.0.11:9300').management.tls).toEqual({
      cert: join(tmp.dir, 'state', 'api.crt'),
      key: join(tmp.dir, 'state', 'api.key'),
    });
    expect(load('listen = 0.0.0.0:9300\ntls_cert = a.crt').management.tls?.cert).toBe(join(tmp.dir, 'a.crt'));
    expect(() => load('listen = 0.0.0.0:9300\ntls_key = nodir/a.key')).toThrow(/tls_key: the directory/);
    let problem: ConfigError | undefined;
    try {
      load('listen = 10.20.0.11:9300\ntls = no');
    } catch (err) {
      problem = err as ConfigError;
    }
    expect(problem?.problems).toHaveLength(1);
    expect(problem?.problems[0]).toMatchObject({ section: 'management', key: 'tls' });
    expect(problem?.problems[0]?.message).toMatch(/would cross the network in clear/);
  });
});
