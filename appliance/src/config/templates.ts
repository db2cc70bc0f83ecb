import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError, findUp } from '../shared/index.js';
import { checkHostPort } from './checks.js';
import { parseIni } from './ini.js';

/**
 * tw.ini templates for the cloud's addresses (appliance/templates/NAME.ini.tmpl).
 *
 * A template is tw.ini text with placeholders: `{{name}}` must be given a value; `{{name|text}}`
 * falls back to `text` (possibly empty) when the value is absent. Values come from one JSON
 * document, the one Terraform passes through cloud-init; its keys are TEMPLATE_VALUES below.
 * Lists (units, time_servers) are written comma-separated. An optional `servers` list replaces
 * the body of the template's [servers] section.
 *
 * A value may not break the INI: no line breaks or control characters, no `[`, `]` or `=`, and no
 * `;` or `#` at its start or after a space (that would start a comment and cut the value short).
 */

/** Stable code of template errors. */
export const TEMPLATE_ERROR_CODE = 'NQ602';

/** A template cannot be rendered from the values given. `problems` lists every reason. */
export class TemplateError extends AppError {
  constructor(
    readonly problems: string[],
    hint: string,
  ) {
    super(TEMPLATE_ERROR_CODE, problems.join('\n'), hint);
  }
}

/** The keys of the values document, what each means, and whether it is a list. */
export const TEMPLATE_VALUES: Record<string, { description: string; list?: boolean }> = {
  station: { description: '小站号, station id such as W888888T' },
  units: { description: '交易单元: trading units, six digits each', list: true },
  orders: { description: 'path of NQWT.DBF (委托库)' },
  returns: { description: 'path of NQHB.DBF (回报库)' },
  state_dir: { description: 'directory for the journal, lock and status snapshot' },
  tls_mode: { description: 'file | ekey | soft' },
  tls_ca: { description: "path of the main station's CA certificate (PEM)" },
  tls_cert: { description: "path of the station's certificate (mode=file)" },
  tls_key: { description: "path of the station's private key (mode=file)" },
  tls_server_name: { description: "name expected in the main station's certificate" },
  no_fills: { description: '不接受成交: true or false' },
  link_down_flag: { description: '创建通信中断标志文件: path of the flag file, empty = off' },
  time_file: { description: '创建时间文件: path of the time file, empty = off' },
  auto_exit: { description: '程序自动退出: HH:MM China Standard Time, empty = off' },
  management_listen: { description: 'status page and API address, host:port' },
  management_token_file: { description: 'path of the API token file' },
  time_servers: { description: "the cloud's time servers, host or host:port", list: true },
  object_storage_endpoint: { description: 'S3-compatible endpoint URL for the logs' },
  object_storage_bucket: { description: 'bucket for the logs' },
  object_storage_access_key_id_file: {
    description: 'path of the object-storage access key id file (nqgw 0600, placed through the bastion)',
  },
  object_storage_secret_access_key_file: {
    description: 'path of the object-storage secret key file (nqgw 0600, placed through the bastion)',
  },
  ekey_module: { description: "[ekey] module: the EKey's PKCS#11 module (the token vendor's driver)" },
  ekey_token_label: { description: '[ekey] token_label: the token by label (or token_serial)' },
  ekey_token_serial: { description: '[ekey] token_serial: the token by serial number' },
  ekey_key_id: { description: '[ekey] key_id: CKA_ID of key and certificate, hex (or key_label)' },
  ekey_key_label: { description: '[ekey] key_label: label of key and certificate' },
  ekey_pin_file: { description: '[ekey] pin_file: PATH of the PIN file (nqgw 0600), never the PIN' },
  ekey_pin_credential: { description: '[ekey] pin_credential: systemd credential name of the PIN' },
  ekey_usb_ids: { description: '[ekey] usb_ids: more USB ids (vvvv or vvvv:pppp) to watch', list: true },
  share_mount_point: {
    description: "[share] mount_point: where the counter's share (NQWT.DBF/NQHB.DBF) is mounted",
  },
  sim_port: { description: 'lab only: port of the main-station simulator on 127.0.0.1' },
  servers: {
    description: 'optional: replaces the [servers] list; items "host:port" or {host, port, name}',
    list: true,
  },
};

