import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  parseConfigText,
  renderTemplate,
  TEMPLATE_VALUES,
  type TwConfig,
} from '../../../appliance/src/config/index.js';
import { EXAMPLE_DIR, MODULE_DIR, parseDir, REPO, type Hcl } from './hcl.js';
import { renderUserData } from './user-data-template.js';

/**
 * The integration seam between the infrastructure and the appliance: the values.json that
 * cloud-init writes (the image's example, and what the Terraform module renders for the DR VPC
 * example) must be the FLAT document `nqgw config render` takes, and the tw.ini it renders must
 * pass the appliance's own checks.
 */

/** Problems that only say a path does not exist on this machine (it will on the VM). */
const PATH_ONLY = /does not exist/;

/** parseConfigText, keeping only the problems that are about the values themselves. */
function check(text: string): { config: TwConfig | null; problems: string[] } {
  try {
    return { config: parseConfigText(text, '/etc/nqgw/tw.ini'), problems: [] };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = (err as ConfigError & { problems: { line: number | null; message: string }[] }).problems;
    return {
      config: null,
      problems: problems.filter((p) => !PATH_ONLY.test(p.message)).map((p) => `${p.line}: ${p.message}`),
    };
  }
}

/** The JSON documents of write_files in a user-data (block scalars or JSON string scalars). */
function writtenDocuments(yaml: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const m of yaml.matchAll(/- path: (\S+)\n(?:\s+\w+: .*\n)*?\s+content: \|\n((?: {6}.*\n)+)/g)) {
    out[m[1]!] = JSON.parse(m[2]!.replace(/^ {6}/gm, '')) as Record<string, unknown>;
  }
  for (const m of yaml.matchAll(/- path: (\S+)\n(?:\s+\w+: .*\n)*?\s+content: (".*")\n/g)) {
    out[m[1]!] = JSON.parse(JSON.parse(m[2]!) as string) as Record<string, unknown>;
  }
  return out;
}

function renderAndCheck(values: Record<string, unknown>, template: string): TwConfig | null {
  const text = renderTemplate(template, values);
  const { config, problems } = check(text);
  expect(problems, text).toEqual([]);
  return config;
}

