import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  EXAMPLE_DIR,
  type Hcl,
  listFiles,
  MODULE_DIR,
  parseDir,
  parseFile,
  REPO,
  resource,
  resourcesOfType,
  strings,
  TERRAFORM,
} from './hcl.js';

const OPEN_WORLD = ['0.0.0.0/0', '::/0'];

describe('every .tf file under terraform/', () => {
  const files = listFiles(TERRAFORM, '.tf');

  it('there are module and example files to check', () => {
    const rel = files.map((f) => relative(TERRAFORM, f));
    expect(rel).toEqual(
      expect.arrayContaining([
        'modules/nqgw-replicas/main.tf',
        'modules/nqgw-replicas/variables.tf',
        'modules/nqgw-replicas/outputs.tf',
        'modules/nqgw-replicas/versions.tf',
        'examples/dr-vpc/main.tf',
      ]),
    );
  });

  it.each(files.map((f) => [relative(REPO, f), f]))(
    '%s parses and every variable is typed and described',
    async (_rel, file) => {
      const doc = await parseFile(file);
      for (const [name, blocks] of Object.entries((doc.variable ?? {}) as Record<string, Hcl[]>)) {
        const v = blocks[0] as Hcl;
        expect(v.type, `variable ${name} has no type`).toMatch(/^\$\{[\s\S]+\}$/);
        expect(
          typeof v.description === 'string' && v.description.trim().length > 10,
          `variable ${name} has no description`,
        ).toBe(true);
      }
      for (const [name, blocks] of Object.entries((doc.output ?? {}) as Record<string, Hcl[]>)) {
        expect((blocks[0] as Hcl).description, `output ${name} has no description`).toBeTruthy();
      }
    },
  );

  it.each(files.map((f) => [relative(REPO, f), f]))(
    '%s opens no ingress to 0.0.0.0/0 or ::/0',
    async (_rel, file) => {
      const doc = await parseFile(file);
      for (const [name, rule] of resourcesOfType(doc, 'openstack_networking_secgroup_rule_v2')) {
        // A rule with neither a prefix nor a remote group admits everyone.
        expect(rule.remote_ip_prefix ?? rule.remote_group_id, `rule ${name} has no remote`).toBeTruthy();
        if (rule.direction === 'ingress') {
          expect(OPEN_WORLD).not.toContain(rule.remote_ip_prefix);
        }
      }
      // No resource, module argument or local mentions the open world at all.
      for (const kind of ['resource', 'module', 'locals', 'data']) {
        for (const s of strings(doc[kind])) {
          for (const open of OPEN_WORLD)
            expect(s.includes(open), `${kind} mentions ${open}: ${s}`).toBe(false);
        }
      }
      // The legacy nova security groups would put rules on the server: not used.
      expect(doc.resource?.openstack_compute_secgroup_v2).toBeUndefined();
    },
  );
});