export interface TemplateInfo {
  name: string;
  /** The template's first comment line. */
  description: string;
  /** Values that must be given. */
  required: string[];
  /** Values that may be given, with the text used when they are not. */
  optional: Record<string, string>;
}

const PLACEHOLDER_RE = /\{\{\s*([a-z_][a-z0-9_]*)\s*(?:\|([^}]*))?\}\}/g;
const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;
const SUFFIX = '.ini.tmpl';

/**
 * Where the templates are: $NQGW_TEMPLATES_DIR, else `appliance/templates` found by walking up
 * from this module (works from the sources and from dist/).
 */
export function templatesDir(): string {
  const fromEnv = process.env['NQGW_TEMPLATES_DIR'];
  if (fromEnv) return fromEnv;
  const found = findUp(dirname(fileURLToPath(import.meta.url)), join('appliance', 'templates'), 'dir');
  if (found !== null) return found;
  throw new AppError('NQ602', 'cannot find the directory appliance/templates', 'set NQGW_TEMPLATES_DIR');
}

function templateNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
    .sort();
}

function readTemplate(name: string, dir: string): string {
  const names = templateNames(dir);
  if (!NAME_RE.test(name) || !names.includes(name)) {
    throw new TemplateError(
      [`unknown template "${name}"`],
      `use one of: ${names.join(', ')} (nqgw config templates shows them)`,
    );
  }
  return readFileSync(join(dir, name + SUFFIX), 'utf8');
}

function describe(name: string, text: string): TemplateInfo {
  const first = text.split(/\r?\n/, 1)[0] ?? '';
  const description = first.replace(/^;\s*/, '').replace(/^nqgw template [a-z0-9-]+:\s*/, '');
  const required: string[] = [];
  const optional: Record<string, string> = {};
  for (const m of text.matchAll(PLACEHOLDER_RE)) {
    const key = m[1]!;
    if (m[2] === undefined) {
      if (!required.includes(key)) required.push(key);
    } else optional[key] = m[2].trim();
  }
  if (/^\[servers\]\s*$/m.test(text)) optional['servers'] ??= '(the list in the template)';
  return { name, description, required, optional };
}

/** Every template with the values it needs and the defaults of the others. */
export function listTemplates(dir: string = templatesDir()): TemplateInfo[] {
  return templateNames(dir).map((name) => describe(name, readFileSync(join(dir, name + SUFFIX), 'utf8')));
}

/** Why a piece of text cannot go into an INI value, or null when it can. */
function unsafeReason(text: string): string | null {
  if (/[\r\n]/.test(text)) return 'contains a line break';
  if (/[\x00-\x1f\x7f]/.test(text)) return 'contains a control character';
  if (/[[\]=]/.test(text)) return 'contains "[", "]" or "=", which would change the structure of tw.ini';
  if (/(^|\s)[;#]/.test(text)) return 'contains ";" or "#" where it would start a comment';
  if (text.includes('{{')) return 'contains "{{"';
  return null;
}

function scalarText(key: string, value: unknown, problems: string[]): string | null {
  let text: string;
  if (typeof value === 'string') text = value.trim();
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else if (typeof value === 'boolean') text = String(value);
  else {
    problems.push(`value "${key}" must be a string, a number or true/false`);
    return null;
  }
  const reason = unsafeReason(text);
  if (reason) {
    problems.push(`value "${key}" ${reason}: ${JSON.stringify(text)}`);
    return null;
  }
  return text;
}

function valueText(key: string, value: unknown, problems: string[]): string | null {
  const spec = TEMPLATE_VALUES[key];
  if (Array.isArray(value)) {
    if (!spec?.list) {
      problems.push(`value "${key}" must not be a list`);
      return null;
    }
    const parts = value.map((v, i) => scalarText(`${key}[${i}]`, v, problems));
    if (parts.some((p) => p === null)) return null;
    if (parts.some((p) => p!.includes(','))) {
      problems.push(`value "${key}": an item contains a comma; give one item per list element`);
      return null;
    }
    return parts.join(',');
  }
  return scalarText(key, value, problems);
}

function serversBlock(value: unknown, problems: string[]): string[] | null {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push('value "servers" must be a non-empty list of "host:port" or {host, port, name}');
    return null;
  }
  const lines: string[] = ['; from the values document (servers), walked in this order'];
  value.forEach((item, i) => {
    const n = i + 1;
    let address: string | null = null;
    let name: string | null = null;
    if (typeof item === 'string') address = scalarText(`servers[${i}]`, item, problems);
    else if (item !== null && typeof item === 'object') {
      const o = item as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        if (!['host', 'port', 'name'].includes(k))
          problems.push(`value "servers[${i}]" has an unknown key "${k}"`);
      }
      const host = scalarText(`servers[${i}].host`, o['host'], problems);
      const port = scalarText(`servers[${i}].port`, o['port'], problems);
      if (host !== null && port !== null) address = `${host}:${port}`;
      if (o['name'] !== undefined) name = scalarText(`servers[${i}].name`, o['name'], problems);
    } else {
      problems.push(`value "servers[${i}]" must be "host:port" or {host, port, name}`);
    }
    if (address === null) return;
    const check = checkHostPort(address);
    if (!check.ok) {
      problems.push(`value "servers[${i}]": ${check.reason}`);
      return;
    }
    lines.push(`server${n} = ${address}`);
    if (name !== null && name !== '') lines.push(`server${n}_name = ${name}`);
  });
  return lines;
}

