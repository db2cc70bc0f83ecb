import { beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_DIR, type Hcl, MODULE_DIR, parseDir, parseFile, resource } from './hcl.js';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parse } from '@cdktf/hcl2json';

/**
 * The module's state volume, its rollout of configuration one replica at a time, and the
 * counter's share, read from the parsed HCL (@cdktf/hcl2json). The attributes used are those of
 * terraform-provider-openstack's schemas (openstack_blockstorage_volume_v3: size, volume_type,
 * availability_zone (ForceNew), enable_online_resize, metadata; openstack_compute_volume_attach_v2:
 * instance_id and volume_id, both ForceNew; openstack_compute_instance_v2.user_data: ForceNew,
 * stored as its SHA-1).
 */
describe('module nqgw-replicas: state volume, rollout, counter share', () => {
  let mod: Hcl;
  let locals: Hcl;
  beforeAll(async () => {
    mod = await parseDir(MODULE_DIR);
    locals = (mod.locals as Hcl[]).reduce((a, b) => ({ ...a, ...b }), {} as Hcl);
  });

  it('gives every replica its own Cinder volume that no plan may destroy', () => {
    const vol = resource(mod, 'openstack_blockstorage_volume_v3', 'state');
    expect(vol.for_each).toBe('${var.replicas}');
    expect(vol.size).toBe('${var.state_volume.size_gb}');
    expect(vol.enable_online_resize).toBe(true);
    expect(vol.lifecycle).toEqual([{ prevent_destroy: true }]);
    const size = ((mod.variable.state_volume[0] as Hcl).validation as Hcl[])
      .map((v) => v.condition)
      .join('\n');
    expect(size).toContain('var.state_volume.size_gb >= 100');
    expect((mod.variable.state_volume[0] as Hcl).type).toContain('size_gb     = optional(number, 100)');
  });

  it('attaches each volume to its own replica, so a re-created replica gets the same volume back', () => {
    const att = resource(mod, 'openstack_compute_volume_attach_v2', 'state');
    expect(att.for_each).toBe('${var.replicas}');
    expect(att.instance_id).toBe('${openstack_compute_instance_v2.replica[each.key].id}');
    expect(att.volume_id).toBe('${openstack_blockstorage_volume_v3.state[each.key].id}');
  });

  it("tells the replica its volume by the by-id name of the volume's serial (not /dev/vdb)", () => {
    expect(locals.state_devices).toContain('${var.state_volume.device_prefix}${substr(v.id, 0, 20)}');
    expect(locals.host_values).toContain('state_volume         = { device = local.state_devices[name] }');
  });

  it('applies user_data only at creation and re-creates one replica per revision bump', () => {
    const server = resource(mod, 'openstack_compute_instance_v2', 'replica');
    expect(server.lifecycle).toEqual([
      {
        ignore_changes: ['${user_data}'],
        replace_triggered_by: ['${terraform_data.revision[each.key]}'],
      },
    ]);
    const rev = resource(mod, 'terraform_data', 'revision');
    expect(rev.for_each).toBe('${var.replicas}');
    expect(rev.input).toBe('${each.value.revision}');
    expect((mod.variable.replicas[0] as Hcl).type).toContain('revision = optional(string, "1")');
    // The provider keeps sha1(user_data) in the state: the output compares against it.
    const pending = (mod.output.replicas_pending_config[0] as Hcl).value as string;
    expect(pending).toContain('s.user_data != sha1(local.user_data[name])');
  });

  it('opens the share to its address only: 445 for cifs, 2049 for nfs', () => {
    const rule = resource(mod, 'openstack_networking_secgroup_rule_v2', 'counter_share');
    expect(rule.count).toBe('${var.counter_share == null ? 0 : 1}');
    expect([rule.direction, rule.protocol, rule.port_range_min, rule.port_range_max]).toEqual([
      'egress',
      'tcp',
      '${local.share_port}',
      '${local.share_port}',
    ]);
    expect(rule.remote_ip_prefix).toBe('${try(var.counter_share.address, "")}/32');
    expect(locals.share_port).toBe(
      '${local.share == null ? null : (local.share.protocol == "cifs" ? 445 : 2049)}',
    );
  });

  it('puts a credentials PATH into host.json, never a password', () => {
    const type = (mod.variable.counter_share[0] as Hcl).type as string;
    expect(type).toContain('credentials_file = optional(string, "/etc/nqgw/secrets/counter-share.cred")');
    expect(type).not.toMatch(/password|secret\s*=/);
    expect(locals.counter_share_host).toContain('{ credentials_file = local.share.credentials_file }');
  });

  it('documents the S3-compatible remote state backend in the example, commented out, with the non-AWS flags', async () => {
    const text = readFileSync(join(EXAMPLE_DIR, 'versions.tf'), 'utf8');
    // The commented block from `# backend "s3" {` to its `# }`, uncommented.
    const lines = text.split('\n');
    const from = lines.findIndex((l) => /^\s*#\s*backend "s3" \{$/.test(l));
    expect(from).toBeGreaterThan(0);
    const to = lines.findIndex((l, i) => i > from && /^\s*#\s*\}$/.test(l));
    const backend = lines
      .slice(from, to + 1)
      .map((l) => l.replace(/^(\s*)#\s?/, '$1'))
      .join('\n');
    // Commented out, the file still parses; uncommented, the block parses as HCL.
    expect((await parseFile(join(EXAMPLE_DIR, 'versions.tf'))).terraform).toBeDefined();
    const doc = await parse('backend.tf', `terraform {\n${backend}\n}\n`);
    const s3 = ((doc.terraform as Hcl[])[0] as Hcl).backend.s3[0] as Hcl;
    expect(s3).toMatchObject({
      use_path_style: true,
      skip_credentials_validation: true,
      skip_region_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: true,
      skip_s3_checksum: true,
      use_lockfile: true,
    });
    expect(s3.endpoints).toEqual({ s3: 'https://10.90.0.10' });
    expect(JSON.stringify(s3)).not.toMatch(/access_key|secret_key/);
  });
});
