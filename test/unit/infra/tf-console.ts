/**
 * The module's variables and locals evaluated by Terraform itself (`terraform console`), with no
 * provider: a scratch directory holds variables.tf as it is, the module's locals block as it is
 * (less the one local that reads a resource, state_devices, replaced by a stand-in volume ID) and
 * the templates. So the validations, the values.json/host.json documents and the user_data the
 * module renders are Terraform's own results, not a re-implementation.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODULE_DIR } from './hcl.js';

export const TERRAFORM_BIN =
  ['/usr/local/bin/terraform', '/usr/bin/terraform'].find((p) => existsSync(p)) ?? null;

/** A volume ID as Cinder gives them; the guest sees its first 20 characters as the serial. */
export const STAND_IN_VOLUME_ID = '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';

/** Locals that read a resource: replaced by stand-ins in the harness. */
const RESOURCE_LOCALS: Record<string, string> = {
  state_devices: `{ for name, r in var.replicas : name => "\${var.state_volume.device_prefix}\${substr("${STAND_IN_VOLUME_ID}", 0, 20)}" }`,
};

/** The body of main.tf's top-level `locals { ... }`, entry by entry (name -> text). */
function moduleLocals(): Map<string, string> {
  const lines = readFileSync(join(MODULE_DIR, 'main.tf'), 'utf8').split('\n');
  const start = lines.indexOf('locals {');
  if (start < 0) throw new Error('main.tf has no top-level locals block');
  const end = lines.indexOf('}', start);
  const entries = new Map<string, string>();
  let name: string | null = null;
  for (const line of lines.slice(start + 1, end)) {
    const m = /^ {2}([a-z_][a-z0-9_]*)\s*=/.exec(line);
    if (m) name = m[1]!;
    if (name !== null && !/^ {2}#/.test(line)) entries.set(name, `${entries.get(name) ?? ''}${line}\n`);
  }
  return entries;
}

export function makeHarness(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nqgw-tf-console-'));
  cpSync(join(MODULE_DIR, 'variables.tf'), join(dir, 'variables.tf'));
  cpSync(join(MODULE_DIR, 'templates'), join(dir, 'templates'), { recursive: true });
  const body = [...moduleLocals().entries()]
    .map(([name, text]) => (name in RESOURCE_LOCALS ? `  ${name} = ${RESOURCE_LOCALS[name]}\n` : text))
    .join('');
  writeFileSync(join(dir, 'locals.tf'), `locals {\n${body}}\n`);
  return dir;
}

/** Everything the module requires, as the dr-vpc example gives it. */
export function baseVars(): Record<string, unknown> {
  return {
    network_id: 'net-1',
    subnet_id: 'subnet-1',
    image_name: 'nqgw-dr-debian12-0.1.0',
    bastion_cidr: '10.80.0.10/32',
    management_cidr: '10.80.2.0/24',
    time_servers: ['10.255.0.1', '10.255.0.2'],
    resolvers: ['10.80.0.2'],
    object_storage_cidrs: ['10.90.0.0/24'],
    replicas: {
      'gw-a': { role: 'active', station: 'W888888T', fixed_ip: '10.80.1.11' },
      'gw-b': { role: 'standby', station: 'W888888T', fixed_ip: '10.80.1.12' },
    },
    appliance_values: { units: ['729900'], tls_mode: 'ekey' },
  };
}

export interface Evaluation {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The value of jsonencode(EXPR), decoded (only when status is 0). */
  value: unknown;
}

/** `jsonencode(EXPR)` in the harness with these variables. */
export function evaluate(dir: string, expr: string, vars: Record<string, unknown>): Evaluation {
  if (!TERRAFORM_BIN) throw new Error('no terraform binary');
  writeFileSync(join(dir, 'terraform.tfvars.json'), JSON.stringify(vars));
  const r = spawnSync(TERRAFORM_BIN, ['console', '-no-color'], {
    cwd: dir,
    input: `jsonencode(${expr})\n`,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' },
  });
  // A failed validation is an "Error:" on stderr, yet the console still prints a value and exits 0.
  const status = r.status === 0 && /^Error: /m.test(r.stderr) ? 1 : r.status;
  let value: unknown = undefined;
  if (status === 0) {
    // The console prints the string as an HCL literal: JSON escapes, plus $${ and %%{ for template
    // sequences.
    const last = r.stdout.trim().split('\n').pop() ?? '';
    const literal = last.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
    value = JSON.parse(JSON.parse(literal) as string);
  }
  return { status, stdout: r.stdout, stderr: r.stderr, value };
}
