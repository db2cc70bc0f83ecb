import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE, output, run, tool } from './tools.js';

describe('packer template (Debian packer 1.6.6)', () => {
  let packer: string;
  let tmp: string;
  beforeAll(() => {
    packer = tool('packer');
    tmp = mkdtempSync(join(tmpdir(), 'nqgw-packer-'));
    writeFileSync(join(tmp, 'bundle.tar.gz'), '');
    writeFileSync(join(tmp, 'node.tar.xz'), '');
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** packer validate -only=qemu.local on image/, each setting given as -var name=value. */
  const validateQemu = (vars: Record<string, string>): ReturnType<typeof run> =>
    run(packer, [
      'validate',
      '-only=qemu.local',
      ...Object.entries(vars).flatMap(([name, value]) => ['-var', `${name}=${value}`]),
      IMAGE,
    ]);

  it('is packer 1.6.x, whose openstack and qemu builders are built in', () => {
    const r = run(packer, ['version']);
    expect(r.stdout).toMatch(/Packer v1\.6\./);
  });

  it('validate -syntax-only accepts image/ (both sources)', () => {
    const r = run(packer, ['validate', '-syntax-only', IMAGE]);
    expect(r.status, output(r)).toBe(0);
    expect(r.stdout).toContain('Syntax-only check passed');
  });

  it('validate -only=qemu.local checks the source, every provisioner and the uploaded files', () => {
    const r = validateQemu({
      appliance_bundle: join(tmp, 'bundle.tar.gz'),
      node_dist: join(tmp, 'node.tar.xz'),
      node_sha256: '0'.repeat(64),
    });
    expect(r.status, output(r)).toBe(0);
    expect(r.stderr).not.toMatch(/Error/);
  });

  it('full validation fails when the bundle to upload is missing (the check looks at files)', () => {
    const r = validateQemu({
      appliance_bundle: join(tmp, 'missing.tar.gz'),
      node_dist: join(tmp, 'node.tar.xz'),
      node_sha256: '0'.repeat(64),
    });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Bad source .*missing\.tar\.gz/);
  });

  it('refuses to validate without node_sha256: the Node tarball is always checked', () => {
    const r = validateQemu({
      appliance_bundle: join(tmp, 'bundle.tar.gz'),
      node_dist: join(tmp, 'node.tar.xz'),
    });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/node_sha256/);
  });

  it('rejects required_plugins, which is why that block lives in plugins.pkr.hcl.disabled', () => {
    const dir = join(tmp, 'with-plugins');
    cpSync(IMAGE, dir, { recursive: true });
    cpSync(join(dir, 'plugins.pkr.hcl.disabled'), join(dir, 'plugins.pkr.hcl'));
    const r = run(packer, ['validate', '-syntax-only', dir]);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Blocks of type "required_plugins" are not expected here/);
  });
});
