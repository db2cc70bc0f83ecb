import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../process.js';
import { mustRun } from './run.js';

export const CACHE_DIR = process.env['NQGW_DRSITE_CACHE'] ?? '/var/cache/nqgw-drsite';

export interface Artifacts {
  bundle: string;
  node: string;
  nodeSha256: string;
  /** Which scripts made them. */
  by: string;
}

/**
 * The appliance bundle and the Node tarball the image is built with, made as a release makes
 * them: scripts/node-dist.sh (the pinned Node 24) and scripts/bundle.sh (npm ci from the lock).
 */
export async function makeArtifacts(out: string): Promise<Artifacts> {
  // NQGW_DRSITE_ARTIFACTS=DIR: reuse a bundle and Node tarball made before (one of the scripts
  // below), so that re-runs while working on the test hit the image cache.
  const given = process.env['NQGW_DRSITE_ARTIFACTS'];
  if (given) return artifactsIn(given, `NQGW_DRSITE_ARTIFACTS=${given}`);
  await mustRun('bash', [path.join(REPO, 'scripts/node-dist.sh'), out], { timeoutMs: 900_000 });
  await mustRun('bash', [path.join(REPO, 'scripts/bundle.sh'), out], { timeoutMs: 900_000 });
  const by = 'scripts/node-dist.sh + scripts/bundle.sh';
  return artifactsIn(out, by);
}

function artifactsIn(dir: string, by: string): Artifacts {
  const sha = /\b[0-9a-f]{64}\b/.exec(readFileSync(path.join(dir, 'node.sha256'), 'utf8'));
  if (!sha) throw new Error(`${dir}/node.sha256 holds no SHA-256`);
  return {
    bundle: path.join(dir, 'nqgw-bundle.tar.gz'),
    node: path.join(dir, 'node.tar.xz'),
    nodeSha256: sha[0],
    by,
  };
}

export interface BuiltImage {
  dir: string;
  kernel: string;
  initrd: string;
  disk: string;
  cacheHit: boolean;
  log: string;
}

/** scripts/drsite/build-image.sh: the bootable disk, from the cache when its inputs are unchanged. */
export async function buildImage(a: Artifacts): Promise<BuiltImage> {
  // NQGW_DRSITE_IMAGE_DIR=DIR: boot an image built before by build-image.sh (DIR holds its
  // root.qcow2, vmlinuz, initrd.img), e.g. one built from a work tree with a fix under test.
  const given = process.env['NQGW_DRSITE_IMAGE_DIR'];
  if (given) {
    return {
      dir: given,
      kernel: path.join(given, 'vmlinuz'),
      initrd: path.join(given, 'initrd.img'),
      disk: path.join(given, 'root.qcow2'),
      cacheHit: true,
      log: `drsite-image: NQGW_DRSITE_IMAGE_DIR=${given}`,
    };
  }
  const r = await mustRun(
    'bash',
    [
      path.join(REPO, 'scripts/drsite/build-image.sh'),
      '--bundle',
      a.bundle,
      '--node',
      a.node,
      '--node-sha256',
      a.nodeSha256,
      '--cache',
      CACHE_DIR,
    ],
    { timeoutMs: 1_500_000 },
  );
  const dir = /drsite-image: (\/\S+)\s*$/.exec(r.stdout)?.[1];
  if (!dir) throw new Error(`build-image.sh named no image directory:\n${r.stdout.slice(-3000)}`);
  return {
    dir,
    kernel: path.join(dir, 'vmlinuz'),
    initrd: path.join(dir, 'initrd.img'),
    disk: path.join(dir, 'root.qcow2'),
    cacheHit: /drsite-image: cache hit/.test(r.stdout),
    log: r.stdout,
  };
}