describe('module nqgw-replicas', () => {
  let mod: Hcl;
  beforeAll(async () => {
    mod = await parseDir(MODULE_DIR);
  });

  it('pins the OpenStack provider from terraform-provider-openstack', () => {
    const tf = (mod.terraform as Hcl[])[0] as Hcl;
    const req = (tf.required_providers as Hcl[])[0] as Hcl;
    expect(req.openstack.source).toBe('terraform-provider-openstack/openstack');
    expect(req.openstack.version).toMatch(/>=/);
    expect(tf.required_version).toMatch(/>=\s*1\.\d/);
  });

  it('stamps out replicas with for_each over var.replicas, never count', () => {
    for (const [type, name] of [
      ['openstack_compute_instance_v2', 'replica'],
      ['openstack_networking_port_v2', 'replica'],
    ] as const) {
      const r = resource(mod, type, name);
      expect(r.for_each).toBe('${var.replicas}');
      expect(r.count).toBeUndefined();
    }
  });

  it('keeps replicas apart with an anti-affinity server group wired through scheduler_hints', () => {
    const group = resource(mod, 'openstack_compute_servergroup_v2', 'replicas');
    expect(group.policies).toEqual(['anti-affinity']);
    const server = resource(mod, 'openstack_compute_instance_v2', 'replica');
    expect(server.scheduler_hints).toHaveLength(1);
    expect(server.scheduler_hints[0].group).toBe('${openstack_compute_servergroup_v2.replicas.id}');
  });

  it('gives each replica a port with its fixed IP and the security groups, and attaches the server through it', () => {
    const port = resource(mod, 'openstack_networking_port_v2', 'replica');
    expect(port.fixed_ip[0].ip_address).toBe('${each.value.fixed_ip}');
    expect(port.fixed_ip[0].subnet_id).toBe('${var.subnet_id}');
    expect(port.port_security_enabled).toBe(true);
    expect(port.security_group_ids).toContain('openstack_networking_secgroup_v2.admin.id');
    expect(port.security_group_ids).toContain('openstack_networking_secgroup_v2.egress.id');

    const server = resource(mod, 'openstack_compute_instance_v2', 'replica');
    expect(server.network).toEqual([{ port: '${openstack_networking_port_v2.replica[each.key].id}' }]);
    // Security groups on the server as well would fight with those on the port.
    expect(server.security_groups).toBeUndefined();
  });

  it('replaces the default security group rules (allow-all egress) with its own', () => {
    const groups = resourcesOfType(mod, 'openstack_networking_secgroup_v2');
    expect(groups.map(([n]) => n).sort()).toEqual(['admin', 'egress']);
    for (const [, g] of groups) expect(g.delete_default_rules).toBe(true);
  });

  it('admits SSH only from the bastion and the management port only from the management network', () => {
    const rules = resourcesOfType(mod, 'openstack_networking_secgroup_rule_v2');
    const ingress = rules.filter(([, r]) => r.direction === 'ingress');
    expect(ingress.map(([n]) => n).sort()).toEqual([
      'management_from_mgmt_net',
      'node_exporter_from_mgmt_net',
      'ssh_from_bastion',
    ]);
    // Host monitoring (docs/ops.md): node_exporter's port from the management network only.
    const node = resource(mod, 'openstack_networking_secgroup_rule_v2', 'node_exporter_from_mgmt_net');
    expect([node.port_range_min, node.protocol, node.remote_ip_prefix]).toEqual([
      9100,
      'tcp',
      '${var.management_cidr}',
    ]);
    const ssh = resource(mod, 'openstack_networking_secgroup_rule_v2', 'ssh_from_bastion');
    expect([ssh.port_range_min, ssh.port_range_max, ssh.protocol, ssh.remote_ip_prefix]).toEqual([
      22,
      22,
      'tcp',
      '${var.bastion_cidr}',
    ]);
    const mgmt = resource(mod, 'openstack_networking_secgroup_rule_v2', 'management_from_mgmt_net');
    expect([mgmt.port_range_min, mgmt.protocol, mgmt.remote_ip_prefix]).toEqual([
      '${var.management_port}',
      'tcp',
      '${var.management_cidr}',
    ]);
    for (const [, r] of ingress)
      expect(r.security_group_id).toBe('${openstack_networking_secgroup_v2.admin.id}');
  });

  it('allows egress only to the main-station links, NTP, object storage, DNS, metadata and USB/IP', () => {
    const egress: Hcl = Object.fromEntries(
      resourcesOfType(mod, 'openstack_networking_secgroup_rule_v2').filter(
        ([, r]) => r.direction === 'egress',
      ),
    );
    expect(Object.keys(egress).sort()).toEqual([
      'counter_share',
      'dns',
      'main_station',
      'main_station_ping',
      'metadata',
      'ntp',
      'object_storage',
      'usbip',
    ]);
    for (const [name, r] of Object.entries(egress) as Array<[string, Hcl]>) {
      expect(r.security_group_id).toBe('${openstack_networking_secgroup_v2.egress.id}');
      // One port per TCP/UDP rule; ICMP rules carry type and code in the port fields.
      if (r.protocol !== 'icmp') expect(r.port_range_min, name).toBe(r.port_range_max);
      expect(r.remote_ip_prefix).toBeTruthy();
    }
    expect(egress.main_station.for_each).toContain('var.main_station_links');
    expect(egress.main_station.remote_ip_prefix).toBe('${each.value.address}/32');
    expect([egress.ntp.protocol, egress.ntp.port_range_min]).toEqual(['udp', 123]);
    expect(egress.ntp.for_each).toContain('var.time_servers');
    expect([egress.object_storage.protocol, egress.object_storage.port_range_min]).toEqual(['tcp', 443]);
    expect(egress.object_storage.for_each).toContain('var.object_storage_cidrs');
    expect(egress.dns.port_range_min).toBe(53);
    expect(egress.metadata.remote_ip_prefix).toBe('169.254.169.254/32');
    // USB/IP only inside the TLS tunnel: its port (a variable, 3241), never plain 3240.
    expect(egress.usbip.port_range_min).toBe('${var.usbip_tunnel_port}');
    expect(egress.usbip.port_range_max).toBe('${var.usbip_tunnel_port}');
  });

  it('lets the replicas ping the main-station addresses (ICMP echo only, to those addresses only)', () => {
    const ping = resource(mod, 'openstack_networking_secgroup_rule_v2', 'main_station_ping');
    expect(ping.direction).toBe('egress');
    expect(ping.protocol).toBe('icmp');
    // Neutron: for ICMP, port_range_min is the type (8 = echo request), port_range_max the code.
    expect([ping.port_range_min, ping.port_range_max]).toEqual([8, 0]);
    expect(ping.for_each).toBe('${toset([for l in var.main_station_links : l.address])}');
    expect(ping.remote_ip_prefix).toBe('${each.value}/32');
    // No other rule opens ICMP.
    const icmp = resourcesOfType(mod, 'openstack_networking_secgroup_rule_v2').filter(
      ([, r]) => r.protocol === 'icmp',
    );
    expect(icmp.map(([n]) => n)).toEqual(['main_station_ping']);
  });

  it("derives tw.ini's [servers] from main_station_links (one source of truth), which callers cannot override", () => {
    const locals = (mod.locals as Hcl[]).reduce((a, b) => ({ ...a, ...b }), {} as Hcl);
    expect(locals.tw_servers).toBe(
      '${[for l in var.main_station_links : { host = l.address, port = l.port, name = l.name }]}',
    );
    // servers comes after var.appliance_values in the merge, so it always wins ...
    const expr = (locals.appliance_values as string).replace(/\s+/g, ' ');
    expect(expr.indexOf('servers = local.tw_servers')).toBeGreaterThan(expr.indexOf('var.appliance_values,'));
    // ... and the caller may not pass it at all.
    const conditions = ((mod.variable.appliance_values[0] as Hcl).validation as Hcl[]).map(
      (v) => v.condition as string,
    );
    expect(conditions.join('\n')).not.toContain('"servers"');
  });

  it('defaults the links to the four production main stations on 7043', () => {
    const links = (mod.variable.main_station_links[0] as Hcl).default as Array<{
      address: string;
      port: number;
    }>;
    expect(links.map((l) => `${l.address}:${l.port}`)).toEqual([
      '172.50.101.30:7043',
      '172.60.101.30:7043',
      '172.50.102.30:7043',
      '172.70.101.30:7043',
    ]);
  });

  it('wires user_data to the appliance values through the cloud-init template', () => {
    const server = resource(mod, 'openstack_compute_instance_v2', 'replica');
    expect(server.user_data).toBe('${local.user_data[each.key]}');
    const locals = (mod.locals as Hcl[]).reduce((a, b) => ({ ...a, ...b }), {} as Hcl);
    const ud = locals.user_data as string;
    expect(ud).toMatch(/templatefile\("\$\{path\.module\}\/templates\/user-data\.yaml\.tftpl"/);
    expect(ud).toContain('values_json = jsonencode(local.appliance_values[name])');
    expect(ud).toContain('host_json   = jsonencode(local.host_values[name])');
    expect(locals.appliance_values).toContain('var.appliance_values,');
    expect(locals.appliance_values).toMatch(/station\s+= r\.station/);
    expect(locals.appliance_values).toMatch(
      /management_listen = "\$\{r\.fixed_ip\}:\$\{var\.management_port\}"/,
    );
    expect(locals.host_values).toContain('bastion_cidr         = var.bastion_cidr');
    expect(locals.host_values).toContain('replica              = { name = name, station = r.station }');

    const template = readFileSync(join(MODULE_DIR, 'templates', 'user-data.yaml.tftpl'), 'utf8');
    expect(template.startsWith('#cloud-config\n')).toBe(true);
    expect(template).toMatch(
      /path: \/etc\/nqgw\/values\.json\n(?:.*\n)*?\s+content: \$\{jsonencode\(values_json\)\}/,
    );
    expect(template).toMatch(
      /path: \/etc\/nqgw\/host\.json\n(?:.*\n)*?\s+content: \$\{jsonencode\(host_json\)\}/,
    );
  });

  it('keeps role out of user_data (ForceNew): a role flip updates metadata in place, replaces nothing', () => {
    const server = resource(mod, 'openstack_compute_instance_v2', 'replica');
    expect(server.metadata.nqgw_role).toBe('${each.value.role}');
    const locals = (mod.locals as Hcl[]).reduce((a, b) => ({ ...a, ...b }), {} as Hcl);
    // Everything user_data is made of: the template call and the two documents.
    for (const text of [
      server.user_data as string,
      locals.user_data as string,
      locals.appliance_values as string,
      locals.host_values as string,
    ]) {
      expect(text).not.toMatch(/\.role\b/);
    }
    const template = readFileSync(join(MODULE_DIR, 'templates', 'user-data.yaml.tftpl'), 'utf8');
    expect(template).not.toMatch(/role/);
  });

  it('validates role, the single active replica, station ids, addresses and CIDRs', () => {
    const v = mod.variable as Record<string, Hcl[]>;
    const conditions = (name: string) =>
      ((v[name]?.[0] as Hcl).validation as Hcl[]).map((x) => x.condition as string);
    const replicas = conditions('replicas').join('\n');
    expect(replicas).toContain('contains(["active", "standby"], r.role)');
    expect(replicas).toMatch(
      /length\(\[for r in values\(var\.replicas\) : r if r\.role == "active"\]\) == 1/,
    );
    expect(replicas).toContain('regex("^[A-Z][0-9]{6}[A-Z]$", r.station)');
    expect(replicas).toContain('cidrhost("${r.fixed_ip}/32", 0)');
    for (const name of ['bastion_cidr', 'management_cidr']) {
      const c = conditions(name).join('\n');
      expect(c).toContain(`can(cidrhost(var.${name}, 0))`);
      expect(c).toContain('"0.0.0.0/0"');
    }
    expect(conditions('object_storage_cidrs').join('\n')).toContain('can(cidrhost(c, 0))');
    expect(conditions('time_servers').join('\n')).toContain('cidrhost');
    for (const [name, blocks] of Object.entries(v)) {
      for (const val of ((blocks[0] as Hcl).validation ?? []) as Hcl[]) {
        expect(val.error_message, `${name}: validation without a message`).toMatch(/^[a-z_]+: /);
      }
    }
    // The station pattern is the same one the appliance's config checks use.
    const station = /regex\("(\^\[A-Z\]\[0-9\]\{6\}\[A-Z\]\$)", r\.station\)/.exec(replicas)?.[1];
    expect(station).toBeDefined();
    const re = new RegExp(station as string);
    expect(re.test('W888888T')).toBe(true);
    expect(re.test('W88888T')).toBe(false);
  });

  it('outputs the ports, IPs and instances per replica and the active replica', () => {
    const outputs = Object.keys(mod.output as Hcl);
    expect(outputs).toEqual(
      expect.arrayContaining([
        'active_replica',
        'replica_ips',
        'replica_port_ids',
        'replica_instance_ids',
        'server_group_id',
      ]),
    );
    expect((mod.output.active_replica[0] as Hcl).value).toBe('${local.active_replica}');
    const locals = (mod.locals as Hcl[]).reduce((a, b) => ({ ...a, ...b }), {} as Hcl);
    expect(locals.active_replica).toContain('if r.role == "active"');
  });
});

describe('example dr-vpc', () => {
  let ex: Hcl;
  let mod: Hcl;
  beforeAll(async () => {
    ex = await parseDir(EXAMPLE_DIR);
    mod = await parseDir(MODULE_DIR);
  });

  it('uses the module, passing every required variable and nothing unknown', () => {
    const use = (ex.module.nqgw as Hcl[])[0] as Hcl;
    expect(use.source).toBe('../../modules/nqgw-replicas');
    expect(existsSync(join(EXAMPLE_DIR, use.source as string, 'main.tf'))).toBe(true);
    const declared = mod.variable as Record<string, Hcl[]>;
    const required = Object.entries(declared)
      .filter(([, b]) => !('default' in (b[0] as Hcl)))
      .map(([n]) => n);
    const passed = Object.keys(use).filter((k) => k !== 'source');
    expect(passed).toEqual(expect.arrayContaining(required));
    for (const k of passed) expect(Object.keys(declared), `unknown module argument ${k}`).toContain(k);
  });

  it('declares one active and one standby replica with distinct fixed IPs and valid station ids', () => {
    const replicas = ((ex.module.nqgw as Hcl[])[0] as Hcl).replicas as Record<string, Hcl>;
    const roles = Object.values(replicas).map((r) => r.role);
    expect(roles.filter((r) => r === 'active')).toHaveLength(1);
    expect(roles.every((r) => r === 'active' || r === 'standby')).toBe(true);
    const ips = Object.values(replicas).map((r) => r.fixed_ip as string);
    expect(new Set(ips).size).toBe(ips.length);
    for (const r of Object.values(replicas)) expect(r.station).toMatch(/^[A-Z]\d{6}[A-Z]$/);
  });

  it('configures the provider from clouds.yaml and pins it like the module', () => {
    const tf = (ex.terraform as Hcl[])[0] as Hcl;
    expect(((tf.required_providers as Hcl[])[0] as Hcl).openstack.source).toBe(
      'terraform-provider-openstack/openstack',
    );
    expect((ex.provider.openstack[0] as Hcl).cloud).toBe('${var.cloud}');
  });
});
