import { describe, expect, it } from 'vitest';
import { MessageType } from '../../../appliance/src/link/index.js';
import { harness, type Harness } from './fake.js';
import { tick, upHarness, useLinkClock } from './fixtures.js';

/** LinkClient.hold/release: what the EKey guard uses while the token is out. */
describe('LinkClient: holding the link while the station key is away', () => {
  let h: Harness;
  useLinkClock();

  it('hold closes a live link with a Quit and makes no attempt until release, which connects at once', async () => {
    h = await upHarness();
    const downs: string[] = [];
    h.client.on('down', (d) => downs.push(d.reason));
    h.client.hold('ekey-absent');
    expect(h.conns[0]!.sentOf(MessageType.Quit)).toHaveLength(1);
    expect(h.conns[0]!.destroyed).toBe(true);
    expect(downs).toEqual(['ekey-absent']);
    expect(h.client.state).toBe('backoff');
    expect(h.client.held).toBe('ekey-absent');
    await tick(120_000);
    expect(h.dialled).toEqual([0]);
    // Operator levers do not dial through a hold either.
    h.client.reconnect('operator');
    await tick(10_000);
    expect(h.dialled).toEqual([0]);

    h.client.release('Ekey已插回');
    expect(h.client.held).toBe(null);
    await tick();
    expect(h.dialled).toEqual([0, 0]);
    expect(h.client.state).toBe('logging-on');
    h.conn().logonOk();
    expect(h.client.state).toBe('up');
    expect(h.logs.map((l) => l.text)).toEqual(
      expect.arrayContaining(['暂停连接主站: ekey-absent', '恢复连接主站: Ekey已插回']),
    );
  });

  it('a hold before start keeps the first attempt back; release starts it', async () => {
    h = harness();
    h.client.hold('ekey-absent');
    h.client.start();
    await tick(5000);
    expect(h.dialled).toEqual([]);
    expect(h.client.state).toBe('backoff');
    h.client.release('back');
    await tick();
    expect(h.dialled).toEqual([0]);
  });

  it('hold during backoff cancels the pending attempt; release is a no-op when not held', async () => {
    h = await upHarness();
    h.conn().destroy(); // link lost: backoff, then a new attempt
    expect(h.client.state).toBe('backoff');
    h.client.hold('ekey-absent');
    await tick(60_000);
    expect(h.dialled).toEqual([0]);
    h.client.release('back');
    h.client.release('again');
    await tick();
    expect(h.dialled.length).toBe(2);
  });
});
