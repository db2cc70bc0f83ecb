import type { EventEmitter } from 'node:events';
import { marketWords } from '../link/index.js';
import { cstClock, type Clock } from '../shared/index.js';
import type { GatewayStatus, LinkWord } from './status.js';

/**
 * What the vendor's screen shows of the link (通信状态, 股市状态, 特别提示, heartbeats since the
 * logon), kept from the link's events. The engine wires the link to the order path; this only
 * watches it, so the screen's words live in one place.
 */
export class LinkView {
  private word: LinkWord = '未知';
  private market = '未知';
  private notice = '';
  private heartbeats = 0;
  private lastHeartbeatAt: number | null = null;

  constructor(private readonly clock: Clock) {}

  /** Subscribes to the link's 'state', 'up', 'heartbeat', 'notice' and 'market' events. */
  watch(link: EventEmitter): void {
    link.on('state', (state: string) => {
      this.word =
        state === 'up' ? '正常' : state === 'connecting' || state === 'logging-on' ? '正在连接' : '中断';
    });
    link.on('up', () => {
      this.heartbeats = 0;
      // The staleness clock starts at the logon (the logon answer is the main station heard):
      // the last heartbeat of the link before would make a fresh link look stale at once.
      this.lastHeartbeatAt = this.clock.now();
    });
    link.on('heartbeat', () => {
      this.heartbeats++;
      this.lastHeartbeatAt = this.clock.now();
    });
    link.on('notice', (text: string) => {
      this.notice = `${cstClock(this.clock.now()).slice(0, 5)} ${text}`;
    });
    link.on('market', (state: string) => {
      this.market = marketWords(state); // the screen's words, not the protocol's code
    });
  }

  /** The status fields this view owns. */
  fields(): Pick<
    GatewayStatus,
    'linkState' | 'marketState' | 'notice' | 'heartbeatsSinceLogon' | 'lastHeartbeatAt'
  > {
    return {
      linkState: this.word,
      marketState: this.market,
      notice: this.notice,
      heartbeatsSinceLogon: this.heartbeats,
      lastHeartbeatAt: this.lastHeartbeatAt === null ? null : new Date(this.lastHeartbeatAt).toISOString(),
    };
  }
}
