import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OrderFileAppender } from '../../../appliance/src/dbf/index.js';
import { makeOrder, type LabDescription } from '../../../appliance/src/lab/index.js';
import { listSegments } from '../../../appliance/src/logs/index.js';
import { makeLab, setIni } from '../../helpers/lab.js';
import { LOG_BUCKET, S3RVER_KEY, type S3Lab } from '../../helpers/s3.js';

/** A lab whose [logs] ships to the S3Lab's proxy, with short segments and fast retries. */
export async function shippingLab(
  s3: S3Lab,
  host: string,
  extra: Record<string, string> = {},
): Promise<LabDescription> {
  const lab = await makeLab({ s3: { endpoint: s3.endpoint, bucket: LOG_BUCKET } });
  writeFileSync(path.join(lab.dir, 's3.key-id'), `${S3RVER_KEY}\n`, { mode: 0o600 });
  const settings: Record<string, string> = {
    host,
    segment_max_s: '1',
    segment_max_bytes: '8192',
    backoff_initial_ms: '50',
    backoff_max_ms: '1000',
    flush_timeout_s: '30',
    archive_after: '',
    ...extra,
  };
  for (const [k, v] of Object.entries(settings)) setIni(lab.twIni, 'logs', k, v);
  return lab;
}

export function localLogLines(lab: LabDescription): string[] {
  return listSegments(path.join(lab.stateDir, 'logs')).flatMap((s) =>
    readFileSync(s.file, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0),
  );
}

/** The operator-log lines a gateway printed on stdout, as "level code text". */
export function stdoutLines(output: string): string[] {
  const out: string[] = [];
  for (const raw of output.split('\n')) {
    if (!raw.startsWith('{')) continue;
    try {
      const o = JSON.parse(raw) as { t?: string; level?: string; code?: string; text?: string };
      if (o.t && o.level && o.text !== undefined) out.push(`${o.t} ${o.level} ${o.code ?? ''} ${o.text}`);
    } catch {
      // not a log line
    }
  }
  return out;
}

export function asStdoutForm(jsonLine: string): string {
  const o = JSON.parse(jsonLine) as { t: string; level: string; code?: string; text: string };
  return `${o.t} ${o.level} ${o.code ?? ''} ${o.text}`;
}

/**
 * Load that makes log lines: valid orders, and every `badEvery`th order with a unit that is not
 * the station's, which the gateway refuses with the vendor's words (委托第 x 笔交易单元 ... 错!).
 */
export class OrderLoad {
  private serial = 0;
  bad = 0;
  good = 0;
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly lab: LabDescription,
    private readonly perTick = 20,
    private readonly badEvery = 5,
  ) {}

  start(): void {
    this.loop = (async () => {
      const appender = await OrderFileAppender.open(this.lab.orders);
      try {
        while (!this.stopped) {
          const rows = [];
          for (let i = 0; i < this.perTick; i++) {
            this.serial++;
            const bad = this.serial % this.badEvery === 0;
            if (bad) this.bad++;
            else this.good++;
            rows.push(
              makeOrder(
                bad ? '999999' : this.lab.units[this.serial % this.lab.units.length]!,
                this.serial,
                Date.now(),
              ),
            );
          }
          await appender.append(rows);
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        await appender.close();
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}
