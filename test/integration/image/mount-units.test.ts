import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIFS_SHARE, NFS_SHARE, STATE_VOLUME } from '../../unit/infra/mount-fixtures.js';
import { EXAMPLE_HOST } from '../../unit/infra/user-data-template.js';
import { IMAGE, output, REPO, requireRoot, run, tool, unitRoot } from './tools.js';

/**
 * The units first boot renders for the counter's share and the state volume, checked by systemd
 * itself: `systemd-analyze verify` beside the image's own units (nqgw.service with its rendered
 * drop-ins), and `systemd-analyze security` for the one service among them.
 */
const RENDERER = join(REPO, 'image', 'files', 'nqgw-render-host.mjs');

function renderInto(root: string, host: unknown): void {
  const scratch = mkdtempSync(join(tmpdir(), 'nqgw-mount-units-'));
  try {
    writeFileSync(join(scratch, 'host.json'), JSON.stringify(host));
    const r = spawnSync(
      process.execPath,
      [
        RENDERER,
        '--host',
        join(scratch, 'host.json'),
        '--templates',
        join(IMAGE, 'templates'),
        '--root',
        scratch,
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`render failed: ${r.stderr}`);
    cpSync(join(scratch, 'etc', 'systemd', 'system'), join(root, 'etc', 'systemd', 'system'), {
      recursive: true,
    });
    // Stubs at the paths the rendered units execute, as unitRoot() does for the image's units.
    for (const f of readdirSync(join(scratch, 'etc', 'systemd', 'system'))) {
      if (!f.endsWith('.service')) continue;
      const text = readFileSync(join(scratch, 'etc', 'systemd', 'system', f), 'utf8');
      for (const m of text.matchAll(/^Exec[A-Za-z]*=[-+!@:]*(\/\S+)/gm)) {
        const exe = join(root, m[1]!);
        mkdirSync(dirname(exe), { recursive: true });
        writeFileSync(exe, '#!/bin/sh\nexit 0\n');
        chmodSync(exe, 0o755);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

describe.each([
  ['cifs', CIFS_SHARE],
  ['nfs', NFS_SHARE],
])('rendered mount units (%s share + state volume): systemd-analyze', (_name, share) => {
  let analyze: string;
  let root: string;
  beforeAll(() => {
    analyze = tool('systemd-analyze');
    root = unitRoot();
    renderInto(root, { ...EXAMPLE_HOST, counter_share: share, state_volume: STATE_VOLUME });
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const units = () =>
    readdirSync(join(root, 'etc/systemd/system')).filter(
      (u) => /\.(mount|path)$/.test(u) || u === 'nqgw-state-volume.service',
    );

  it('renders the share and volume units', () => {
    const expected = ['nqgw-state-volume.service', 'srv-counter.mount', 'var-lib-nqgw.mount'];
    if (share.protocol === 'cifs') expected.push('nqgw-counter-share.path');
    expect(units().sort()).toEqual(expected.sort());
  });

  it('verify: every rendered unit, and nqgw.service with its drop-ins, without a warning', () => {
    for (const unit of [...units(), 'nqgw.service']) {
      const r = run(analyze, ['verify', '--man=no', `--root=${root}`, unit]);
      expect(r.status, `${unit}\n${output(r)}`).toBe(0);
      expect(r.stderr.trim(), `${unit}\n${output(r)}`).toBe('');
    }
  });

  it('verify reads the drop-ins (a misspelt key there is reported, so the silence above means something)', () => {
    const dropIn = join(root, 'etc/systemd/system/nqgw.service.d/50-counter-share.conf');
    const good = readFileSync(dropIn, 'utf8');
    try {
      writeFileSync(dropIn, good.replace('RequiresMountsFor=', 'RequiresMountFor='));
      const r = run(analyze, ['verify', '--man=no', `--root=${root}`, 'nqgw.service']);
      expect(r.stderr).toMatch(/Unknown key 'RequiresMountFor'/);
    } finally {
      writeFileSync(dropIn, good);
    }
  });

  it('nft -c accepts the ruleset with the share rule', () => {
    const nft = tool('nft');
    requireRoot('nft -c');
    const scratch = mkdtempSync(join(tmpdir(), 'nqgw-mount-nft-'));
    try {
      writeFileSync(join(scratch, 'host.json'), JSON.stringify({ ...EXAMPLE_HOST, counter_share: share }));
      const r = spawnSync(
        process.execPath,
        [
          RENDERER,
          '--host',
          join(scratch, 'host.json'),
          '--templates',
          join(IMAGE, 'templates'),
          '--root',
          scratch,
        ],
        { encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      const rules = join(scratch, 'etc/nftables.d/nqgw.nft');
      expect(readFileSync(rules, 'utf8')).toMatch(/tcp dport (445|2049) accept/);
      const c = run(nft, ['-c', '-f', rules]);
      expect(c.status, output(c)).toBe(0);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('the format-if-blank service is locked down (exposure below 2.0)', () => {
    const r = run(analyze, [
      'security',
      '--offline=yes',
      `--root=${root}`,
      '--no-pager',
      'nqgw-state-volume.service',
    ]);
    expect(r.status, output(r)).toBe(0);
    const score = Number(/Overall exposure level for \S+: (\d+\.\d)/.exec(r.stdout)?.[1]);
    console.log(`systemd-analyze security nqgw-state-volume.service: ${score}`);
    expect(score).toBeLessThan(2.0);
  });
});
