import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { TwConfig } from '../config/index.js';
import { LinkClient, type TlsCredentials } from '../link/index.js';
import type { UsbEventSource } from '../ekey/index.js';
import { StationIdentity } from './identity.js';
import { CLBZ, DbfReplacedError, OrderFileReader, ReturnFileWriter } from '../dbf/index.js';
import { AppError, cstDate, formatMessage, software, systemClock, type Clock } from '../shared/index.js';
import { AnswerMatcher, FileJournal, orderKey, type Journal } from './journal.js';
import { OrderFileLock } from './lock.js';
import { OperatorLog } from './oplog.js';
import { OptionEffects } from './options.js';
import { OrderPump, type OrderSink } from './orders.js';
import { ReturnSink, type ReturnCounters } from './returns.js';
import { UnfitReturnLog } from './return-unfit.js';
import { writeStatusSnapshot, type GatewayStatus } from './status.js';
import { LinkView } from './link-view.js';
import { logWelcome, openReturnFile } from './startup.js';
import { ClockGuard } from './clockguard.js';
import { DAY_ENDED, DAY_HOLD, DayGuard } from './dayguard.js';
import { tryEach, withinMs } from './stopsteps.js';
import { StageBook } from './stages.js';

/** How often NQWT.DBF is looked at when nothing was new: one fstat, cheap; bounds latency. */
const POLL_MS = 2;
/** A day-change stop that has not finished by then exits anyway (the journal makes that safe). */
const DAY_END_STOP_DEADLINE_MS = 30_000;

export interface GatewayDeps {
  clock?: Clock;
  credentials?: TlsCredentials;
  /** USB attach/detach events (the `usb` package), hints for the EKey's hot-plug guard. */
  usb?: UsbEventSource;
  /** Echo operator lines to stdout (the CLI does; tests don't). */
  stdout?: boolean;
}

/**
 * The gateway: NQWT.DBF → main station → NQHB.DBF, with the vendor's screen as its status. It
 * joins the rooms (dbf, link) and owns the order of things: store, send, flag; write, then ack.
 * Events: 'status' (GatewayStatus) and 'exit' (reason) when it stopped by itself: 'auto-exit',
 * or DAY_ENDED at the CST day change (one process serves one trading day, dayguard.ts).
 */
export class Gateway extends EventEmitter {
  readonly log: OperatorLog;
  private readonly clock: Clock;
  private readonly lock: OrderFileLock;
  private reader: OrderFileReader | null = null;
  private writer: ReturnFileWriter | null = null;
  private journal: Journal | null = null;
  private pump: OrderPump | null = null;
  private sink: ReturnSink | null = null;
  private link: LinkClient | null = null;
  private options: OptionEffects | null = null;
  private clockGuard: ClockGuard | null = null;
  private identity: StationIdentity | null = null;
  /** The trading day of this process, fixed at start (journal, NQHB.DBF, counters, logon). */
  private dayGuard: DayGuard | null = null;
  private readonly holds = new Set<string>();
  private pumpTimer: NodeJS.Timeout | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private pumping = false;
  /** After a logon the unanswered orders go first; new ones wait until they are out. */
  private resending = false;
  private lastFailure = { code: '', at: 0 };
  /** Records in NQWT.DBF not read yet, refreshed with each status snapshot. */
  private unread = 0;
  private stopping = false;
  private readonly linkView: LinkView;
  private readonly startedAt: number;
  /** Where the orders' time goes (read, journal, wire, answer, NQHB, flag), shown in the status. */
  private readonly stages = new StageBook();

  constructor(
    readonly config: TwConfig,
    private readonly deps: GatewayDeps = {},
  ) {
    super();
    this.clock = deps.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.linkView = new LinkView(this.clock);
    mkdirSync(config.files.stateDir, { recursive: true, mode: 0o700 });
    this.log = new OperatorLog({
      clock: this.clock,
      file: path.join(config.files.stateDir, 'gateway.log'),
      stdout: deps.stdout ?? false,
    });
    this.lock = OrderFileLock.forOrderFile(config.files.orders, config.station.id);
  }

