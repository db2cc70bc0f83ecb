import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../../appliance/src/shared/index.js';

/** A temp dir with a loadable tw.ini (state in ./state) for the soft-encryption tests. */
export function softLab(extraSoft: string[] = []): { dir: string; ini: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'nqgw-soft-'));
  for (const f of ['ca.pem', 'station.crt', 'station.key']) writeFileSync(join(dir, f), 'PEM\n');
  mkdirSync(join(dir, 'state'));
  const ini = join(dir, 'tw.ini');
  writeFileSync(
    ini,
    [
      '[station]',
      'id = W888888T',
      'units = 729900',
      '[files]',
      'orders = NQWT.DBF',
      'returns = NQHB.DBF',
      'state_dir = state',
      '[servers]',
      'server1 = 127.0.0.1:7043',
      '[tls]',
      'mode = soft',
      'ca = ca.pem',
      'cert = station.crt',
      'key = station.key',
      '[soft]',
      ...extraSoft,
      '',
    ].join('\n'),
  );
  return { dir, ini, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A settable clock; `at('2025-09-29', '10:00')` is that CST wall time. */
export class TestClock implements Clock {
  ms = 0;
  now(): number {
    return this.ms;
  }
  at(date: string, hhmm = '10:00'): this {
    this.ms = Date.parse(`${date}T${hhmm}:00+08:00`);
    return this;
  }
}