describe('values.json from cloud-init renders into a valid tw.ini', () => {
  it('the image example (image/cloud-init/user-data.yaml)', () => {
    const docs = writtenDocuments(readFileSync(join(REPO, 'image', 'cloud-init', 'user-data.yaml'), 'utf8'));
    const values = docs['/etc/nqgw/values.json']!;
    const host = docs['/etc/nqgw/host.json']!;
    for (const key of Object.keys(values)) expect(Object.keys(TEMPLATE_VALUES)).toContain(key);
    const text = renderTemplate(host['tw_template'] as string, values);
    expect(text).toMatch(/^id = W888888T$/m);
    expect(text).toMatch(/^listen = 10\.80\.1\.11:9300$/m);
    expect(text).toMatch(/^servers = 10\.255\.0\.1,10\.255\.0\.2$/m);
    expect(check(text).problems).toEqual([]);
    // tw.ini's servers are the links host.json opens in the firewall, as the module writes them.
    const links = host['main_station_links'] as Array<{ name: string; address: string; port: number }>;
    expect(values['servers']).toEqual(links.map((l) => ({ host: l.address, port: l.port, name: l.name })));
  });

  it('a nested document (the old shape) is refused by the renderer, so the check above means something', () => {
    expect(() =>
      renderTemplate('cloud-production', { station: { id: 'W888888T', units: ['729900'] }, files: {} }),
    ).toThrow(/unknown value "files"/);
  });

  describe('the Terraform module output for examples/dr-vpc', () => {
    let example: Hcl;
    let module: Hcl;
    beforeAll(async () => {
      example = await parseDir(EXAMPLE_DIR);
      module = await parseDir(MODULE_DIR);
    });

    /** locals.appliance_values of the module, evaluated here (no terraform binary is available). */
    function moduleValues(): Record<string, Record<string, unknown>> {
      const use = (example.module.nqgw as Hcl[])[0] as Hcl;
      expect(use.time_servers).toBe('${var.time_servers}');
      const timeServers = ((example.variable.time_servers as Hcl[])[0] as Hcl).default as string[];
      const replicas = use.replicas as Record<string, { station: string; fixed_ip: string }>;
      const port = use.management_port as number;
      // local.share_values: with counter_share, the DBF files are in its mount point (defaults
      // of the variable's optional attributes: /srv/counter, NQWT.DBF, NQHB.DBF).
      const share = use.counter_share as { mount_point?: string } | undefined;
      const mp = share?.mount_point ?? '/srv/counter';
      const shareValues = share
        ? { orders: `${mp}/NQWT.DBF`, returns: `${mp}/NQHB.DBF`, share_mount_point: mp }
        : {};
      const out: Record<string, Record<string, unknown>> = {};
      for (const [name, r] of Object.entries(replicas)) {
        out[name] = {
          time_servers: timeServers,
          ...(use.appliance_values as Record<string, unknown>),
          ...shareValues,
          station: r.station,
          management_listen: `${r.fixed_ip}:${port}`,
          servers: twServers(links()),
        };
      }
      return out;
    }

    type Link = { name: string; address: string; port: number };
    /** main_station_links as the example passes them, else the module's default. */
    function links(): Link[] {
      const use = (example.module.nqgw as Hcl[])[0] as Hcl;
      return (use.main_station_links ?? (module.variable.main_station_links[0] as Hcl).default) as Link[];
    }
    /** local.tw_servers: [for l in var.main_station_links : { host = l.address, port = l.port, name = l.name }]. */
    const twServers = (list: Link[]) => list.map((l) => ({ host: l.address, port: l.port, name: l.name }));

    it.each([
      ['cloud-production', undefined],
      ['cloud-test', [{ name: '测试', address: '172.200.1.98', port: 7043 }]],
    ] as const)(
      'tw_template %s: tw.ini dials exactly the links the firewall opens (one source of truth)',
      (template, given) => {
        const list: Link[] = given ? [...given] : links();
        const values = { ...moduleValues()['gw-a']!, servers: twServers(list) };
        renderAndCheck(values, template);
        // [servers] of the rendered tw.ini: serverN = host:port, serverN_name = name.
        const ini = renderTemplate(template, values);
        const section = ini.slice(ini.indexOf('[servers]'), ini.indexOf('\n[', ini.indexOf('[servers]')));
        const dialed = [...section.matchAll(/^server(\d+) = (\S+)\nserver\1_name = (\S+)$/gm)].map(
          (m) => `${m[3]} ${m[2]}`,
        );
        expect(dialed).toEqual(list.map((l) => `${l.name} ${l.address}:${l.port}`));
        // Nothing of the template's own list is left (the test link was 172.200.1.98 only there).
        expect(section.match(/^server\d+ =/gm)).toHaveLength(list.length);
        // The same list goes into host.json, from which first boot renders nftables' allowed set.
        const hostExpr = ((module.locals as Hcl[]).find((l) => l.host_values) as Hcl).host_values as string;
        expect(hostExpr).toContain('main_station_links   = var.main_station_links');
      },
    );

    it('the module builds values.json as { time_servers, caller values, station, management_listen }', () => {
      const locals = (module.locals as Hcl[]).reduce((a, b) => ({ ...a, ...b }), {} as Hcl);
      const expr = (locals.appliance_values as string).replace(/\s+/g, ' ');
      expect(expr).toContain(
        'merge( { time_servers = var.time_servers }, var.appliance_values, local.share_values, {',
      );
      expect(expr).toContain('station = r.station');
      expect(expr).toContain('management_listen = "${r.fixed_ip}:${var.management_port}"');
      expect(expr).toContain('servers = local.tw_servers');
    });

    it('each replica: user-data rendered from the template, values.json extracted, tw.ini rendered and checked', () => {
      const template = ((example.module.nqgw as Hcl[])[0] as Hcl).tw_template as string;
      for (const [name, values] of Object.entries(moduleValues())) {
        const yaml = renderUserData({
          hostname: `nqgw-dr-${name}`,
          values_json: JSON.stringify(values),
          host_json: JSON.stringify({ tw_template: template }),
        });
        const written = writtenDocuments(yaml)['/etc/nqgw/values.json']!;
        expect(written).toEqual(values);
        const config = renderAndCheck(written, template);
        if (config) expect(config.station.id).toBe('W888888T');
      }
    });

    it('the module accepts exactly the flat template values the renderer knows', () => {
      const variable = ((module.variable.appliance_values as Hcl[])[0] as Hcl).validation as Hcl[];
      const listed = variable.map((v) => v.condition as string).find((c) => c.includes('contains(['));
      expect(listed).toBeDefined();
      const keys = [...listed!.matchAll(/"([a-z_]+)"/g)].map((m) => m[1]);
      const expected = Object.keys(TEMPLATE_VALUES).filter(
        (k) => !['station', 'management_listen', 'sim_port', 'servers', 'share_mount_point'].includes(k),
      );
      expect(keys.sort()).toEqual(expected.sort());
      const given = Object.keys(((example.module.nqgw as Hcl[])[0] as Hcl).appliance_values as Hcl);
      for (const k of given) expect(keys).toContain(k);
    });
  });
});
