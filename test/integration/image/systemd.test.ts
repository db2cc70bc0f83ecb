import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { output, run, tool, unitRoot, UNITS } from './tools.js';

/** Highest `systemd-analyze security` exposure accepted per unit (0 = locked down, 10 = open). */
const MAX_EXPOSURE: Record<string, number> = {
  'nqgw.service': 4.0,
  'nqgw-firstboot.service': 5.0,
  'nqgw-usbip.service': 5.0,
};

describe('systemd units (systemd-analyze)', () => {
  let analyze: string;
  let root: string;
  beforeAll(() => {
    analyze = tool('systemd-analyze');
    root = unitRoot();
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('ships the gateway, first-boot and usbip units, each with an exposure limit', () => {
    expect(UNITS).toEqual(['nqgw-firstboot.service', 'nqgw-usbip.service', 'nqgw.service']);
    for (const u of UNITS) expect(MAX_EXPOSURE[u], `no exposure limit for ${u}`).toBeDefined();
  });

  it.each(UNITS)('systemd-analyze verify %s: no errors, no warnings', (unit) => {
    const r = run(analyze, ['verify', '--man=no', `--root=${root}`, unit]);
    expect(r.status, output(r)).toBe(0);
    expect(r.stderr.trim(), output(r)).toBe('');
  });

  it('the verify harness itself reports a misspelt key and a bad value (so silence above means something)', () => {
    writeFileSync(
      join(root, 'etc/systemd/system/nqgw-broken.service'),
      '[Service]\nExecStart=/usr/local/bin/nqgw run\nRestartt=always\nRestart=sometimes\n',
    );
    const r = run(analyze, ['verify', '--man=no', `--root=${root}`, 'nqgw-broken.service']);
    expect(r.stderr).toMatch(/Unknown key 'Restartt'/);
    expect(r.stderr).toMatch(/Failed to parse service restart specifier/);
  });

  it.each(UNITS)('systemd-analyze security --offline=yes %s stays under its exposure limit', (unit) => {
    const r = run(analyze, ['security', '--offline=yes', `--root=${root}`, '--no-pager', unit]);
    expect(r.status, output(r)).toBe(0);
    const m = /Overall exposure level for \S+: (\d+\.\d)/.exec(r.stdout);
    expect(m, output(r)).not.toBeNull();
    const score = Number(m?.[1]);
    // Printed so the report can quote it.
    console.log(`systemd-analyze security ${unit}: ${score}`);
    expect(score).toBeLessThan(MAX_EXPOSURE[unit] as number);
  });
});
