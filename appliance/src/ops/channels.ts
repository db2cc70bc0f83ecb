import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TwConfig } from '../config/index.js';
import { AppError } from '../shared/index.js';
import type { Alert } from './alerts.js';
import { SEVERITY_WORDS, type Severity } from './catalogue.js';
import { sendMail, type MailSettings } from './mail.js';
import { renderWebhookTemplate, WebhookSink } from './webhook.js';

/**
 * The alert channels for people (tw.ini [alerts]): the practice's SMS and mail gateways. An SMS
 * gateway takes a JSON webhook in its own shape, so the body is a template (a JSON file with
 * {{field}} placeholders; appliance/data/alerts/ ships a generic one and an SMS one); mail goes
 * through the site's relay (mail.ts). [management] alert_webhook stays the raw event stream for
 * machines ({event, station, alert}). Both channels queue and retry off the caller's path.
 *
 *   [alerts]
 *   webhook_url = https://sms-gw.example/api/send     ; templated JSON webhook (SMS gateway)
 *   webhook_template = /opt/nqgw/appliance/data/alerts/webhook-sms.json
 *   mail_relay = smtp://10.80.0.25:25                 ; or smtps://host:465
 *   mail_starttls = yes                               ; STARTTLS required (no clear-text fallback)
 *   mail_from = nqgw-gw-a@broker.example
 *   mail_to = dr-duty@broker.example, it-head@broker.example
 *   mail_user = nqgw                                  ; optional AUTH PLAIN
 *   mail_password_file = /etc/nqgw/secrets/mail.pass  ; 0600, never the password in tw.ini
 *   mail_ca = /etc/nqgw/secrets/mail-ca.crt           ; optional CA of the relay
 *   min_severity = warning                            ; critical | warning | info (default warning)
 */
export interface ChannelSettings {
  webhook: { url: string; template: unknown } | null;
  mail: MailSettings | null;
  minSeverity: Severity;
}

const KEYS = new Set([
  'webhook_url',
  'webhook_template',
  'mail_relay',
  'mail_starttls',
  'mail_from',
  'mail_to',
  'mail_user',
  'mail_password_file',
  'mail_ca',
  'mail_timeout_ms',
  'min_severity',
]);

export class AlertChannelSettingsError extends AppError {
  constructor(problem: string) {
    super('NQ840', `[alerts] ${problem}`, 'correct [alerts] in tw.ini (docs/ops.md "Alert channels")');
  }
}

const bool = (key: string, v: string | undefined): boolean => {
  if (v === undefined || v.trim() === '') return false;
  if (/^(yes|true|on|1)$/i.test(v.trim())) return true;
  if (/^(no|false|off|0)$/i.test(v.trim())) return false;
  throw new AlertChannelSettingsError(`${key} = ${v}: yes or no`);
};

