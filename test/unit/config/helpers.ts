import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary directory with the files a lab tw.ini points at (PEM contents are not read). */
export function makeDir(): { dir: string; write(name: string, text: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'nqgw-config-'));
  for (const f of ['ca.pem', 'station.crt', 'station.key']) writeFileSync(join(dir, f), 'PEM\n');
  return {
    dir,
    write(name, text) {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A complete, valid lab tw.ini; `lines` are the 1-based lines tests refer to. */
export const LAB_INI = [
  '; lab', // 1
  '[station]', // 2
  'id = W888888T', // 3
  'units = 729900,729901', // 4
  '', // 5
  '[files]', // 6
  'orders = NQWT.DBF', // 7
  'returns = NQHB.DBF', // 8
  '', // 9
  '[servers]', // 10
  'server1 = 127.0.0.1:7043', // 11
  'server1_name = lab simulator', // 12
  '', // 13
  '[tls]', // 14
  'mode = file', // 15
  'ca = ca.pem', // 16
  'cert = station.crt', // 17
  'key = station.key ; 0600', // 18
  '', // 19
  '[clock]', // 20
  'servers = 127.0.0.1:11123', // 21
  '', // 22
].join('\n');

/** LAB_INI with line `n` (1-based) replaced by `text` (which may hold several lines). */
export function withLine(n: number, text: string): string {
  const lines = LAB_INI.split('\n');
  lines[n - 1] = text;
  return lines.join('\n');
}
