import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTemplate } from '../../../appliance/src/config/index.js';
import { TERRAFORM } from './hcl.js';
import { CIFS_SHARE } from './mount-fixtures.js';
import { baseVars, evaluate, makeHarness, STAND_IN_VOLUME_ID, TERRAFORM_BIN } from './tf-console.js';
import { renderUserData } from './user-data-template.js';

/**
 * The module's documents evaluated by Terraform itself (terraform console; no provider, see
 * tf-console.ts): what host.json and values.json hold for the counter's share, the state volume
 * and the EKey, and the validations that keep secrets and bad shares out.
 */
describe.skipIf(!TERRAFORM_BIN)('module nqgw-replicas evaluated by terraform console', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeHarness();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const share = { protocol: 'cifs', address: '10.0.2.2', path: 'counter' };

  it('host.json carries counter_share exactly as the renderer and the DR-site test expect', () => {
    const r = evaluate(dir, 'local.host_values["gw-a"]', { ...baseVars(), counter_share: share });
    expect(r.status, r.stderr).toBe(0);
    const host = r.value as Record<string, unknown>;
    expect(host['counter_share']).toEqual(CIFS_SHARE);
    expect(host['state_volume']).toEqual({
      device: `/dev/disk/by-id/virtio-${STAND_IN_VOLUME_ID.slice(0, 20)}`,
    });
    // Never the role (user_data is ForceNew), never a password.
    expect(JSON.stringify(host)).not.toMatch(/role|password/);
  });

  it('nfs: source host:/export and no credentials_file', () => {
    const nfs = { protocol: 'nfs', address: '10.80.4.20', path: '/export/counter' };
    const r = evaluate(dir, 'local.host_values["gw-b"].counter_share', { ...baseVars(), counter_share: nfs });
    expect(r.status, r.stderr).toBe(0);
    expect(r.value).toEqual({
      protocol: 'nfs',
      source: '10.80.4.20:/export/counter',
      mount_point: '/srv/counter',
    });
  });

  it("values.json points tw.ini's orders and returns into the share, and renders a tw.ini with [share]", () => {
    const vars = {
      ...baseVars(),
      counter_share: share,
      appliance_values: {
        units: ['729900'],
        tls_mode: 'ekey',
        orders: '/var/lib/nqgw/NQWT.DBF',
        ekey_module: '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so',
        ekey_token_label: 'W888888T',
        ekey_key_id: '01',
        object_storage_endpoint: 'https://10.90.0.10',
        object_storage_bucket: 'nqgw-logs',
      },
    };
    const r = evaluate(dir, 'local.appliance_values["gw-a"]', vars);
    expect(r.status, r.stderr).toBe(0);
    const values = r.value as Record<string, unknown>;
    expect(values).toMatchObject({
      orders: '/srv/counter/NQWT.DBF',
      returns: '/srv/counter/NQHB.DBF',
      share_mount_point: '/srv/counter',
      station: 'W888888T',
      management_listen: '10.80.1.11:9300',
    });
    const ini = renderTemplate('cloud-production', values);
    expect(ini).toMatch(/^orders = \/srv\/counter\/NQWT\.DBF$/m);
    expect(ini).toMatch(/^\[share\]\n(?:;.*\n)*mount_point = \/srv\/counter$/m);
    expect(ini).toMatch(/^\[ekey\]\n(?:;.*\n)*module = \/usr\/lib\/x86_64-linux-gnu\/opensc-pkcs11\.so$/m);
    expect(ini).toMatch(/^pin_file = \/etc\/nqgw\/ekey\.pin$/m);
  });

  it('user_data is the template the TypeScript renderer of the tests reproduces, byte for byte', () => {
    const vars = { ...baseVars(), counter_share: share };
    const r = evaluate(
      dir,
      '{ ud = local.user_data["gw-a"], v = local.appliance_values["gw-a"], h = local.host_values["gw-a"] }',
      vars,
    );
    expect(r.status, r.stderr).toBe(0);
    const { ud, v, h } = r.value as { ud: string; v: unknown; h: unknown };
    // Terraform's jsonencode escapes <, > and & (\u003c...); none occur in these documents.
    expect(ud).toBe(
      renderUserData({
        hostname: 'nqgw-dr-gw-a',
        values_json: JSON.stringify(v),
        host_json: JSON.stringify(h),
      }),
    );
  });

  it.each([
    [
      'counter_share.protocol smb',
      { counter_share: { ...share, protocol: 'smb' } },
      /protocol must be "cifs" or "nfs"/,
    ],
    [
      'a host name as the share address',
      { counter_share: { ...share, address: 'files.broker' } },
      /address must be the file server's IPv4/,
    ],
    [
      'credentials outside /etc/nqgw/secrets',
      { counter_share: { ...share, credentials_file: '/root/smb.cred' } },
      /credentials_file must be a file under \/etc\/nqgw\/secrets/,
    ],
    [
      'a mount point over /etc',
      { counter_share: { ...share, mount_point: '/etc/counter' } },
      /mount_point must be a directory under \/srv or \/mnt/,
    ],
    [
      'a 50 GB state volume',
      { state_volume: { size_gb: 50 } },
      /size_gb must be a whole number of at least 100/,
    ],
    [
      'the EKey PIN as a value',
      { appliance_values: { units: ['729900'], ekey_pin: '123456' } },
      /PIN is never a value/,
    ],
  ])('refuses %s with its validation message', (_what, extra, message) => {
    const r = evaluate(dir, 'var.replicas', { ...baseVars(), ...extra });
    expect(r.status).not.toBe(0);
    expect(r.stderr.replace(/\s+/g, ' ')).toMatch(message);
  });

  it('terraform fmt finds every .tf file under terraform/ formatted', () => {
    const r = spawnSync(TERRAFORM_BIN!, ['fmt', '-check', '-recursive', '-list=true', TERRAFORM], {
      encoding: 'utf8',
      env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1' },
    });
    expect(r.stdout.trim(), 'files terraform fmt would change').toBe('');
    expect(r.status, r.stderr).toBe(0);
  });

  it('accepts the defaults: no share, a 100 GB volume', () => {
    const r = evaluate(dir, '{ s = var.state_volume, c = var.counter_share }', baseVars());
    expect(r.status, r.stderr).toBe(0);
    expect(r.value).toEqual({
      s: { size_gb: 100, volume_type: null, device_prefix: '/dev/disk/by-id/virtio-' },
      c: null,
    });
  });

  it("without a share: host.json has counter_share null, values.json keeps the caller's paths", () => {
    const vars = {
      ...baseVars(),
      appliance_values: { units: ['729900'], orders: '/var/lib/nqgw/NQWT.DBF' },
    };
    const r = evaluate(dir, '{ h = local.host_values["gw-a"], v = local.appliance_values["gw-a"] }', vars);
    expect(r.status, r.stderr).toBe(0);
    const { h, v } = r.value as { h: Record<string, unknown>; v: Record<string, unknown> };
    expect(h['counter_share']).toBeNull();
    expect(v['orders']).toBe('/var/lib/nqgw/NQWT.DBF');
    expect(v).not.toHaveProperty('share_mount_point');
  });
});
