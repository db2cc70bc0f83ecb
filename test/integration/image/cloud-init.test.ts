import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_HOST, EXAMPLE_VALUES, renderUserData } from '../../unit/infra/user-data-template.js';
import { IMAGE, output, run, tool } from './tools.js';

describe('cloud-init schema', () => {
  let cloudInit: string;
  let tmp: string;
  beforeAll(() => {
    cloudInit = tool('cloud-init');
    tmp = mkdtempSync(join(tmpdir(), 'nqgw-cloudinit-'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  function schema(file: string) {
    return run(cloudInit, ['schema', '--config-file', file]);
  }

  it.each([
    ['image/cloud-init/user-data.yaml', join(IMAGE, 'cloud-init', 'user-data.yaml')],
    ['image/qemu-seed/user-data', join(IMAGE, 'qemu-seed', 'user-data')],
  ])('%s is valid cloud-config, without deprecations', (_name, file) => {
    const r = schema(file);
    expect(r.status, output(r)).toBe(0);
    expect(r.stdout).toMatch(/^Valid cloud-config/m);
    expect(r.stdout + r.stderr).not.toMatch(/DEPRECATED/);
  });

  it('the user-data the Terraform module renders is valid cloud-config', () => {
    const file = join(tmp, 'module-user-data.yaml');
    writeFileSync(
      file,
      renderUserData({
        hostname: 'nqgw-dr-gw-a',
        values_json: JSON.stringify({ ...EXAMPLE_VALUES, note: 'a: "quoted" # not a comment\n中文' }),
        host_json: JSON.stringify(EXAMPLE_HOST),
      }),
    );
    const r = schema(file);
    expect(r.status, output(r)).toBe(0);
  });

  it('the check fails a broken document (so passing means something)', () => {
    const file = join(tmp, 'broken.yaml');
    writeFileSync(file, '#cloud-config\nwrite_files:\n  - path: /etc/nqgw/values.json\n    contents: "{}"\n');
    const r = schema(file);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/contents/);
  });
});
