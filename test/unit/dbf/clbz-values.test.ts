import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLBZ } from '../../../appliance/src/dbf/index.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Every .ts file below `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}

describe("CLBZ's values: dbf/schema.ts's CLBZ, the one definition", () => {
  it("are the vendor's 0 (new) and 1 (sent), and the modelled 2 (refused by the gateway)", () => {
    // docs/interface.md; a change here is a change of the modelled interface, not a refactoring.
    expect(CLBZ).toEqual({ NEW: '0', SENT: '1', REJECTED_LOCALLY: '2' });
  });

  it('no code of the appliance or the benchmarks names, compares or writes CLBZ values itself', () => {
    // A line about CLBZ (a row's CLBZ, setFlags, skipSettled) with a quoted digit in it.
    const literal = /(CLBZ|clbz|setFlags|skipSettled).*['"`][0-9]['"`]/;
    // Or a second set of names for the values (the gateway had FLAG_NEW/FLAG_SENT/FLAG_REFUSED).
    const definition = /(NEW|SENT|REFUSED|REJECTED\w*)\s*[:=]\s*['"][0-9]['"]/;
    const comment = /^\s*(\*|\/\/|\/\*)/;
    const schema = path.join(REPO, 'appliance', 'src', 'dbf', 'schema.ts');
    const offenders = [
      ...sources(path.join(REPO, 'appliance', 'src')),
      ...sources(path.join(REPO, 'scripts', 'bench')),
    ]
      .filter((f) => f !== schema)
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, at: `${path.relative(REPO, f)}:${i + 1}` }))
          .filter(({ line }) => !comment.test(line) && (literal.test(line) || definition.test(line)))
          .map(({ at, line }) => `${at}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });
});