  /** Open everything and start carrying orders. Throws a typed error if it cannot. */
  async start(): Promise<void> {
    const { config, log } = this;
    const today = cstDate(this.clock.now());
    const dayGuard = new DayGuard(today, this.clock, log, () => this.background(this.endOfDay()));
    this.dayGuard = dayGuard;
    logWelcome(log, config, software().text);
    this.lock.acquire();
    const stale = this.lock.takenOver;
    if (stale)
      log.warn(
        `已接管遗留的委托库锁 ${this.lock.lockFile}: 原持有者 pid ${stale.pid} (${stale.since}) 已不在运行`,
        'NQ740',
      );
    let identity: StationIdentity;
    try {
      this.writer = await openReturnFile(config, today, log);
      // The return file's own scan at open gives the screen's counters: no second read of it.
      const kinds = this.writer.kindCounts;
      const live = kinds['0'] + kinds['1'] + kinds['2'] + kinds['3'] + kinds[''];
      const counters: ReturnCounters = { returns: live, accepted: kinds['0'], rejected: kinds['1'] };
      this.journal = FileJournal.forDay(config.files.stateDir, today);
      const matcher = new AnswerMatcher();
      const replay = await this.journal.open(matcher);
      this.reader = new OrderFileReader(config.files.orders);
      await this.reader.open();
      this.reader.skipTo(replay.resumeRecNo);
      const passed = await this.reader.skipSettled([CLBZ.SENT, CLBZ.REJECTED_LOCALLY]);
      if (passed > 0) log.info(`委托库中已处理的 ${passed} 笔委托已跳过`, 'NQ209');
      this.pump = new OrderPump({
        source: dayGuard.source(this.reader),
        journal: this.journal,
        replay,
        matcher,
        units: config.station.units,
        log,
        retryInvalidMs: config.options.invalidFlagRetryS * 1000,
        now: () => this.clock.now(),
        today: () => today,
        stages: this.stages,
      });
      this.sink = new ReturnSink({
        store: this.writer,
        log,
        counters,
        onWritten: (seq) => this.link?.ackReturn(seq),
        onResync: (reason) => this.link?.reconnect(reason),
        unfit: new UnfitReturnLog(config.files.stateDir),
        now: () => this.clock.now(),
        stages: this.stages,
      });
      if (replay.pending.size > 0) {
        log.info(`日志中有 ${replay.pending.size} 笔委托未获主站确认, 连接后将以可能重复标志重发`, 'NQ708');
      }
      // Inside the try: bad [clock] or [ekey] settings release the files and the lock like any other.
      this.clockGuard = ClockGuard.fromConfig(config, log, (reason, on) => this.hold(reason, on));
      identity = new StationIdentity(config, log, this.clock, {
        ...(this.deps.credentials ? { credentials: this.deps.credentials } : {}),
        ...(this.deps.usb ? { usb: this.deps.usb } : {}),
      });
    } catch (err) {
      // The start's own failure is what the caller hears; one in closing the files is logged.
      await this.closeFiles().catch((e: unknown) => this.fail(e));
      this.lock.release();
      throw err;
    }
    this.clockGuard?.start();
    this.identity = identity;
    const link = this.makeLink(identity);
    // An absent EKey holds the link before its first attempt (no NQ122 walk over the servers).
    await identity.start();
    link.start();
    this.options = new OptionEffects(
      config.options,
      this.clock,
      () => this.background(this.autoExit()),
      (text) => log.warn(text),
      (level, text, code) => log.write(level, text, code),
    );
    this.options.start();
    dayGuard.start();
    this.background(this.options.linkDown(true));
    this.statusTimer = setInterval(() => this.background(this.publishStatus()), 500);
    this.schedulePump(0);
  }

