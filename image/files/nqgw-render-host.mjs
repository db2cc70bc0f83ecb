#!/usr/bin/env node
// Renders the host settings of one replica from /etc/nqgw/host.json (written by cloud-init):
//   /etc/chrony/chrony.conf, /etc/ssh/sshd_config.d/50-nqgw.conf, /etc/nftables.d/nqgw.nft,
//   /etc/nqgw/usbip.env (only when host.json names a usbip server), /etc/nqgw/firstboot.env.
// Plain Node, no dependencies: it runs from the image before anything else is configured.
//
// usage: node nqgw-render-host.mjs --host FILE --templates DIR [--root DIR]
// Exit 0 on success; 2 with one line per problem on a bad host.json.
import { readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const BUSID = /^[0-9]+-[0-9]+(\.[0-9]+)*$/;
const TEMPLATES = ['cloud-production', 'cloud-test', 'lab'];

function parseArgs(argv) {
  const out = { root: '/' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value after ${key}`);
    if (key === '--host') out.host = value;
    else if (key === '--templates') out.templates = value;
    else if (key === '--root') out.root = value;
    else throw new Error(`unknown option ${key}`);
  }
  if (!out.host || !out.templates) throw new Error('usage: --host FILE --templates DIR [--root DIR]');
  return out;
}

function isIpv4(s) {
  return typeof s === 'string' && IPV4.test(s);
}

function isCidr(s, { allowAll = false } = {}) {
  if (typeof s !== 'string') return false;
  const [addr, len, rest] = s.split('/');
  if (rest !== undefined || !isIpv4(addr) || len === undefined || !/^\d{1,2}$/.test(len)) return false;
  const n = Number(len);
  return n <= 32 && (allowAll || n > 0);
}

/** Checks host.json; returns a list of problems (empty when fine). */
export function checkHost(h) {
  const p = [];
  const need = (cond, msg) => {
    if (!cond) p.push(msg);
  };
  need(h && typeof h === 'object', 'host.json: not a JSON object');
  if (p.length) return p;
  need(isCidr(h.bastion_cidr), `bastion_cidr "${h.bastion_cidr}": give the bastion's IPv4 CIDR (not /0)`);
  need(isCidr(h.management_cidr), `management_cidr "${h.management_cidr}": give the management network's IPv4 CIDR (not /0)`);
  need(Number.isInteger(h.management_port) && h.management_port > 0 && h.management_port < 65536,
    `management_port "${h.management_port}": a TCP port number`);
  need(Array.isArray(h.ssh_users) && h.ssh_users.length > 0 && h.ssh_users.every((u) => USER.test(u) && u !== 'root'),
    'ssh_users: a non-empty list of login names (not root)');
  need(Array.isArray(h.main_station_links) && h.main_station_links.length > 0 &&
    h.main_station_links.every((l) => l && isIpv4(l.address) && Number.isInteger(l.port) && l.port > 0 && l.port < 65536),
    'main_station_links: a non-empty list of { name, address (IPv4), port }');
  for (const key of ['time_servers', 'resolvers']) {
    need(Array.isArray(h[key]) && h[key].length > 0 && h[key].every(isIpv4), `${key}: a non-empty list of IPv4 addresses`);
  }
  need(Array.isArray(h.object_storage_cidrs) && h.object_storage_cidrs.length > 0 &&
    h.object_storage_cidrs.every((c) => isCidr(c)), 'object_storage_cidrs: a non-empty list of IPv4 CIDRs (not /0)');
  need(h.tw_template === undefined || TEMPLATES.includes(h.tw_template),
    `tw_template "${h.tw_template}": one of ${TEMPLATES.join(', ')}`);
  if (h.usbip !== undefined && h.usbip !== null) {
    need(isIpv4(h.usbip.server) && BUSID.test(String(h.usbip.busid)),
      'usbip: { server (IPv4), busid (as `usbip list -r` prints it, e.g. 1-1) }');
  }
  return p;
}

function fill(template, values, name) {
  return template.replace(/\{\{([a-z_]+)\}\}/g, (_, key) => {
    if (!(key in values)) throw new Error(`${name}: no value for {{${key}}}`);
    return values[key];
  });
}

/** Returns { relativePath: { text, mode } } for one host.json. */
export function renderHost(h, templateDir) {
  const read = (f) => readFileSync(join(templateDir, f), 'utf8');
  const files = {};
  const chrony = {
    servers: h.time_servers.map((s) => `server ${s} iburst minpoll 4 maxpoll 6`).join('\n'),
  };
  files['etc/chrony/chrony.conf'] = { text: fill(read('chrony.conf.tmpl'), chrony, 'chrony'), mode: 0o644 };
  const sshd = {
    allow_users: h.ssh_users.map((u) => `${u}@${h.bastion_cidr}`).join(' '),
    bastion_cidr: h.bastion_cidr,
  };
  files['etc/ssh/sshd_config.d/50-nqgw.conf'] = { text: fill(read('sshd-nqgw.conf.tmpl'), sshd, 'sshd'), mode: 0o644 };
  const extra = [];
  if (h.metadata_service !== false) extra.push('    ip daddr 169.254.169.254 tcp dport 80 accept');
  if (h.usbip) extra.push(`    ip daddr ${h.usbip.server} tcp dport 3240 accept`);
  const nft = {
    bastion_cidr: h.bastion_cidr,
    management_cidr: h.management_cidr,
    management_port: String(h.management_port),
    main_station_links: h.main_station_links.map((l) => `${l.address} . ${l.port}`).join(', '),
    time_servers: h.time_servers.join(', '),
    resolvers: h.resolvers.join(', '),
    object_storage: h.object_storage_cidrs.join(', '),
    extra_output: extra.join('\n'),
  };
  files['etc/nftables.d/nqgw.nft'] = { text: fill(read('nqgw.nft.tmpl'), nft, 'nftables'), mode: 0o644 };
  if (h.usbip) {
    files['etc/nqgw/usbip.env'] = {
      text: `# Rendered at first boot from /etc/nqgw/host.json\nUSBIP_HOST=${h.usbip.server}\nUSBIP_BUSID=${h.usbip.busid}\n`,
      mode: 0o640,
    };
  }
  files['etc/nqgw/firstboot.env'] = {
    text: `NQGW_TW_TEMPLATE=${h.tw_template ?? 'cloud-production'}\n`,
    mode: 0o640,
  };
  return files;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  let host;
  try {
    host = JSON.parse(readFileSync(args.host, 'utf8'));
  } catch (err) {
    process.stderr.write(`${args.host}: cannot read JSON (${err.message})\n`);
    process.exit(2);
  }
  const problems = checkHost(host);
  if (problems.length) {
    for (const line of problems) process.stderr.write(`${args.host}: ${line}\n`);
    process.exit(2);
  }
  const files = renderHost(host, args.templates);
  for (const [rel, { text, mode }] of Object.entries(files)) {
    const target = join(args.root, rel);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(`${target}.nqgw-new`, text, { mode });
    renameSync(`${target}.nqgw-new`, target);
    process.stdout.write(`rendered ${target}\n`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`nqgw-render-host: ${err.message}\n`);
    process.exit(2);
  }
}
