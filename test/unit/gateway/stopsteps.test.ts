import { describe, expect, it } from 'vitest';
import { tryEach } from '../../../appliance/src/gateway/stopsteps.js';

describe('tryEach (the steps of a stop)', () => {
  it('runs every step in order although some throw, throws the first failure, and hands on the others', async () => {
    const ran: string[] = [];
    const also: unknown[] = [];
    const steps = [
      () => ran.push('link'),
      () => {
        ran.push('status');
        throw new Error('first');
      },
      async () => {
        ran.push('files');
        await Promise.resolve();
        throw new Error('second');
      },
      () => ran.push('lock'),
    ];
    await expect(tryEach(steps, (err) => also.push(err))).rejects.toThrow('first');
    expect(ran).toEqual(['link', 'status', 'files', 'lock']);
    expect(also.map((e) => (e as Error).message)).toEqual(['second']);
  });

  it('resolves when no step throws, waiting for each in turn', async () => {
    const ran: number[] = [];
    const later = (n: number) => async () => {
      await new Promise((r) => setImmediate(r));
      ran.push(n);
    };
    await tryEach([later(1), later(2), () => ran.push(3)]);
    expect(ran).toEqual([1, 2, 3]);
  });
});
