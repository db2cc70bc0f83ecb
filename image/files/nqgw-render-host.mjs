#!/usr/bin/env node
// Renders the host settings of one replica from /etc/nqgw/host.json (written by cloud-init):
//   /etc/chrony/chrony.conf, /etc/ssh/sshd_config.d/50-nqgw.conf, /etc/nftables.d/nqgw.nft,
//   /etc/nqgw/usbip.env and /etc/nqgw/usbip-tunnel.conf (only when host.json names a usbip
//   server), /etc/nqgw/firstboot.env; the mounts of the counter's share and the state volume
//   (systemd units in /etc/systemd/system, nqgw-render-mounts.mjs).
// Plain Node, no dependencies: it runs from the image before anything else is configured.
//
// usage: node nqgw-render-host.mjs --host FILE --templates DIR [--root DIR]
// Exit 0 on success; 2 with one line per problem on a bad host.json.
import { readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkMounts, renderMounts } from './nqgw-render-mounts.mjs';

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
  need(
    isCidr(h.management_cidr),
    `management_cidr "${h.management_cidr}": give the management network's IPv4 CIDR (not /0)`,
  );
  need(
    Number.isInteger(h.management_port) && h.management_port > 0 && h.management_port < 65536,
    `management_port "${h.management_port}": a TCP port number`,
  );
  need(
    Array.isArray(h.ssh_users) &&
      h.ssh_users.length > 0 &&
      h.ssh_users.every((u) => USER.test(u) && u !== 'root'),
    'ssh_users: a non-empty list of login names (not root)',
  );
  need(
    Array.isArray(h.main_station_links) &&
      h.main_station_links.length > 0 &&
      h.main_station_links.every(
        (l) => l && isIpv4(l.address) && Number.isInteger(l.port) && l.port > 0 && l.port < 65536,
      ),
    'main_station_links: a non-empty list of { name, address (IPv4), port }',
  );
  for (const key of ['time_servers', 'resolvers']) {
    need(
      Array.isArray(h[key]) && h[key].length > 0 && h[key].every(isIpv4),
      `${key}: a non-empty list of IPv4 addresses`,
    );
  }
  need(
    Array.isArray(h.object_storage_cidrs) &&
      h.object_storage_cidrs.length > 0 &&
      h.object_storage_cidrs.every((c) => isCidr(c)),
    'object_storage_cidrs: a non-empty list of IPv4 CIDRs (not /0)',
  );
  need(
    h.tw_template === undefined || TEMPLATES.includes(h.tw_template),
    `tw_template "${h.tw_template}": one of ${TEMPLATES.join(', ')}`,
  );
  need(
    h.management_address === undefined || isIpv4(h.management_address),
    `management_address "${h.management_address}": the replica's own IPv4 address (node_exporter listens there)`,
  );
  if (h.usbip !== undefined && h.usbip !== null) {
    need(
      isIpv4(h.usbip.server) && BUSID.test(String(h.usbip.busid)),
      'usbip: { server (IPv4), busid (as `usbip list -r` prints it, e.g. 1-1) }',
    );
    need(
      h.usbip.tunnel_port === undefined ||
        (Number.isInteger(h.usbip.tunnel_port) &&
          h.usbip.tunnel_port > 0 &&
          h.usbip.tunnel_port < 65536 &&
          h.usbip.tunnel_port !== 3240),
      `usbip.tunnel_port "${h.usbip.tunnel_port}": the TCP port of the USB host's stunnel server (not 3240: plain USB/IP)`,
    );
  }
  p.push(...checkMounts(h)); // counter_share, state_volume
  return p;
}

function fill(template, values, name) {
  return template.replace(/\{\{([a-z_]+)\}\}/g, (_, key) => {
    if (!(key in values)) throw new Error(`${name}: no value for {{${key}}}`);
    return values[key];
  });
}

// The stunnel client of nqgw-usbip-tunnel.service reads its key and certificates here: systemd
// copies them in from /etc/nqgw/usbip-tunnel/ (LoadCredential=) for the unit's dynamic user.
const USBIP_CREDENTIALS = '/run/credentials/nqgw-usbip-tunnel.service';
const USBIP_TUNNEL_PORT = 3241;

function usbipTunnelPort(h) {
  return h.usbip.tunnel_port ?? USBIP_TUNNEL_PORT;
}

/**
 * The usbip part of a host.json: usbip.env for nqgw-usbip.sh and the stunnel client config of
 * nqgw-usbip-tunnel.service. credentialsDir is where the config points stunnel for its key and
 * certificates (the tunnel test renders with its own).
 */
export function renderUsbip(h, read, credentialsDir = USBIP_CREDENTIALS) {
  const port = usbipTunnelPort(h);
  const tunnel = { server: h.usbip.server, tunnel_port: String(port), credentials_dir: credentialsDir };
  return {
    'etc/nqgw/usbip.env': {
      text: `# Rendered at first boot from /etc/nqgw/host.json\nUSBIP_SERVER=${h.usbip.server}\nUSBIP_TUNNEL_PORT=${port}\nUSBIP_BUSID=${h.usbip.busid}\n`,
      mode: 0o640,
    },
    'etc/nqgw/usbip-tunnel.conf': {
      text: fill(read('stunnel-usbip-client.conf.tmpl'), tunnel, 'stunnel-usbip-client'),
      mode: 0o640,
    },
  };
}

