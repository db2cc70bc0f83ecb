import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findUp, parseSoftware, software, SoftwareIdError } from '../../../appliance/src/shared/index.js';
import { tempDir } from '../../helpers/tempdir.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PKG = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};

/** Every .ts file below `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}

describe("the software's name and version: package.json's, one place", () => {
  it("software() is package.json's name and version", () => {
    expect(software()).toEqual({
      name: PKG.name,
      version: PKG.version,
      text: `${PKG.name} ${PKG.version}`,
    });
  });

  it('no source file of the appliance writes the version again', () => {
    const quoted = new RegExp(`['"\`]([^'"\`]*\\b)?${PKG.version.replace(/\./g, '\\.')}\\b`);
    const offenders = sources(path.join(REPO, 'appliance', 'src')).filter((f) =>
      // Comments may show an example (`nqgw 0.1.0`); code may not carry the number.
      readFileSync(f, 'utf8')
        .split('\n')
        .some((line) => !/^\s*(\*|\/\/|\/\*)/.test(line) && quoted.test(line)),
    );
    expect(offenders).toEqual([]);
  });

  it('takes the nearest package.json above the module (the bundle root, not a parent project)', () => {
    const root = tempDir('nqgw-software-');
    const app = path.join(root, 'opt', 'nqgw');
    const deep = path.join(app, 'dist', 'appliance', 'src', 'shared');
    mkdirSync(deep, { recursive: true });
    writeFileSync(path.join(root, 'package.json'), '{"name":"other","version":"1.0.0"}');
    writeFileSync(path.join(app, 'package.json'), '{"name":"nqgw","version":"9.8.7"}');
    expect(findUp(deep, 'package.json')).toBe(path.join(app, 'package.json'));
    expect(parseSoftware(readFileSync(findUp(deep, 'package.json')!, 'utf8'), 'x').text).toBe('nqgw 9.8.7');
    // A directory of that name is not the file, and the other way round.
    mkdirSync(path.join(app, 'dist', 'package.json'));
    expect(findUp(deep, 'package.json')).toBe(path.join(app, 'package.json'));
    expect(findUp(deep, 'package.json', 'dir')).toBe(path.join(app, 'dist', 'package.json'));
    expect(findUp(deep, 'no-such-thing')).toBeNull();
  });

  it.each([
    ['not JSON', 'nqgw 0.1.0', /is not JSON/],
    ['no version', '{"name":"nqgw"}', /has no "name" and "version"/],
    ['an empty name', '{"name":"","version":"1.0.0"}', /has no "name" and "version"/],
    ['a number for a version', '{"name":"nqgw","version":1}', /has no "name" and "version"/],
  ])('refuses a package.json with %s (SOFTWARE_ID, the file named)', (_what, text, words) => {
    let caught: unknown;
    try {
      parseSoftware(text, '/opt/nqgw/package.json');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SoftwareIdError);
    expect(caught).toMatchObject({ code: 'SOFTWARE_ID', file: '/opt/nqgw/package.json' });
    expect((caught as Error).message).toMatch(words);
  });
});
