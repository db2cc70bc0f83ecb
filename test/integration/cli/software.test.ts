import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeLab } from '../../helpers/lab.js';
import { REPO, runNqgw } from '../../helpers/process.js';

/**
 * The built `nqgw` says the name and version package.json says (shared/software.ts reads it; no
 * copy in the code): `--version` and `nqgw version` (what `nqgw fleet` compares across replicas).
 */
const PKG = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
const TEXT = `${PKG.name} ${PKG.version}`;

describe("nqgw's name and version are package.json's", () => {
  it('nqgw --version', async () => {
    const r = await runNqgw(['--version'], { NQGW_CONFIG: '' });
    expect(r.code, r.output).toBe(0);
    expect(r.output.trim()).toBe(TEXT);
  });

  it('nqgw version --json and its text form', async () => {
    const lab = await makeLab();
    const json = await runNqgw(['version', '--json', '--config', lab.twIni]);
    expect(json.code, json.output).toBe(0);
    expect((JSON.parse(json.output) as { software: string }).software).toBe(TEXT);
    const text = await runNqgw(['version', '--config', lab.twIni]);
    expect(text.code, text.output).toBe(0);
    expect(text.output.split('\n')[0]).toBe(`${TEXT} (node ${process.version})`);
  });
});
