import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { IMAGE, output, REPO, run, tool } from './tools.js';

const scripts = [
  ...readdirSync(join(IMAGE, 'scripts')).map((n) => join('image/scripts', n)),
  ...readdirSync(join(IMAGE, 'build')).map((n) => join('image/build', n)),
  ...readdirSync(join(IMAGE, 'files'))
    .filter((n) => n.endsWith('.sh'))
    .map((n) => join('image/files', n)),
  // Every script of the repository's own scripts/ (ci-deps/lib is sourced, not run: no shebang).
  ...['scripts', 'scripts/ci-deps', 'scripts/drsite', 'scripts/usbip-host'].flatMap((d) =>
    readdirSync(join(REPO, d)).map((n) => `${d}/${n}`),
  ),
].filter((p) => p.endsWith('.sh'));

describe('shell scripts', () => {
  let shellcheck: string;
  beforeAll(() => {
    shellcheck = tool('shellcheck');
  });

  it('covers the provisioning, first-boot and check scripts', () => {
    expect(scripts).toEqual(
      expect.arrayContaining([
        'image/scripts/10-base.sh',
        'image/build/apt-mirror.sh',
        'image/files/nqgw-api-token.sh',
        'image/files/nqgw-firstboot.sh',
        'scripts/check-image.sh',
        'scripts/test.sh',
        'scripts/drsite/build-image.sh',
      ]),
    );
  });

  it.each(scripts)('%s is bash with set -euo pipefail and shellcheck-clean', (rel) => {
    const text = readFileSync(join(REPO, rel), 'utf8');
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toMatch(/^set -euo pipefail$/m);
    const r = run(shellcheck, ['-x', '--severity=info', rel]);
    expect(r.status, output(r)).toBe(0);
  });

  it('provisioning fetches nothing from the network itself (no curl, wget or npm)', () => {
    for (const rel of scripts.filter((s) => s.startsWith('image/'))) {
      const code = readFileSync(join(REPO, rel), 'utf8').replace(/^\s*#.*$/gm, '');
      expect(code, rel).not.toMatch(/\b(curl|wget|npm|npx)\b/);
    }
  });
});
