import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  listTemplates,
  loadConfig,
  parseIni,
  renderTemplate,
  TEMPLATE_VALUES,
  TemplateError,
  templatesDir,
} from '../../../appliance/src/config/index.js';
import { makeDir } from './helpers.js';

let tmp: ReturnType<typeof makeDir>;
beforeEach(() => {
  tmp = makeDir();
  mkdirSync(join(tmp.dir, 'dbf'));
  mkdirSync(join(tmp.dir, 'etc'));
});
afterEach(() => tmp.cleanup());

/** The document Terraform passes through cloud-init, with paths that exist in the temp dir. */
function cloudValues(): Record<string, unknown> {
  return {
    station: 'W888888T',
    units: ['729900', '729901'],
    orders: join(tmp.dir, 'dbf', 'NQWT.DBF'),
    returns: join(tmp.dir, 'dbf', 'NQHB.DBF'),
    state_dir: join(tmp.dir, 'state'),
    management_listen: '10.20.0.11:9300',
    management_token_file: join(tmp.dir, 'etc', 'api.token'),
    time_servers: ['100.100.0.1', '100.100.0.2:123'],
    object_storage_endpoint: 'https://oss.dr.example:9000',
    object_storage_bucket: 'nqgw-logs-dr',
    tls_mode: 'ekey',
  };
}

function errorOf(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    return err as TemplateError;
  }
  throw new Error('expected a TemplateError');
}

