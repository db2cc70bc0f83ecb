import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { followSegments, tailWithCursor } from '../../../appliance/src/logs/index.js';
import { tempDir } from './fixtures.js';

const seg = (dir: string, seq: number): string =>
  path.join(dir, 'segments', `20261122-${String(seq).padStart(12, '0')}.jsonl`);

describe('tail and follow of the local segments', () => {
  it('the last n lines across segments, the newest read only to its last newline', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'segments'));
    expect(tailWithCursor(dir, 5)).toEqual({ lines: [], cursor: null });
    writeFileSync(seg(dir, 1), 'a\nb\nc\n');
    writeFileSync(seg(dir, 2), 'd\ne\nhal');
    const { lines, cursor } = tailWithCursor(dir, 4);
    expect(lines).toEqual(['b', 'c', 'd', 'e']);
    expect(cursor).toMatchObject({ seq: 2, offset: 4 });
    expect(tailWithCursor(dir, 0).lines).toEqual([]);
    expect(tailWithCursor(dir, 100).lines).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('follows appends and rolls by sequence; a torn last line of a closed segment is shown once', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'segments'));
    writeFileSync(seg(dir, 1), 'a\nb');
    const got: string[] = [];
    const f = followSegments(dir, tailWithCursor(dir, 10).cursor, (l) => got.push(l), 60_000);
    f.stop(); // one poll at start only; the rest is driven by hand below
    expect(got).toEqual([]);
    appendFileSync(seg(dir, 1), 'c\n');
    writeFileSync(seg(dir, 3), 'd\n');
    const g = followSegments(dir, { seq: 1, file: seg(dir, 1), offset: 2 }, (l) => got.push(l), 60_000);
    g.stop();
    expect(got).toEqual(['bc', 'd']);
    const torn: string[] = [];
    writeFileSync(seg(dir, 4), 'x\ny');
    writeFileSync(seg(dir, 5), 'z\n');
    followSegments(dir, { seq: 4, file: seg(dir, 4), offset: 0 }, (l) => torn.push(l), 60_000).stop();
    expect(torn).toEqual(['x', 'y', 'z']);
  });
});
