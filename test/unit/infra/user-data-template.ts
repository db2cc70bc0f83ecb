/**
 * Renders terraform/modules/nqgw-replicas/templates/user-data.yaml.tftpl the way Terraform's
 * templatefile() would, for the only constructs the template uses: ${jsonencode(NAME)}.
 * Anything else in the template is an error, so the template cannot grow constructs this
 * renderer (and the tests built on it) silently ignore.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODULE_DIR } from './hcl.js';

export const TEMPLATE_PATH = join(MODULE_DIR, 'templates', 'user-data.yaml.tftpl');

export function renderUserData(vars: { hostname: string; values_json: string; host_json: string }): string {
  const text = readFileSync(TEMPLATE_PATH, 'utf8');
  if (/%\{/.test(text)) throw new Error('template directives (%{...}) are not supported here');
  return text.replace(/\$\{([^}]*)\}/g, (_all, expr: string) => {
    const m = /^jsonencode\(([a-z_]+)\)$/.exec(expr.trim());
    if (!m) throw new Error(`unsupported interpolation \${${expr}}`);
    const name = m[1] as keyof typeof vars;
    if (!(name in vars)) throw new Error(`template variable ${name} is not passed by main.tf`);
    // Terraform's jsonencode escapes <, > and & as \u003c ...; JSON.stringify does not, and
    // both are the same YAML double-quoted scalar.
    return JSON.stringify(vars[name]);
  });
}

/**
 * The example documents of image/cloud-init/user-data.yaml, as the module would build them.
 * values.json is flat: its keys are the template values of `nqgw config render`
 * (appliance/src/config/templates.ts TEMPLATE_VALUES).
 */
export const EXAMPLE_VALUES = {
  station: 'W888888T',
  units: ['729900'],
  orders: '/var/lib/nqgw/NQWT.DBF',
  returns: '/var/lib/nqgw/NQHB.DBF',
  tls_mode: 'ekey',
  management_listen: '10.80.1.11:9300',
  time_servers: ['10.255.0.1', '10.255.0.2'],
  object_storage_endpoint: 'https://10.90.0.10',
  object_storage_bucket: 'nqgw-logs',
  servers: [
    { host: '172.50.101.30', port: 7043, name: '南方' },
    { host: '172.60.101.30', port: 7043, name: '福田' },
    { host: '172.50.102.30', port: 7043, name: '南方卫星' },
    { host: '172.70.101.30', port: 7043, name: '北京灾备' },
  ],
};

export const EXAMPLE_HOST = {
  replica: { name: 'gw-a', station: 'W888888T' },
  tw_template: 'cloud-production',
  bastion_cidr: '10.80.0.10/32',
  management_cidr: '10.80.2.0/24',
  management_port: 9300,
  ssh_users: ['debian'],
  main_station_links: [
    { name: '南方', address: '172.50.101.30', port: 7043 },
    { name: '福田', address: '172.60.101.30', port: 7043 },
    { name: '南方卫星', address: '172.50.102.30', port: 7043 },
    { name: '北京灾备', address: '172.70.101.30', port: 7043 },
  ],
  time_servers: ['10.255.0.1', '10.255.0.2'],
  resolvers: ['10.80.0.2'],
  object_storage_cidrs: ['10.90.0.0/24'],
  metadata_service: true,
  usbip: { server: '10.80.3.5', busid: '1-1' },
};