  private makeLink(identity: StationIdentity): LinkClient {
    const { config } = this;
    const hold = { hold: (r: string) => this.link?.hold(r), release: (r: string) => this.link?.release(r) };
    const connect = identity.connector(hold);
    const link = new LinkClient({
      station: config.station.id,
      units: config.station.units,
      auth: config.tls.mode,
      servers: config.servers,
      link: config.link,
      serverName: config.tls.serverName,
      credentials: identity.credentials,
      ...(connect ? { connect } : {}),
      clock: this.clock,
      lastReturnSeq: () => this.sink?.lastSeq ?? 0,
      tradingDate: () => this.dayGuard?.tradingDay ?? cstDate(this.clock.now()),
      sendBlockWarnMs: config.options.sendBlockWarnMs,
      noFills: config.options.noFills,
    });
    this.link = link;
    link.on('log', (l: { level: 'info' | 'warn' | 'error'; code?: string; text: string }) =>
      this.log.write(l.level, l.text, l.code),
    );
    this.linkView.watch(link);
    link.on('state', (state: string) => this.background(this.options?.linkDown(state !== 'up')));
    link.on('up', (up: { answer: { tradingDate: string } }) => {
      this.dayGuard?.onLogon(up.answer.tradingDate);
      this.identity?.onLogon();
      this.background(this.onLinkUp());
    });
    link.on('drain', () => this.schedulePump(0));
    link.on('orderAnswers', (answers: { JYDY: string; LSH: string }[]) => {
      this.background(this.pump?.answered(answers.map((a) => orderKey(a.JYDY, a.LSH))));
    });
    link.on('returns', (rows) => this.sink?.push(this.dayGuard ? this.dayGuard.returnsOfDay(rows) : rows));
    return link;
  }

  private async onLinkUp(): Promise<void> {
    if (!this.pump || !this.link) return;
    this.resending = true;
    while (this.pumping) await new Promise((r) => setTimeout(r, 1));
    try {
      const n = await this.pump.resendInFlight(this.dayOnly(this.link));
      if (n > 0) this.log.info(`已重发 ${n} 笔未获确认的委托 (可能重复)`, 'NQ709');
    } catch (err) {
      this.fail(err);
    } finally {
      this.resending = false;
    }
    this.schedulePump(0);
  }

