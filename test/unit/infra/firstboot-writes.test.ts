import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO } from './hcl.js';
import { CIFS_SHARE, STATE_VOLUME } from './mount-fixtures.js';
import { EXAMPLE_HOST } from './user-data-template.js';

/**
 * nqgw-firstboot.service runs with ProtectSystem=full: /usr, /boot and /etc are read-only to it
 * except its ReadWritePaths=. A file the renderer writes elsewhere in /etc fails first boot on
 * a real replica (EROFS) while every test that runs the renderer outside the unit passes: the DR
 * site test found /etc/default/prometheus-node-exporter that way. So: everything the renderer
 * writes for a full host.json lies under a writable path of the unit.
 */
const UNIT = join(REPO, 'image', 'systemd', 'nqgw-firstboot.service');

function writablePaths(): string[] {
  return readFileSync(UNIT, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('ReadWritePaths='))
    .flatMap((l) => l.slice('ReadWritePaths='.length).trim().split(/\s+/));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe('what first boot writes is writable under its unit (ProtectSystem=full)', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('every rendered file outside /var lies under one of ReadWritePaths=', () => {
    expect(readFileSync(UNIT, 'utf8')).toMatch(/^ProtectSystem=full$/m);
    dir = mkdtempSync(join(tmpdir(), 'nqgw-firstboot-writes-'));
    const host = { ...EXAMPLE_HOST, counter_share: CIFS_SHARE, state_volume: STATE_VOLUME };
    writeFileSync(join(dir, 'host.json'), JSON.stringify(host));
    const root = join(dir, 'root');
    const r = spawnSync(
      process.execPath,
      [
        join(REPO, 'image', 'files', 'nqgw-render-host.mjs'),
        '--host',
        join(dir, 'host.json'),
        '--templates',
        join(REPO, 'image', 'templates'),
        '--root',
        root,
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const written = filesUnder(root).map((f) => `/${relative(root, f)}`);
    // The renderer writes the host's files: chrony, sshd, nftables, node_exporter, the mounts.
    expect(written.length).toBeGreaterThan(5);
    expect(written).toContain('/etc/default/prometheus-node-exporter');
    const allowed = writablePaths();
    const blocked = written.filter(
      (f) => !f.startsWith('/var/') && !allowed.some((p) => f === p || f.startsWith(`${p}/`)),
    );
    expect(blocked, `not writable under ${UNIT}: add to ReadWritePaths= or write elsewhere`).toEqual([]);
  });
});