// Host monitoring (docs/ops.md "Host monitoring"): Debian's prometheus-node-exporter, on the
// replica's management address only (nftables and the security group admit management_cidr to
// NODE_EXPORTER_PORT), loopback when host.json has no management_address. Only the collectors
// the rules use, plus network and disk I/O for the practice's network and host watch.
export const NODE_EXPORTER_PORT = 9100;
export const NODE_EXPORTER_TEXTFILE_DIR = '/var/lib/prometheus/node-exporter';
const NODE_EXPORTER_COLLECTORS = [
  'cpu',
  'meminfo',
  'loadavg',
  'filesystem',
  'diskstats',
  'netdev',
  'timex',
  'textfile',
  'time',
  'uname',
];

/** node_exporter's command line for one host.json (ARGS of /etc/default/prometheus-node-exporter). */
export function nodeExporterArgs(h) {
  return [
    `--web.listen-address=${h.management_address ?? '127.0.0.1'}:${NODE_EXPORTER_PORT}`,
    '--web.disable-exporter-metrics',
    '--collector.disable-defaults',
    ...NODE_EXPORTER_COLLECTORS.map((c) => `--collector.${c}`),
    `--collector.textfile.directory=${NODE_EXPORTER_TEXTFILE_DIR}`,
    // Debian's default leaves out /mnt and /media: a share mounted there must still be seen.
    '--collector.filesystem.mount-points-exclude=^/(dev|proc|run|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)',
  ];
}

/**
 * The filesystems the host rules watch (nqgw_volume_info, joined on instance and mountpoint by
 * appliance/data/prometheus/nqgw-host.rules.yml): /, the state volume, the counter's share.
 */
export function nodeExporterVolumes(h) {
  const esc = (v) => String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const lines = [
    '# Rendered at first boot from /etc/nqgw/host.json by nqgw-render-host (docs/ops.md).',
    "# HELP nqgw_volume_info A filesystem the gateway depends on; share is cifs/nfs for the counter's share.",
    '# TYPE nqgw_volume_info gauge',
    'nqgw_volume_info{mountpoint="/",volume="root",share=""} 1',
    'nqgw_volume_info{mountpoint="/var/lib/nqgw",volume="state",share=""} 1',
  ];
  const share = h.counter_share;
  if (share && share.mount_point)
    lines.push(
      `nqgw_volume_info{mountpoint="${esc(share.mount_point)}",volume="dbf",share="${esc(share.protocol ?? 'cifs')}"} 1`,
    );
  return `${lines.join('\n')}\n`;
}

export function renderNodeExporter(h) {
  return {
    'etc/default/prometheus-node-exporter': {
      text: `# Rendered at first boot from /etc/nqgw/host.json by nqgw-render-host (docs/ops.md).\nARGS="${nodeExporterArgs(h).join(' ')}"\n`,
      mode: 0o644,
    },
    [`${NODE_EXPORTER_TEXTFILE_DIR.slice(1)}/nqgw.prom`]: { text: nodeExporterVolumes(h), mode: 0o644 },
  };
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
  files['etc/ssh/sshd_config.d/50-nqgw.conf'] = {
    text: fill(read('sshd-nqgw.conf.tmpl'), sshd, 'sshd'),
    mode: 0o644,
  };
  const extra = [];
  if (h.metadata_service !== false) extra.push('    ip daddr 169.254.169.254 tcp dport 80 accept');
  // USB/IP only through the TLS tunnel: its port on the USB host, never plain 3240.
  if (h.usbip) extra.push(`    ip daddr ${h.usbip.server} tcp dport ${usbipTunnelPort(h)} accept`);
  // The counter's share (445 or 2049 to its address) and the state volume: nqgw-render-mounts.mjs.
  const mounts = renderMounts(h, read);
  extra.push(...mounts.nftOutput);
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
  if (h.usbip) Object.assign(files, renderUsbip(h, read));
  Object.assign(files, renderNodeExporter(h));
  Object.assign(files, mounts.files);
  files['etc/nqgw/firstboot.env'] = {
    text:
      `NQGW_TW_TEMPLATE=${h.tw_template ?? 'cloud-production'}\n` +
      // Units nqgw-firstboot.sh enables, starts and waits for (the state volume), and starts
      // without waiting (the share: it may wait for its credentials or its server).
      (mounts.enable.length === 0
        ? ''
        : `NQGW_UNITS_ENABLE="${mounts.enable.join(' ')}"\nNQGW_UNITS_START="${mounts.startNow.join(' ')}"\n` +
          `NQGW_UNITS_START_NO_BLOCK="${mounts.startLater.join(' ')}"\nNQGW_STATE_DEVICE="${mounts.stateDevice}"\n`),
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
