import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './hcl.js';
import { EXAMPLE_HOST, EXAMPLE_VALUES, renderUserData } from './user-data-template.js';

/** write_files entries of a rendered user-data whose content is a JSON string scalar. */
function writtenJson(yaml: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const re = /- path: (\S+)\n(?:\s+\w+: .*\n)*?\s+content: (".*")\n/g;
  for (const m of yaml.matchAll(re)) {
    out[m[1] as string] = JSON.parse(JSON.parse(m[2] as string) as string);
  }
  return out;
}

describe('cloud-init user-data', () => {
  it('the module template carries values.json and host.json unchanged, whatever characters they hold', () => {
    const values = { ...EXAMPLE_VALUES, notes: 'quotes " backslash \\ colon: # hash\nnew line <&> 中文' };
    const yaml = renderUserData({
      hostname: 'nqgw-dr-gw-a',
      values_json: JSON.stringify(values),
      host_json: JSON.stringify(EXAMPLE_HOST),
    });
    expect(yaml.split('\n')[0]).toBe('#cloud-config');
    expect(yaml).toContain('hostname: "nqgw-dr-gw-a"');
    const files = writtenJson(yaml);
    expect(files['/etc/nqgw/values.json']).toEqual(values);
    expect(files['/etc/nqgw/host.json']).toEqual(EXAMPLE_HOST);
  });

  it('the image example writes values.json and host.json that match the module output', () => {
    const text = readFileSync(join(REPO, 'image', 'cloud-init', 'user-data.yaml'), 'utf8');
    expect(text.split('\n')[0]).toBe('#cloud-config');
    const blocks = [...text.matchAll(/- path: (\S+)\n(?:\s+\w+: .*\n)*?\s+content: \|\n((?: {6}.*\n)+)/g)];
    const files = Object.fromEntries(
      blocks.map((m) => [m[1], JSON.parse((m[2] as string).replace(/^ {6}/gm, ''))]),
    );
    expect(Object.keys(files).sort()).toEqual(['/etc/nqgw/host.json', '/etc/nqgw/values.json']);
    expect(files['/etc/nqgw/host.json']).toEqual(EXAMPLE_HOST);
    expect(files['/etc/nqgw/values.json']).toEqual(EXAMPLE_VALUES);
  });
});