describe('templates', () => {
  it('lists the three templates with what each needs', () => {
    const list = listTemplates();
    expect(list.map((t) => t.name)).toEqual(['cloud-production', 'cloud-test', 'lab']);
    const prod = list.find((t) => t.name === 'cloud-production')!;
    expect(prod.required).toEqual([
      'station',
      'units',
      'orders',
      'returns',
      'management_listen',
      'time_servers',
      'object_storage_endpoint',
      'object_storage_bucket',
    ]);
    expect(list.find((t) => t.name === 'lab')!.required).toEqual([]);
  });

  it('uses only value names of the documented vocabulary', () => {
    for (const t of listTemplates()) {
      for (const key of [...t.required, ...Object.keys(t.optional)])
        expect(TEMPLATE_VALUES).toHaveProperty(key);
    }
  });

  it('cloud-production renders the four production links in order, and loads', () => {
    const file = tmp.write('tw.ini', renderTemplate('cloud-production', cloudValues()));
    const cfg = loadConfig(file);
    expect(cfg.servers).toEqual([
      { host: '172.50.101.30', port: 7043, name: '南方' },
      { host: '172.60.101.30', port: 7043, name: '福田' },
      { host: '172.50.102.30', port: 7043, name: '南方卫星' },
      { host: '172.70.101.30', port: 7043, name: '北京灾备' },
    ]);
    expect(cfg.station.units).toEqual(['729900', '729901']);
    expect(cfg.tls.mode).toBe('ekey');
    expect(cfg.management).toMatchObject({ host: '10.20.0.11', port: 9300 });
    expect(cfg.extra['clock']).toEqual({ servers: '100.100.0.1,100.100.0.2:123' });
    expect(cfg.extra['logs']).toEqual({
      endpoint: 'https://oss.dr.example:9000',
      bucket: 'nqgw-logs-dr',
      // Paths of the key files placed through the bastion; empty: the environment's keys, if any.
      access_key_id_file: '',
      secret_access_key_file: '',
    });
    // The EKey and the share sections are there to be filled from the values (empty here).
    expect(cfg.extra['ekey']).toMatchObject({ pin_file: '/etc/nqgw/ekey.pin', module: '' });
    expect(cfg.extra['share']).toEqual({ mount_point: '' });
    expect(readFileSync(file, 'utf8')).toMatch(/7043 is ASSUMED/);
  });

  it('cloud-test renders the test/simulation link, and loads', () => {
    const cfg = loadConfig(tmp.write('tw.ini', renderTemplate('cloud-test', cloudValues())));
    expect(cfg.servers).toEqual([{ host: '172.200.1.98', port: 7043, name: '测试' }]);
  });

  it('lab renders from no values at all and loads beside its files', () => {
    const cfg = loadConfig(tmp.write('tw.ini', renderTemplate('lab', {})));
    expect(cfg.servers).toEqual([{ host: '127.0.0.1', port: 7043, name: 'lab simulator' }]);
    expect(cfg.tls.mode).toBe('file');
    expect(cfg.files.orders).toBe(join(tmp.dir, 'NQWT.DBF'));
  });

  it('lab takes a simulator port and units as a string', () => {
    const cfg = loadConfig(tmp.write('tw.ini', renderTemplate('lab', { sim_port: 17043, units: '729905' })));
    expect(cfg.servers[0]!.port).toBe(17043);
    expect(cfg.station.units).toEqual(['729905']);
  });

  it("a servers list in the values replaces the template's list", () => {
    const values = {
      ...cloudValues(),
      servers: ['172.50.101.30:7043', { host: 'mainstation.dr.local', port: 7044, name: '福田' }],
    };
    const text = renderTemplate('cloud-production', values);
    expect(text).not.toMatch(/172\.70\.101\.30/);
    const cfg = loadConfig(tmp.write('tw.ini', text));
    expect(cfg.servers).toEqual([
      { host: '172.50.101.30', port: 7043, name: 'server1' },
      { host: 'mainstation.dr.local', port: 7044, name: '福田' },
    ]);
    // The sections after [servers] are intact.
    expect(parseIni(text, 'x').sections.get('tls')?.entries.get('mode')?.value).toBe('ekey');
  });

  it('refuses a value with a newline, or with [ or =', () => {
    const e = errorOf(() =>
      renderTemplate('cloud-production', { ...cloudValues(), station: 'W888888T\n[tls]' }),
    );
    expect(e.code).toBe('NQ602');
    expect(e.problems).toEqual(['value "station" contains a line break: "W888888T\\n[tls]"']);
    const e2 = errorOf(() =>
      renderTemplate('cloud-production', {
        ...cloudValues(),
        object_storage_bucket: 'b = c',
        units: ['729900', '[x]'],
      }),
    );
    expect(e2.problems).toHaveLength(2);
    expect(e2.problems.join('\n')).toMatch(/units\[1\]" contains "\[", "\]" or "="/);
    const e3 = errorOf(() => renderTemplate('lab', { orders: 'NQWT.DBF ; x' }));
    expect(e3.problems[0]).toMatch(/would start a comment/);
    const e4 = errorOf(() =>
      renderTemplate('lab', { servers: ['127.0.0.1:7043', { host: '127.0.0.1', port: 1, name: 'a\nb' }] }),
    );
    expect(e4.problems[0]).toMatch(/servers\[1\]\.name" contains a line break/);
  });

  it('refuses an unknown template', () => {
    const e = errorOf(() => renderTemplate('cloud-prod', cloudValues()));
    expect(e.problems).toEqual(['unknown template "cloud-prod"']);
    expect(e.hint).toMatch(/cloud-production, cloud-test, lab/);
    expect(errorOf(() => renderTemplate('../lab', {})).problems[0]).toMatch(/unknown template/);
  });

  it('reports every missing required value and unknown value at once', () => {
    const values = cloudValues();
    delete values['station'];
    delete values['time_servers'];
    values['stationid'] = 'W888888T';
    values['units'] = '';
    const e = errorOf(() => renderTemplate('cloud-production', values));
    expect(e.problems).toEqual([
      'unknown value "stationid"',
      'value "station" is required by template cloud-production (小站号, station id such as W888888T)',
      'value "units" is required by template cloud-production (交易单元: trading units, six digits each)',
      'value "time_servers" is required by template cloud-production (the cloud\'s time servers, host or host:port)',
    ]);
  });

  it('refuses a bad servers override', () => {
    const e = errorOf(() =>
      renderTemplate('lab', { servers: ['127.0.0.1', { host: 'x', port: 1, weight: 2 }] }),
    );
    expect(e.problems).toEqual([
      'value "servers[0]": "127.0.0.1" has no port; expected host:port',
      'value "servers[1]" has an unknown key "weight"',
    ]);
    expect(errorOf(() => renderTemplate('lab', { servers: [] })).problems[0]).toMatch(/non-empty list/);
  });

  it('finds its templates from the sources', () => {
    expect(templatesDir()).toMatch(/appliance[/\\]templates$/);
  });
});
