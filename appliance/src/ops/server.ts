import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { GatewayStatus, OperatorLine } from '../gateway/index.js';
import { AppError } from '../shared/index.js';
import { AlertEngine, type Alert } from './alerts.js';
import { AuditLog } from './audit.js';
import { addControlRoutes } from './control.js';
import { EventRing } from './events.js';
import { createMetrics } from './metrics.js';
import { renderStatusPage } from './page.js';
import { serverIndexOf, type OpsSource } from './source.js';
import { ensureTokenFile } from './token.js';
import { authorize, leverGuard, pageLogin, Sessions } from './auth.js';
import { certificateCovers, ensureApiCertificate, type ApiCertificate } from './cert.js';
import { WebhookSink } from './webhook.js';

export interface OpsServerOptions {
  /** Default: config.management host and port (port 0 picks a free one, for tests). */
  host?: string;
  port?: number;
  /** Default: read from config.management.tokenFile (must be 0600; created when missing). */
  token?: string;
  onStop?: () => void;
  webhookUrl?: string;
  /** Log shipping's backlog for /metrics, when it runs. */
  /** The log service's shipping state (issue 6), or null when no log service runs. */
  logShipping?: () => LogShippingView | null;
}

/**
 * The operations API, metrics and status page of issue 5 (routes in docs/ops.md). It only
 * reads the gateway's status and log and pulls the operator's levers; it never reaches in.
 */
export class OpsServer {
  readonly alerts: AlertEngine;
  readonly events = new EventRing();
  private readonly token: string;
  private readonly audit: AuditLog;
  private readonly webhook: WebhookSink | null;
  private readonly server: http.Server | https.Server;
  private readonly sessions = new Sessions();
  /** The appliance's own certificate when the listener is HTTPS ([management] tls). */
  readonly certificate: ApiCertificate | null;
  private readonly streams = new Set<Response>();
  private readonly page = renderStatusPage();
  private unsubscribe: () => void = () => undefined;
  private reconnects = -1;
  private readonly onStatus = (s: GatewayStatus): void => this.publish(s);

  constructor(
    private readonly source: OpsSource,
    private readonly options: OpsServerOptions = {},
  ) {
    const { config } = source;
    if (options.token) this.token = options.token;
    else {
      const t = ensureTokenFile(config.management.tokenFile);
      this.token = t.token;
      if (t.created)
        source.log.write('warn', `已创建 API 令牌文件 ${config.management.tokenFile} (0600)`, 'NQ960');
    }
    this.alerts = new AlertEngine({ heartbeatMs: config.link.heartbeatMs });
    this.audit = AuditLog.inStateDir(config.files.stateDir);
    this.webhook = options.webhookUrl
      ? new WebhookSink({
          url: options.webhookUrl,
          onGiveUp: (_p, error) => source.log.write('warn', `告警 webhook 投递失败: ${error}`, 'NQ963'),
        })
      : null;
    const sink = (event: 'raised' | 'cleared') => (a: Alert) => {
      if (a.vendorCode === undefined || a.code === 'NOTICE') {
        source.log.write(
          event === 'raised' ? 'warn' : 'info',
          `告警${event === 'raised' ? '' : '解除'} ${a.code}: ${a.words}`,
          'NQ962',
        );
      }
      this.webhook?.send({ event, station: config.station.id, alert: a });
      this.broadcast('snapshot', this.snapshot(source.status()));
    };
    this.alerts.on('raised', sink('raised'));
    this.alerts.on('cleared', sink('cleared'));
    const tls = config.management.tls;
    this.certificate = tls
      ? ensureApiCertificate(tls.cert, tls.key, [options.host ?? config.management.host])
      : null;
    this.server = this.certificate
      ? https.createServer({ cert: this.certificate.certPem, key: this.certificate.keyPem }, this.app())
      : http.createServer(this.app());
  }

