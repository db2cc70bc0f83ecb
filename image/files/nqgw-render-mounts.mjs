// The mounts of one replica, from /etc/nqgw/host.json (imported by nqgw-render-host.mjs):
//   counter_share  the broker's interface directory (NQWT.DBF/NQHB.DBF) over CIFS or NFS
//   state_volume   the replica's Cinder volume at /var/lib/nqgw
// Each becomes systemd units in /etc/systemd/system (a mount unit named after its mount point,
// as systemd requires; for CIFS a path unit that starts it once the credentials file is there;
// for the volume a oneshot that formats it only when blank) and a drop-in for nqgw.service.
// Plain Node, no dependencies, like the renderer.
//
// host.json (the contract with the Terraform module and the DR-site test):
//   "counter_share": { "protocol": "cifs", "source": "//10.0.2.2/counter",
//                      "mount_point": "/srv/counter",
//                      "credentials_file": "/etc/nqgw/secrets/counter-share.cred" }
//   (nfs: "source": "10.80.4.20:/export/counter", no credentials_file)
//   "state_volume": { "device": "/dev/disk/by-id/virtio-<first 20 characters of the volume id>" }

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const CIFS_SOURCE = /^\/\/([^/\s]+)\/([A-Za-z0-9$._-]+(?:\/[A-Za-z0-9$._-]+)*)$/;
const NFS_SOURCE = /^([^:/\s]+):(\/[A-Za-z0-9._/-]*)$/;
const MOUNT_POINT = /^\/(srv|mnt)\/[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/;
const SECRET_FILE = /^\/etc\/nqgw\/secrets\/[A-Za-z0-9._-]+$/;
const DEVICE = /^\/dev\/disk\/by-(id|path|label|uuid)\/[A-Za-z0-9._:-]+$/;

export const STATE_MOUNT_POINT = '/var/lib/nqgw';
/** The port the share's protocol needs, opened to the share's address only. */
export const SHARE_PORTS = { cifs: 445, nfs: 2049 };

/**
 * Mount options under which the other side's writes are seen at once and the order file's lock
 * (an O_EXCL create beside NQWT.DBF) is decided by the server, for both replicas:
 * - CIFS: cache=none (no page cache: every read goes to the server, and a write is not held back
 *   until close, where an append after the counter's could write a stale page back over its data),
 *   actimeo=0 (no attribute cache: the size grows the moment the counter appends; the default 1 s
 *   cache hides new orders for up to a second), SMB 3 (what current Windows servers speak, signed),
 *   files owned by nqgw 0660 (CIFS has no Unix owners; these are what the gateway sees).
 * - NFS: actimeo=0 and lookupcache=none (no attribute or name cache: a new NQHB.DBF or a grown
 *   NQWT.DBF is seen at once), hard (a server pause blocks writes instead of failing them half way),
 *   NFSv4 only (one TCP port, 2049; no portmapper/mountd), close-to-open semantics kept.
 */
export function shareOptions(share) {
  const common = ['nosuid', 'nodev', 'noexec', '_netdev'];
  if (share.protocol === 'cifs') {
    return [
      `credentials=${share.credentials_file}`,
      'vers=3',
      'cache=none',
      'actimeo=0',
      'uid=nqgw',
      'gid=nqgw',
      'file_mode=0660',
      'dir_mode=0770',
      ...common,
    ].join(',');
  }
  return ['vers=4', 'hard', 'timeo=600', 'retrans=2', 'actimeo=0', 'lookupcache=none', ...common].join(',');
}

/** systemd-escape --path: the unit name of a path (mount point or device), without suffix. */
export function escapePath(p) {
  const trimmed = p.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '-';
  return trimmed
    .split('/')
    .map((part) =>
      [...Buffer.from(part, 'utf8')]
        .map((b, i) => {
          const c = String.fromCharCode(b);
          if (/[A-Za-z0-9:_]/.test(c) || (c === '.' && i > 0)) return c;
          return `\\x${b.toString(16).padStart(2, '0')}`;
        })
        .join(''),
    )
    .join('-');
}

/** The file server's address of a share (IPv4: the firewall opens the share to it only). */
export function shareAddress(share) {
  const m = share.protocol === 'cifs' ? CIFS_SOURCE.exec(share.source) : NFS_SOURCE.exec(share.source);
  return m ? m[1] : null;
}

/** Problems of counter_share and state_volume in host.json (empty when fine or absent). */
export function checkMounts(h) {
  const p = [];
  const need = (cond, msg) => {
    if (!cond) p.push(msg);
  };
  const s = h.counter_share;
  if (s !== undefined && s !== null) {
    const keys = Object.keys(s).sort().join(',');
    need(
      s.protocol === 'cifs' || s.protocol === 'nfs',
      `counter_share.protocol "${s.protocol}": cifs or nfs`,
    );
    if (s.protocol === 'cifs') {
      need(
        keys === 'credentials_file,mount_point,protocol,source',
        'counter_share (cifs): exactly { protocol, source, mount_point, credentials_file }',
      );
      need(
        typeof s.source === 'string' && CIFS_SOURCE.test(s.source) && IPV4.test(shareAddress(s) ?? ''),
        `counter_share.source "${s.source}": //IPv4/share for cifs, e.g. //10.0.2.2/counter`,
      );
      need(
        typeof s.credentials_file === 'string' && SECRET_FILE.test(s.credentials_file),
        `counter_share.credentials_file "${s.credentials_file}": a file under /etc/nqgw/secrets/ (a path, never the password)`,
      );
    } else if (s.protocol === 'nfs') {
      need(
        keys === 'mount_point,protocol,source',
        'counter_share (nfs): exactly { protocol, source, mount_point }',
      );
      need(
        typeof s.source === 'string' && NFS_SOURCE.test(s.source) && IPV4.test(shareAddress(s) ?? ''),
        `counter_share.source "${s.source}": IPv4:/export for nfs, e.g. 10.80.4.20:/export/counter`,
      );
    }
    need(
      typeof s.mount_point === 'string' && MOUNT_POINT.test(s.mount_point),
      `counter_share.mount_point "${s.mount_point}": a directory under /srv or /mnt, e.g. /srv/counter`,
    );
  }
  const v = h.state_volume;
  if (v !== undefined && v !== null) {
    need(
      typeof v.device === 'string' && DEVICE.test(v.device),
      `state_volume.device "${v?.device}": a stable /dev/disk/by-id/... (or by-path, by-label, by-uuid) name`,
    );
  }
  return p;
}

function fill(template, values, name) {
  return template.replace(/\{\{([a-z_]+)\}\}/g, (_, key) => {
    if (!(key in values)) throw new Error(`${name}: no value for {{${key}}}`);
    return values[key];
  });
}

/**
 * The units, drop-ins, nftables lines and the units first boot enables for one host.json:
 * { files: { relativePath: { text, mode } }, nftOutput: [lines], enable: [units], startNow: [units],
 *   startLater: [units], stateDevice: the state volume's device path or '' }.
 */
export function renderMounts(h, read) {
  const files = {};
  const out = { files, nftOutput: [], enable: [], startNow: [], startLater: [], stateDevice: '' };
  const unitDir = 'etc/systemd/system';
  const s = h.counter_share;
  if (s) {
    const mount = `${escapePath(s.mount_point)}.mount`;
    const cifs = s.protocol === 'cifs';
    const values = {
      source: s.source,
      mount_point: s.mount_point,
      type: cifs ? 'cifs' : 'nfs4',
      options: shareOptions(s),
      // CIFS: the mount cannot start before an operator has placed the credentials (after first
      // boot, through the bastion): an assertion, so a gateway that Requires it fails loudly
      // instead of starting on the empty local directory. The path unit starts it when it appears.
      assert: cifs
        ? `AssertPathExists=${s.credentials_file}`
        : '# NFSv4: no credentials file (the export admits this host by address)',
      protocol: cifs ? 'CIFS/SMB 3' : 'NFSv4',
    };
    files[`${unitDir}/${mount}`] = {
      text: fill(read('counter-share.mount.tmpl'), values, 'counter-share.mount'),
      mode: 0o644,
    };
    files[`${unitDir}/nqgw.service.d/50-counter-share.conf`] = {
      text: fill(read('nqgw-counter-share.conf.tmpl'), { mount_point: s.mount_point, mount }, 'nqgw drop-in'),
      mode: 0o644,
    };
    out.enable.push(mount);
    if (cifs) {
      files[`${unitDir}/nqgw-counter-share.path`] = {
        text: fill(
          read('nqgw-counter-share.path.tmpl'),
          { credentials_file: s.credentials_file, mount },
          'counter-share.path',
        ),
        mode: 0o644,
      };
      out.enable.push('nqgw-counter-share.path');
      out.startLater.push('nqgw-counter-share.path');
    } else {
      out.startLater.push(mount);
    }
    out.nftOutput.push(`    ip daddr ${shareAddress(s)} tcp dport ${SHARE_PORTS[s.protocol]} accept`);
  }
  const v = h.state_volume;
  if (v) {
    const mount = `${escapePath(STATE_MOUNT_POINT)}.mount`;
    const values = {
      device: v.device,
      device_unit: `${escapePath(v.device)}.device`,
      mount_point: STATE_MOUNT_POINT,
      mount,
    };
    files[`${unitDir}/${mount}`] = {
      text: fill(read('state-volume.mount.tmpl'), values, 'state-volume.mount'),
      mode: 0o644,
    };
    files[`${unitDir}/nqgw-state-volume.service`] = {
      text: fill(read('nqgw-state-volume.service.tmpl'), values, 'nqgw-state-volume.service'),
      mode: 0o644,
    };
    files[`${unitDir}/nqgw.service.d/50-state-volume.conf`] = {
      text: fill(read('nqgw-state-volume.conf.tmpl'), values, 'nqgw drop-in'),
      mode: 0o644,
    };
    out.enable.push(mount);
    out.startNow.push(mount);
    // First boot waits for it: Terraform attaches the volume only once the server is up.
    out.stateDevice = v.device;
  }
  return out;
}