/** [alerts] of tw.ini, checked; paths relative to tw.ini's directory. */
export function parseChannelSettings(config: TwConfig): ChannelSettings {
  const raw = config.extra['alerts'] ?? {};
  for (const key of Object.keys(raw))
    if (!KEYS.has(key)) throw new AlertChannelSettingsError(`unknown key ${key}`);
  const base = path.dirname(config.source);
  const file = (v: string | undefined): string | undefined =>
    v?.trim() ? path.resolve(base, v.trim()) : undefined;
  const minSeverity = (raw['min_severity']?.trim() || 'warning') as Severity;
  if (!(minSeverity in SEVERITY_WORDS))
    throw new AlertChannelSettingsError(`min_severity = ${minSeverity}: critical, warning or info`);

  let webhook: ChannelSettings['webhook'] = null;
  if (raw['webhook_url']?.trim()) {
    const url = raw['webhook_url'].trim();
    if (!/^https?:\/\//.test(url))
      throw new AlertChannelSettingsError(`webhook_url = ${url}: an http(s) URL`);
    const tpl = file(raw['webhook_template']);
    let template: unknown = null;
    if (tpl) {
      try {
        template = JSON.parse(readFileSync(tpl, 'utf8'));
      } catch (err) {
        throw new AlertChannelSettingsError(`webhook_template ${tpl}: ${(err as Error).message}`);
      }
    }
    webhook = { url, template };
  }

  let mail: MailSettings | null = null;
  if (raw['mail_relay']?.trim()) {
    const m = /^(smtps?):\/\/([^:/\s]+)(?::(\d+))?\/?$/.exec(raw['mail_relay'].trim());
    if (!m)
      throw new AlertChannelSettingsError(
        `mail_relay = ${raw['mail_relay']}: smtp://HOST[:PORT] or smtps://HOST[:PORT]`,
      );
    const to = (raw['mail_to'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const from = raw['mail_from']?.trim() ?? '';
    const address = /^[^\s<>@]+@[^\s<>@]+$/;
    if (!address.test(from)) throw new AlertChannelSettingsError(`mail_from = ${from}: one mail address`);
    if (to.length === 0 || !to.every((t) => address.test(t)))
      throw new AlertChannelSettingsError(
        `mail_to = ${raw['mail_to'] ?? ''}: mail addresses, comma-separated`,
      );
    const passwordFile = file(raw['mail_password_file']);
    if (passwordFile) {
      const mode = statSync(passwordFile, { throwIfNoEntry: false })?.mode;
      if (mode === undefined)
        throw new AlertChannelSettingsError(`mail_password_file ${passwordFile} does not exist`);
      if ((mode & 0o077) !== 0)
        throw new AlertChannelSettingsError(
          `mail_password_file ${passwordFile} is readable by group or others: chmod 600`,
        );
    }
    const timeout = Number(raw['mail_timeout_ms'] ?? 15_000);
    if (!Number.isInteger(timeout) || timeout < 100)
      throw new AlertChannelSettingsError('mail_timeout_ms: whole milliseconds from 100');
    const ca = file(raw['mail_ca']);
    const user = raw['mail_user']?.trim();
    mail = {
      host: m[2]!,
      port: m[3] ? Number(m[3]) : m[1] === 'smtps' ? 465 : 25,
      implicitTls: m[1] === 'smtps',
      starttls: bool('mail_starttls', raw['mail_starttls']),
      from,
      to,
      ...(user ? { user } : {}),
      ...(passwordFile ? { passwordFile } : {}),
      ...(ca ? { ca } : {}),
      timeoutMs: timeout,
    };
  }
  return { webhook, mail, minSeverity };
}

/** The fields a template or a mail can use, as strings. */
export function alertFields(
  event: 'raised' | 'cleared',
  a: Alert,
  station: string,
  host = os.hostname(),
): Record<string, string> {
  return {
    event,
    event_words: event === 'raised' ? '告警' : '告警解除',
    station,
    host,
    code: a.code,
    severity: a.severity,
    severity_words: SEVERITY_WORDS[a.severity],
    title: a.title,
    words: a.words,
    action: a.action,
    since: a.since,
    cleared_at: a.clearedAt ?? '',
    time: new Date().toISOString(),
  };
}

export function alertMail(f: Record<string, string>): { subject: string; text: string } {
  return {
    subject: `[nqgw ${f['station']}] ${f['severity_words']}${f['event_words']} ${f['code']}: ${f['title']}`,
    text: [
      `${f['event_words']} (${f['event']}) ${f['code']}  ${f['severity_words']} (${f['severity']})`,
      `小站号 ${f['station']}  主机 ${f['host']}`,
      `${f['title']}`,
      `${f['words']}`,
      '',
      `处理 (action): ${f['action']}`,
      `开始 (since): ${f['since']}${f['cleared_at'] ? `  解除 (cleared): ${f['cleared_at']}` : ''}`,
      '',
      '-- nqgw (docs/ops.md "Alerts")',
    ].join('\n'),
  };
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/**
 * The channels at work: each raise and clear at or above min_severity goes to the templated
 * webhook and to mail. Mail is queued (bounded, in order) and retried 3 times with a doubling
 * pause; a mail given up is said once per failure through onGiveUp (never with credentials).
 */
export class AlertChannels {
  private readonly webhook: WebhookSink | null;
  private readonly mailQueue: { subject: string; text: string }[] = [];
  private mailing = false;
  private stopped = false;
  mailsSent = 0;

  constructor(
    private readonly settings: ChannelSettings,
    private readonly station: string,
    private readonly onGiveUp: (channel: 'webhook' | 'mail', error: string) => void,
    private readonly host = os.hostname(),
  ) {
    this.webhook = settings.webhook
      ? new WebhookSink({ url: settings.webhook.url, onGiveUp: (_p, e) => onGiveUp('webhook', e) })
      : null;
  }

  notify(event: 'raised' | 'cleared', a: Alert): void {
    if (this.stopped || RANK[a.severity] < RANK[this.settings.minSeverity]) return;
    const f = alertFields(event, a, this.station, this.host);
    if (this.webhook)
      this.webhook.send(
        this.settings.webhook!.template === null
          ? { ...f }
          : renderWebhookTemplate(this.settings.webhook!.template, f),
      );
    if (this.settings.mail) {
      this.mailQueue.push(alertMail(f));
      if (this.mailQueue.length > 200) this.mailQueue.shift();
      if (!this.mailing)
        this.drainMail().catch((err: unknown) => this.onGiveUp('mail', (err as Error).message));
    }
  }

  private async drainMail(): Promise<void> {
    this.mailing = true;
    while (!this.stopped && this.mailQueue.length > 0) {
      const msg = this.mailQueue[0]!;
      let last = '';
      for (let attempt = 1, pause = 1000; attempt <= 3 && !this.stopped; attempt++, pause *= 2) {
        try {
          await sendMail(this.settings.mail!, msg);
          last = '';
          this.mailsSent++;
          break;
        } catch (err) {
          last = (err as Error).message;
          if (attempt < 3) await new Promise((r) => setTimeout(r, pause).unref());
        }
      }
      this.mailQueue.shift();
      if (last) this.onGiveUp('mail', last);
    }
    this.mailing = false;
  }

  stop(): void {
    this.stopped = true;
    this.webhook?.stop();
  }
}
