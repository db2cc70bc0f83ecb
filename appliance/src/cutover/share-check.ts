/**
 * Cutover's check of the counter's share. When tw.ini says the DBF files live on a share
 * ([share] mount_point, which the Terraform module sets with counter_share, and orders/returns
 * under it), the directory must really be that share, mounted over CIFS/SMB or NFS. If the mount
 * is missing, the directory is the replica's own empty folder under the mount point: the gateway
 * would start on a local NQWT.DBF nobody writes, the counter's orders would wait unseen on the
 * share, and the lock beside NQWT.DBF would guard nothing against the other replica.
 *
 * Read from /proc/self/mountinfo (what the kernel has mounted, not what fstab or a unit file
 * says), so a mount that failed or was never started is seen as missing.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TwConfig } from '../config/index.js';
import type { StepOutcome } from './report.js';

/** Stable codes of this check's refusals (in the detail text, where scripts find them). */
export const SHARE_NOT_MOUNTED = 'NQ750';
export const SHARE_NOT_NETWORK = 'NQ751';

/** Filesystem types of a share that another host (the counter, the other replica) also sees. */
export const NETWORK_FS_TYPES = ['cifs', 'smb3', 'nfs', 'nfs4'] as const;

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
}

/** mountinfo escapes space, tab, newline and backslash as \040, \011, \012, \134. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * The mounts of /proc/self/mountinfo, in its order (a later line mounted over an earlier one at
 * the same point). Format (proc(5)): id parent major:minor root mount-point options
 * [optional fields...] - fstype source super-options.
 */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    const dash = fields.indexOf('-');
    if (dash < 6 || fields.length < dash + 3) continue;
    out.push({
      mountPoint: unescape(fields[4]!),
      fsType: fields[dash + 1]!,
      source: unescape(fields[dash + 2]!),
    });
  }
  return out;
}

/** The mount that holds `dir`: the longest mount point that is `dir` or a parent of it. */
export function mountOf(entries: readonly MountEntry[], dir: string): MountEntry | null {
  let best: MountEntry | null = null;
  for (const e of entries) {
    const inside = e.mountPoint === '/' || dir === e.mountPoint || dir.startsWith(`${e.mountPoint}/`);
    // >= : of two mounts on one point, the later one is on top.
    if (inside && (best === null || e.mountPoint.length >= best.mountPoint.length)) best = e;
  }
  return best;
}

/**
 * null when there is nothing to refuse: no [share] mount_point, the DBF directories are not
 * under it (a drill's scratch copy), or they are on a mounted CIFS/NFS share. Otherwise the FAIL
 * outcome for cutover's directory step.
 */
export function checkShareMount(
  config: TwConfig,
  readMountinfo: () => string = () => readFileSync('/proc/self/mountinfo', 'utf8'),
): StepOutcome | null {
  const raw = config.extra['share']?.['mount_point']?.trim() ?? '';
  if (raw === '') return null;
  const mountPoint = path.resolve(raw);
  const dirs = [...new Set([path.dirname(config.files.orders), path.dirname(config.files.returns)])].filter(
    (d) => d === mountPoint || d.startsWith(`${mountPoint}/`),
  );
  if (dirs.length === 0) return null;
  const entries = parseMountinfo(readMountinfo());
  const unit = `${mountUnitName(mountPoint)}`;
  for (const dir of dirs) {
    const m = mountOf(entries, dir);
    const under = m !== null && (m.mountPoint === mountPoint || m.mountPoint.startsWith(`${mountPoint}/`));
    if (!under) {
      return {
        verdict: 'FAIL',
        detail: `${SHARE_NOT_MOUNTED} the counter's share is not mounted at ${mountPoint}: ${dir} is on ${m?.mountPoint ?? '?'} (${m?.fsType ?? '?'}), the replica's own disk, where the counter writes nothing`,
        hint: `check the credentials file is in place, then: sudo systemctl start ${unit}; journalctl -u ${unit} says why it failed (docs/image.md, "The counter's share")`,
      };
    }
    if (!(NETWORK_FS_TYPES as readonly string[]).includes(m.fsType)) {
      return {
        verdict: 'FAIL',
        detail: `${SHARE_NOT_NETWORK} ${mountPoint} is a ${m.fsType} filesystem (${m.source}), not the counter's CIFS/NFS share: the counter and the other replica would not see these files`,
        hint: `unmount it and start ${unit} (the share rendered at first boot from counter_share)`,
      };
    }
  }
  return null;
}

/** systemd's unit name of a mount point (what `systemd-escape --path --suffix=mount` prints). */
export function mountUnitName(mountPoint: string): string {
  const trimmed = mountPoint.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '-.mount';
  const escaped = trimmed
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
  return `${escaped}.mount`;
}
