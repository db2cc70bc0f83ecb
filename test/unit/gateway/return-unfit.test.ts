import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { showRaw, UnfitReturnLog } from '../../../appliance/src/gateway/return-unfit.js';
import { tempDir } from '../../helpers/tempdir.js';
import { dirsSyncedBy, inode } from '../shared/dirsync.js';

describe('state_dir/unfit-returns: the raw values of returns not written as sent', () => {
  it('appends one JSON line per return; the new file and folder names are synced', async () => {
    const state = tempDir('nqgw-unfit-');
    const log = new UnfitReturnLog(state);
    const issue = { field: 'CJJG', raw: 'abc', written: null, kind: 'blanked' as const, why: 'not a number' };
    const first = await dirsSyncedBy(() =>
      log.record('20260105', [{ HBXH: 2, issues: [issue], body: { HBXH: 2, CJJG: 'abc' } }], 0),
    );
    expect(first.has(await inode(log.dir))).toBe(true);
    expect(first.has(await inode(state))).toBe(true);
    const again = await dirsSyncedBy(() =>
      log.record('20260105', [{ HBXH: 5, issues: [issue], body: { HBXH: 5, CJJG: 'x\u0001' } }], 0),
    );
    expect(again.size).toBe(0);
    await log.record('20260105', [], 0); // nothing to keep: no file touched
    const lines = readFileSync(log.fileFor('20260105'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l) as { HBXH: number; body: unknown })).toMatchObject([
      { HBXH: 2, at: '1970-01-01T00:00:00.000Z', issues: [issue], body: { CJJG: 'abc' } },
      { HBXH: 5, body: { CJJG: 'x\u0001' } },
    ]);
  });

  it('shows a raw value on one line: JSON, control characters escaped, capped', () => {
    expect(showRaw('abc')).toBe('"abc"');
    expect(showRaw(undefined)).toBe('(无)');
    expect(showRaw('a\u0001b\u0085c\u2028')).toBe('"a\\u0001b\\u0085c\\u2028"');
    const long = showRaw('x'.repeat(500));
    expect(long.length).toBeLessThan(140);
    expect(long).toMatch(/…\(502 字符\)$/);
  });
});