  private app(): express.Express {
    const app = express();
    app.disable('x-powered-by');
    app.set('trust proxy', false);
    app.get('/healthz', (_req, res) => void res.json({ ok: true, pid: process.pid }));
    app.get('/readyz', (_req, res) => {
      const reasons = this.notReady(this.source.status());
      res.status(reasons.length === 0 ? 200 : 503).json({ ready: reasons.length === 0, reasons });
    });
    app.get('/', pageLogin(this.token, this.sessions, this.certificate !== null));
    app.use(authorize(this.token, this.sessions));
    app.get('/', (_req, res) => void res.type('html').set('cache-control', 'no-store').send(this.page));
    app.get('/metrics', async (_req, res) => {
      const registry = this.registry;
      res.type(registry.contentType).send(await registry.metrics());
    });
    const api = express.Router();
    api.use(
      leverGuard((req, why) =>
        this.source.log.write(
          'warn',
          `拒绝管理接口请求 ${req.method} ${req.baseUrl}${req.path}: ${why}`,
          'NQ652',
        ),
      ),
    );
    api.use(express.json({ limit: '4kb' }));
    api.get('/status', (_req, res) => void res.json(this.fullStatus()));
    api.get(
      '/alerts',
      (_req, res) => void res.json({ active: this.alerts.active(), recent: this.alerts.recent() }),
    );
    api.get('/events', (req, res) => {
      const since = req.query['since'] === undefined ? undefined : Number(req.query['since']);
      const limit = Math.min(Math.max(Number(req.query['limit'] ?? 100) || 100, 1), 1000);
      res.json(this.events.page(since, limit));
    });
    api.get('/stream', (req, res) => this.stream(req, res));
    addControlRoutes(api, {
      source: this.source,
      audit: this.audit,
      onStop: this.options.onStop ?? (() => process.kill(process.pid, 'SIGTERM')),
      refresh: () => this.publish(this.source.status()),
      requireChecker: this.source.config.management.requireChecker === true,
    });
    app.use('/api', api);
    app.use((_req, res) => void res.status(404).json({ error: 'no such route' }));
    app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
      void res.status((err as { status?: number }).status ?? 500).json({ error: err.message });
    });
    return app;
  }

  private registryCache: ReturnType<typeof createMetrics> | null = null;
  private get registry(): ReturnType<typeof createMetrics> {
    this.registryCache ??= createMetrics({
      status: () => this.source.status(),
      alerts: this.alerts,
      reconnects: () => Math.max(0, this.reconnects),
      serverIndex: () => serverIndexOf(this.source.config, this.source.status()),
      tlsMode: this.source.config.tls.mode,
      shippingBacklogBytes: () => this.options.logShipping?.()?.spoolBytes ?? 0,
    });
    return this.registryCache;
  }

  private notReady(s: GatewayStatus): string[] {
    const reasons: string[] = [];
    if (s.linkState !== '正常') reasons.push(`link ${s.linkState}`);
    if (s.linkStalled) reasons.push(`link stalled: ${s.linkStalled}`);
    if (s.holds.length > 0) reasons.push(`sending held: ${s.holds.join(', ')}`);
    if (s.clock?.state === 'alarm') reasons.push('clock alarm');
    return reasons;
  }

  fullStatus(): Record<string, unknown> {
    const s = this.source.status();
    const { config } = this.source;
    const idx = serverIndexOf(config, s);
    return {
      ...s,
      running: true,
      ready: this.notReady(s).length === 0,
      serverNumber: idx < 0 ? null : idx + 1,
      servers: config.servers.map((x, i) => ({
        number: i + 1,
        name: x.name,
        address: `${x.host}:${x.port}`,
      })),
      token: tokenView(config.tls.mode, s),
      logShipping: logShippingView(this.options.logShipping?.() ?? null),
      alerts: this.alerts.active(),
    };
  }

  private snapshot(s: GatewayStatus): { status: GatewayStatus; alerts: Alert[] } {
    return { status: { ...s, log: [] }, alerts: this.alerts.active() };
  }

  private stream(req: Request, res: Response): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write(`retry: 2000\n\n`);
    this.streams.add(res);
    req.on('close', () => this.streams.delete(res));
    const s = this.source.status();
    this.send(res, 'snapshot', this.snapshot(s));
    this.send(res, 'lines', this.events.page(undefined, 100).lines);
  }

  private send(res: Response, event: string, data: unknown): void {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private broadcast(event: string, data: unknown): void {
    for (const res of this.streams) this.send(res, event, data);
  }

  private publish(s: GatewayStatus): void {
    this.alerts.observeStatus(s);
    this.broadcast('snapshot', this.snapshot(s));
  }

  private onLine(line: OperatorLine): void {
    const entry = this.events.push(line);
    if (line.code === 'NQ302') this.reconnects++;
    this.alerts.observeLine(line);
    this.broadcast('line', entry);
    this.soon();
  }

  /**
   * A log line often means the screen changed (link dropped, reconnecting...): a fresh snapshot
   * on the next turn of the event loop, one per turn however many lines came in it.
   */
  private soonTimer: NodeJS.Immediate | null = null;
  private soon(): void {
    if (this.soonTimer || this.streams.size === 0) return;
    this.soonTimer = setImmediate(() => {
      this.soonTimer = null;
      this.publish(this.source.status());
    });
  }

  async start(): Promise<void> {
    for (const line of this.source.log.recent()) this.onLine(line);
    this.unsubscribe = this.source.log.subscribe((line) => this.onLine(line));
    this.source.on('status', this.onStatus);
    const { host = this.source.config.management.host, port = this.source.config.management.port } =
      this.options;
    this.logCertificate(host);
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(port, host, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.source.off('status', this.onStatus);
      this.unsubscribe();
      this.audit.close();
      throw new AppError(
        'NQ966',
        `管理接口无法监听 ${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        'Another process holds the [management] listen address, or the address is not on this host; fix tw.ini or stop the other process.',
        { cause: err },
      );
    }
  }

  /** Say which certificate the listener shows, so that an operator can compare the fingerprint. */
  private logCertificate(host: string): void {
    const c = this.certificate;
    if (!c) return;
    const { tls } = this.source.config.management;
    this.source.log.write(
      'info',
      `管理接口证书${c.created ? '已创建' : ''} ${tls?.cert} SHA256 ${c.fingerprint}`,
      'NQ653',
    );
    const wildcard = host === '0.0.0.0' || host === '::';
    if (!wildcard && !certificateCovers(c.certPem, host)) {
      this.source.log.write(
        'warn',
        `管理接口证书不包含监听地址 ${host} (${c.names.join(', ')}): 浏览器和 Prometheus 会拒绝它; 删除 ${tls?.cert} 和 ${tls?.key} 后重启以生成新证书`,
        'NQ651',
      );
    }
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    return `${this.certificate ? 'https' : 'http'}://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  async stop(): Promise<void> {
    this.source.off('status', this.onStatus);
    this.unsubscribe();
    if (this.soonTimer) clearImmediate(this.soonTimer);
    this.webhook?.stop();
    for (const res of this.streams) res.end();
    this.streams.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.audit.close();
  }
}

/** The station key as /api/status shows it: a key file, the EKey's slot, or the soft window. */
function tokenView(mode: string, s: GatewayStatus): Record<string, unknown> {
  if (mode === 'ekey') {
    const present = s.ekey?.present ?? null;
    return {
      mode,
      state: present === null ? 'unknown' : present ? 'present' : 'absent',
      failures: s.ekey?.failures ?? 0,
    };
  }
  if (mode === 'soft') return { mode, state: s.soft ? 'soft-window' : 'not-logged-on', soft: s.soft ?? null };
  return { mode, state: 'file-key' };
}

/** What the log service tells the ops room (a subset of the logs room's ShipMetrics). */
export interface LogShippingView {
  shipping: boolean;
  spoolBytes: number;
  alarm: string;
  objectsShipped: number;
  lastError: string | null;
}

/** off: no log service; local: segments kept locally only; on: shipped to object storage. */
function logShippingView(m: LogShippingView | null): Record<string, unknown> {
  if (m === null) return { state: 'off' };
  if (!m.shipping) return { state: 'local' };
  return {
    state: 'on',
    backlogBytes: m.spoolBytes,
    alarm: m.alarm,
    objectsShipped: m.objectsShipped,
    lastError: m.lastError,
  };
}