/** Replace the body of [servers] (up to the next section header) with `block`. */
function replaceServers(text: string, block: string[]): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^\s*\[servers\]\s*$/i.test(l));
  if (start < 0) return text;
  let end = start + 1;
  while (end < lines.length && !/^\s*\[[^\]]+\]\s*$/.test(lines[end]!)) end++;
  return [...lines.slice(0, start + 1), ...block, '', ...lines.slice(end)].join('\n');
}

/**
 * Render template `name` with `values` (the JSON document from Terraform). Throws TemplateError
 * for an unknown template, unknown value keys, missing required values and values that would
 * break the INI. The text is tw.ini; check it with loadConfig once its paths exist.
 */
export function renderTemplate(
  name: string,
  values: Record<string, unknown>,
  dir: string = templatesDir(),
): string {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new TemplateError(
      ['the values must be a JSON object'],
      'write the values as {"station": "W888888T", ...}',
    );
  }
  const text = readTemplate(name, dir);
  const problems: string[] = [];
  for (const key of Object.keys(values)) {
    if (!(key in TEMPLATE_VALUES)) problems.push(`unknown value "${key}"`);
  }
  const texts = new Map<string, string>();
  for (const [key, value] of Object.entries(values)) {
    if (!(key in TEMPLATE_VALUES) || key === 'servers' || value === undefined || value === null) continue;
    const t = valueText(key, value, problems);
    if (t !== null) texts.set(key, t);
  }
  const missing = new Set<string>();
  let out = text.replace(PLACEHOLDER_RE, (_m, key: string, fallback: string | undefined) => {
    const given = texts.get(key);
    if (given !== undefined && given !== '') return given;
    if (fallback !== undefined) return fallback.trim();
    if (!(key in values) || values[key] === null || given === '') missing.add(key);
    return '';
  });
  for (const key of missing) {
    problems.push(
      `value "${key}" is required by template ${name} (${TEMPLATE_VALUES[key]?.description ?? key})`,
    );
  }
  if (values['servers'] !== undefined && values['servers'] !== null) {
    const block = serversBlock(values['servers'], problems);
    if (block) out = replaceServers(out, block);
  }
  if (problems.length > 0) {
    throw new TemplateError(
      problems,
      `correct the values document; nqgw config templates shows what template ${name} needs`,
    );
  }
  out = out.replace(/[ \t]+$/gm, '');
  const check = parseIni(out, name);
  if (check.malformed.length > 0 || check.duplicates.length > 0) {
    throw new AppError(
      'NQ602',
      `template ${name} rendered to text that is not clean INI`,
      'report this as a bug',
    );
  }
  return out;
}
