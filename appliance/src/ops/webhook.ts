/**
 * An optional webhook for alerts: each raise and clear is POSTed as JSON. Delivery is
 * fire-and-forget for the caller (`send` only queues), retried with capped exponential backoff,
 * in order; the queue is bounded (oldest dropped, counted) so a dead receiver never grows memory
 * and never blocks the order path.
 */
export interface WebhookOptions {
  url: string;
  attempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  maxQueue?: number;
  onGiveUp?: (payload: unknown, error: string) => void;
}

export class WebhookSink {
  private readonly queue: unknown[] = [];
  private busy = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  delivered = 0;
  dropped = 0;
  failed = 0;

  constructor(private readonly options: WebhookOptions) {}

  send(payload: unknown): void {
    if (this.stopped) return;
    this.queue.push(payload);
    if (this.queue.length > (this.options.maxQueue ?? 1000)) {
      this.queue.shift();
      this.dropped++;
    }
    if (!this.busy) {
      this.busy = true;
      setImmediate(
        () =>
          void this.drain().catch((err: unknown) => this.options.onGiveUp?.(null, (err as Error).message)),
      );
    }
  }

  get backlog(): number {
    return this.queue.length;
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.queue.length > 0) {
      const payload = this.queue[0];
      const error = await this.deliver(payload);
      this.queue.shift();
      if (error === null) this.delivered++;
      else {
        this.failed++;
        this.options.onGiveUp?.(payload, error);
      }
    }
    this.busy = false;
  }

  /** Null when delivered, else the last error after all attempts. */
  private async deliver(payload: unknown): Promise<string | null> {
    const attempts = this.options.attempts ?? 5;
    let delay = this.options.initialDelayMs ?? 500;
    let last = '';
    for (let i = 1; i <= attempts && !this.stopped; i++) {
      try {
        const res = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(payload),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return null;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (i < attempts) {
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.options.maxDelayMs ?? 30_000);
      }
    }
    return last || 'stopped';
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
  }
}

/**
 * A webhook body from a template: a JSON document whose strings may hold {{field}} placeholders
 * (ops/channels.ts alertFields: station, host, code, severity, severity_words, event_words,
 * title, words, action, since, cleared_at, time). Substitution happens inside the parsed
 * strings, so a value holding quotes or newlines can never break the JSON; an unknown field is
 * left as written, so a typo shows in the message instead of vanishing.
 */
export function renderWebhookTemplate(template: unknown, fields: Record<string, string>): unknown {
  if (typeof template === 'string')
    return template.replace(/\{\{([a-z_]+)\}\}/g, (all, key: string) => fields[key] ?? all);
  if (Array.isArray(template)) return template.map((t) => renderWebhookTemplate(t, fields));
  if (template !== null && typeof template === 'object')
    return Object.fromEntries(
      Object.entries(template).map(([k, v]) => [k, renderWebhookTemplate(v, fields)]),
    );
  return template;
}
