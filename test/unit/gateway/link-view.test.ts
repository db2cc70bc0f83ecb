import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { LinkView } from '../../../appliance/src/gateway/link-view.js';
import { AlertEngine } from '../../../appliance/src/ops/index.js';
import { makeStatus } from '../ops/fixtures.js';

/** The link's events as the LinkClient emits them, on a clock the test moves. */
function watched(): { link: EventEmitter; view: LinkView; clock: { t: number } } {
  const clock = { t: 1_000_000 };
  const view = new LinkView({ now: () => clock.t });
  const link = new EventEmitter();
  view.watch(link);
  return { link, view, clock };
}

describe('LinkView: what the screen shows of the link', () => {
  it('shows 股市状态 in words, not the protocol code', () => {
    const { link, view } = watched();
    expect(view.fields().marketState).toBe('未知');
    for (const [code, words] of [
      ['PRE_OPEN', '开市前'],
      ['OPEN', '开市'],
      ['BREAK', '休市'],
      ['CLOSED', '闭市'],
      ['HALTED', '未知 (HALTED)'],
      ['暂停交易', '暂停交易'],
    ]) {
      link.emit('market', code);
      expect(view.fields().marketState).toBe(words);
    }
  });

  it('no HEARTBEAT_STALE five seconds after a fresh logon: the staleness clock starts at the logon', () => {
    const { link, view, clock } = watched();
    const alerts = new AlertEngine({ heartbeatMs: 10_000, now: () => clock.t });
    const observe = (): void => alerts.observeStatus(makeStatus(view.fields()));

    // A first link: logon, one heartbeat, then the main station quits.
    link.emit('state', 'up');
    link.emit('up');
    link.emit('heartbeat');
    clock.t += 5_000;
    link.emit('state', 'connecting');
    // The gateway reconnects a minute later: its last heartbeat is now 60 s old.
    clock.t += 60_000;
    link.emit('state', 'up');
    link.emit('up');
    clock.t += 5_000;
    observe();
    expect(alerts.active().map((a) => a.code)).not.toContain('HEARTBEAT_STALE');
    expect(view.fields()).toMatchObject({ linkState: '正常', heartbeatsSinceLogon: 0 });

    // Silence after the logon is still caught: 26 s without a heartbeat (2.5 x 10 s).
    clock.t += 21_000;
    observe();
    expect(alerts.active().map((a) => a.code)).toContain('HEARTBEAT_STALE');
  });
});