  private schedulePump(delay: number): void {
    if (this.stopping || this.pumpTimer) return;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = null;
      this.background(this.runPump());
    }, delay);
  }

  private canSend(): boolean {
    return (
      this.link !== null &&
      this.link.state === 'up' &&
      this.link.writable &&
      this.holds.size === 0 &&
      !this.resending &&
      this.dayGuard?.check() !== false
    );
  }

  /** The link for the pump: a send after the CST day change is refused at the last moment. */
  private dayOnly(link: LinkClient): OrderSink {
    return this.dayGuard ? this.dayGuard.sink(link) : link;
  }

  private async runPump(): Promise<void> {
    if (this.pumping || this.stopping || !this.pump || !this.link) return;
    this.pumping = true;
    let looked = 0;
    let failed = false;
    try {
      if (this.canSend()) looked = await this.pump.step(this.dayOnly(this.link));
    } catch (err) {
      failed = true;
      this.fail(err);
      if (err instanceof DbfReplacedError) await this.reopenOrders().catch((e: unknown) => this.fail(e));
    } finally {
      this.pumping = false;
    }
    // A failing disk or file is retried once a second, not hammered every poll.
    this.schedulePump(failed ? 1000 : looked > 0 ? 0 : POLL_MS);
  }

  private async reopenOrders(): Promise<void> {
    const reader = new OrderFileReader(this.config.files.orders);
    await reader.open();
    await reader.skipSettled([CLBZ.SENT, CLBZ.REJECTED_LOCALLY]);
    await this.reader?.close().catch(() => undefined);
    this.reader = reader;
    this.pump?.replaceSource(this.dayGuard ? this.dayGuard.source(reader) : reader);
    this.log.warn(`委托库已被替换, 已重新打开: ${this.config.files.orders}`, 'NQ211');
  }

  /** A promise nobody awaits (timer, link event): its failure is told like any other, never unhandled. */
  private background(work: Promise<unknown> | undefined): void {
    work?.catch((err: unknown) => this.fail(err));
  }

  /** A failure on the order path is loud, and sending pauses until it clears. */
  private fail(err: unknown): void {
    const e = err as AppError;
    const now = this.clock.now();
    // The same failure again within a minute is not news; the status keeps showing it.
    if (e.code === this.lastFailure.code && now - this.lastFailure.at < 60_000) return;
    this.lastFailure = { code: e.code ?? '', at: now };
    this.log.error(e.message, e.code);
    if (e.hint) this.log.error(e.hint, e.code);
  }

  /** Hold or release sending for a reason (operator pause, clock alarm, ...). */
  hold(reason: string, on: boolean): void {
    if (on) this.holds.add(reason);
    else this.holds.delete(reason);
    if (!on) this.schedulePump(0);
  }

  reconnect(reason: string): void {
    this.link?.reconnect(reason);
  }

  switchTo(index: number): void {
    this.link?.switchTo(index);
  }

  status(): GatewayStatus {
    const now = this.clock.now();
    const counters = this.sink?.counters ?? { returns: 0, accepted: 0, rejected: 0 };
    const server = this.link?.server;
    return {
      pid: process.pid,
      station: this.config.station.id,
      units: this.config.station.units,
      server: server ? `${server.name} ${server.host}:${server.port}` : null,
      returns: counters.returns,
      pending: (this.pump?.waiting ?? 0) + this.unread,
      sent: this.pump?.counters.sent ?? 0,
      accepted: counters.accepted,
      rejected: counters.rejected + (this.pump?.counters.refused ?? 0),
      awaitingAnswer: this.pump?.awaitingAnswer ?? 0,
      unsent: this.pump?.unsentView() ?? { count: 0, last: null },
      ...this.linkView.fields(),
      linkStalled: this.link?.stalled ?? null,
      lastReturnSeq: this.sink?.lastSeq ?? 0,
      holds: [...this.holds],
      clock: this.clockGuard ? { state: this.clockGuard.state, offsetMs: this.clockGuard.offsetMs } : null,
      tlsMode: this.config.tls.mode,
      ...(this.identity?.view() ?? { ekey: null, soft: null }),
      tradingDay: this.dayGuard?.tradingDay ?? cstDate(this.startedAt),
      autoExit: this.options?.autoExit ?? null,
      stages: this.stages.view(),
      startedAt: new Date(this.startedAt).toISOString(),
      updatedAt: new Date(now).toISOString(),
      log: this.log.recent().slice(-50),
    };
  }

  private async publishStatus(): Promise<void> {
    this.unread = (await this.reader?.unread().catch(() => 0)) ?? 0;
    const status = this.status();
    this.emit('status', status);
    await writeStatusSnapshot(this.config.files.stateDir, status).catch(() => undefined);
  }

  private async autoExit(): Promise<void> {
    this.log.info('程序自动退出', 'NQ210');
    await this.stop().catch((err: unknown) => this.fail(err));
    this.emit('exit', 'auto-exit');
  }

  /**
   * The CST day changed under the gateway (DayGuard, NQ220): nothing more is sent; the answers
   * to what went out before it are let in and written; then the gateway stops and says so, and
   * `nqgw run` exits 4, which systemd neither restarts nor counts as a failure.
   */
  private async endOfDay(): Promise<void> {
    this.hold(DAY_HOLD, true);
    if (this.stopping) return;
    await this.dayGuard?.settle(() => this.pump?.awaitingAnswer ?? 0);
    if (this.stopping) return; // an operator's stop came first
    this.log.info(formatMessage('NQ226_DAY_ENDED_EXIT', { date: this.dayGuard?.tradingDay ?? '' }), 'NQ226');
    const stopped = this.stop().catch((err: unknown) => this.fail(err));
    await withinMs(stopped, DAY_END_STOP_DEADLINE_MS);
    this.emit('exit', DAY_ENDED);
  }

  /** Stop cleanly: no new sends, returns in hand written, files closed, lock released. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    if (this.statusTimer) clearInterval(this.statusTimer);
    // Each step runs even when one throws (the lock is released whatever happened); the first
    // failure is thrown at the end. gateway.log is written off the order path: closed last.
    const steps = [
      () => this.options?.stop(),
      () => this.dayGuard?.stop(),
      () => this.clockGuard?.stop(),
      () => this.identity?.stop(),
      async () => {
        while (this.pumping) await new Promise((r) => setTimeout(r, 5));
      },
      () => this.link?.stop(),
      () => this.sink?.stop(),
      () => this.sink?.idle(),
      () => this.publishStatus(),
      () => this.closeFiles(),
      () => this.lock.release(),
      () => this.log.close(),
    ];
    await tryEach(steps, (err) => this.fail(err));
  }

  private closeFiles(): Promise<void> {
    return tryEach([() => this.journal?.close(), () => this.reader?.close(), () => this.writer?.close()]);
  }
}
