import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IMAGE, output, run } from './tools.js';

/**
 * nqgw-state-volume.sh, the only thing that may format a replica's state volume: it formats a
 * blank volume and must never touch one that holds anything. Run for real, as root, on a loop
 * device (a regular file where this machine gives no loop devices: the script's test switch).
 */
const SCRIPT = join(IMAGE, 'files', 'nqgw-state-volume.sh');
const SIZE = 32 * 1024 * 1024;
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const HAS_TOOLS = ['blkid', 'mkfs.ext4', 'debugfs', 'mkswap', 'sfdisk'].every(
  (t) =>
    spawnSync('sh', ['-c', `command -v ${t} || test -x /usr/sbin/${t} || test -x /sbin/${t}`]).status === 0,
);

describe.skipIf(!IS_ROOT || !HAS_TOOLS)(
  'state volume: formatted only when blank (nqgw-state-volume.sh)',
  () => {
    let dir: string;
    let image: string;
    let device: string;
    let loop: string | null = null;
    const env = { ...process.env, PATH: `/usr/sbin:/sbin:${process.env.PATH ?? ''}` };

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'nqgw-statevol-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    beforeEach(() => {
      image = join(dir, 'volume.img');
      writeFileSync(image, Buffer.alloc(0));
      spawnSync('truncate', ['-s', String(SIZE), image]);
      const r = spawnSync('losetup', ['--find', '--show', image], { encoding: 'utf8', env });
      loop = r.status === 0 ? r.stdout.trim() : null;
      device = loop ?? image;
    });
    afterEach(() => {
      if (loop) spawnSync('losetup', ['-d', loop], { env });
      loop = null;
      rmSync(image, { force: true });
    });

    const prepare = () =>
      run('bash', [SCRIPT, device], { env: { ...env, NQGW_STATE_VOLUME_TEST: loop ? '0' : '1' } });
    /** The volume's bytes as the backing file holds them (the loop device's buffers flushed first). */
    const sha = () => {
      if (loop) spawnSync('blockdev', ['--flushbufs', loop], { env });
      return createHash('sha256').update(readFileSync(image)).digest('hex');
    };
    const blkid = (tag: string) =>
      spawnSync('blkid', ['-p', '-o', 'value', '-s', tag, device], { encoding: 'utf8', env }).stdout.trim();

    it('formats a blank volume as ext4 labelled nqgw-state', () => {
      const r = prepare();
      expect(r.status, output(r)).toBe(0);
      expect(r.stdout).toMatch(/is blank: formatting ext4, label nqgw-state/);
      expect(blkid('TYPE')).toBe('ext4');
      expect(blkid('LABEL')).toBe('nqgw-state');
    });

    it('keeps an ext4 volume that holds data: the same bytes, the file still there', () => {
      expect(prepare().status).toBe(0);
      const marker = join(dir, 'journal-marker');
      writeFileSync(marker, 'orders journal of gw-a\n');
      const w = spawnSync('debugfs', ['-w', '-R', `write ${marker} journal.txt`, device], {
        encoding: 'utf8',
        env,
      });
      expect(w.status, w.stderr).toBe(0);
      const before = sha();
      const r = prepare();
      expect(r.status, output(r)).toBe(0);
      expect(r.stdout).toMatch(/holds an ext4 filesystem \(label nqgw-state\): kept, not formatted/);
      expect(sha()).toBe(before);
      const cat = spawnSync('debugfs', ['-R', 'cat journal.txt', device], { encoding: 'utf8', env });
      expect(cat.stdout).toBe('orders journal of gw-a\n');
    });

    it.each([
      ['another filesystem (swap)', () => spawnSync('mkswap', [device], { env }).status, /TYPE=swap/],
      [
        'a partition table',
        () => spawnSync('sfdisk', ['--quiet', device], { input: 'label: dos\n,\n', env }).status,
        /PTTYPE=dos/,
      ],
      [
        'data without any signature',
        () => {
          const buf = readFileSync(image);
          randomBytes(4096).copy(buf, 8192);
          writeFileSync(image, buf);
          return 0;
        },
        /no known signature but holds data/,
      ],
    ])('refuses a volume holding %s and leaves every byte as it was', (_what, make, message) => {
      expect(make()).toBe(0);
      const before = sha();
      const r = prepare();
      expect(r.status, output(r)).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/refused, nothing changed/);
      expect(sha()).toBe(before);
    });

    it('refuses a path that is not a block device (no volume attached)', () => {
      const r = run('bash', [SCRIPT, join(dir, 'nothing-here')], { env });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/is not a block device/);
    });
  },
);
