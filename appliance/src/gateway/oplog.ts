import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { cstClock, type Clock } from '../shared/index.js';
import { RotatingLogFile } from './logfile.js';
import { cleanLogCode, cleanLogText } from './logtext.js';

/**
 * The time-stamped log of the vendor's main screen: what an operator reads to know what the
 * gateway did. Each line goes to stdout as one JSON object (for journald and the log shipper),
 * to state_dir/gateway.log in the vendor's "HH:MM:SS text" form, and into a ring the status
 * snapshot shows; listeners (ops alerts and SSE, log shipping) get every line.
 *
 * The order path writes here, so nothing here may stop it: the file is written off the event
 * loop's path by a bounded queue (logfile.ts), a listener that throws or rejects is caught and
 * reported once, and text from outside is made one printable line of bounded size first.
 */
export type LogLevel = 'info' | 'warn' | 'error';

export interface OperatorLine {
  time: number;
  level: LogLevel;
  code?: string;
  text: string;
}

export type OperatorLogListener = (line: OperatorLine) => unknown;

export interface OperatorLogOptions {
  clock: Clock;
  file?: string;
  ringSize?: number;
  stdout?: boolean;
  /** gateway.log rotation and queue bound (defaults in logfile.ts: 10 MiB, 5 kept, 4 MiB queued). */
  rotateBytes?: number;
  keepFiles?: number;
  queueBytes?: number;
}

/** A failing listener is reported at most this often (the rest are counted into the next report). */
const LISTENER_REPORT_EVERY_MS = 60_000;

let stdoutBroken = false;
let stdoutGuarded = false;
/** journald restarting must not kill the gateway: an EPIPE on stdout stops the echo, nothing else. */
function guardStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', () => {
    stdoutBroken = true;
  });
}

export class OperatorLog {
  private readonly ring: OperatorLine[] = [];
  private readonly listeners = new Set<OperatorLogListener>();
  private readonly file: RotatingLogFile | null;
  private readonly listenerFailures = new Map<OperatorLogListener, { reportedAt: number; since: number }>();
  /** True while a listener failure is being written: its own failures are then only counted. */
  private reporting = false;

  constructor(private readonly options: OperatorLogOptions) {
    if (options.stdout !== false) guardStdout();
    if (!options.file) {
      this.file = null;
      return;
    }
    mkdirSync(path.dirname(options.file), { recursive: true });
    this.file = new RotatingLogFile({
      file: options.file,
      ...(options.rotateBytes !== undefined ? { maxBytes: options.rotateBytes } : {}),
      ...(options.keepFiles !== undefined ? { keep: options.keepFiles } : {}),
      ...(options.queueBytes !== undefined ? { maxQueuedBytes: options.queueBytes } : {}),
      droppedLine: (n) =>
        this.fileLine(
          this.options.clock.now(),
          'NQ240',
          `gateway.log 写入跟不上, 此处 ${n} 行未写入本文件 (标准输出、状态页与日志传送中仍有); 请检查 state_dir 所在磁盘`,
        ),
      onFailure: (err) =>
        this.write(
          'error',
          `写 gateway.log 失败: ${err.message}; 日志仍输出到标准输出与日志传送, 委托不受影响. 请检查 state_dir 所在磁盘 (空间、权限)`,
          'NQ241',
        ),
      onRecovery: (lost) => this.write('info', `gateway.log 已恢复写入, 期间 ${lost} 行未能写入`, 'NQ242'),
    });
  }

  /** Record one line. Never throws and never waits for a disk or a listener. */
  write(level: LogLevel, text: string, code?: string): void {
    const cleanCode = cleanLogCode(code);
    const line: OperatorLine = {
      time: this.options.clock.now(),
      level,
      text: cleanLogText(String(text)),
      ...(cleanCode ? { code: cleanCode } : {}),
    };
    this.ring.push(line);
    if (this.ring.length > (this.options.ringSize ?? 200)) this.ring.shift();
    if (this.options.stdout !== false && !stdoutBroken) {
      try {
        process.stdout.write(
          `${JSON.stringify({ t: new Date(line.time).toISOString(), ...line, time: undefined })}\n`,
        );
      } catch {
        stdoutBroken = true;
      }
    }
    this.file?.append(this.fileLine(line.time, line.code, line.text));
    this.notify(line);
  }

  info(text: string, code?: string): void {
    this.write('info', text, code);
  }
  warn(text: string, code?: string): void {
    this.write('warn', text, code);
  }
  error(text: string, code?: string): void {
    this.write('error', text, code);
  }

  recent(): OperatorLine[] {
    return [...this.ring];
  }

  subscribe(listener: OperatorLogListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      this.listenerFailures.delete(listener);
    };
  }

  /** Resolves once every line written so far is in gateway.log (at once without a file). */
  flush(): Promise<void> {
    return this.file?.flush() ?? Promise.resolve();
  }

  /**
   * Flush and close gateway.log (Gateway.stop); a later line opens it again. False when the disk
   * did not take the lines within `timeoutMs` (the stop goes on; stdout had them).
   */
  close(timeoutMs?: number): Promise<boolean> {
    return this.file?.close(timeoutMs) ?? Promise.resolve(true);
  }

  /** Lines gateway.log did not get: dropped while the disk lagged, or lost to a failing disk. */
  get fileLosses(): { dropped: number; failed: number } {
    return { dropped: this.file?.dropped ?? 0, failed: this.file?.failed ?? 0 };
  }

  private fileLine(time: number, code: string | undefined, text: string): string {
    return `${cstClock(time)}${code ? ` [${code}]` : ''} ${text}\n`;
  }

  private notify(line: OperatorLine): void {
    for (const listener of [...this.listeners]) {
      try {
        const result = listener(line);
        // An async listener's rejection is its failure too (not an unhandled rejection).
        if (result !== null && typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
          (result as PromiseLike<unknown>).then(undefined, (err: unknown) =>
            this.listenerFailed(listener, err),
          );
        }
      } catch (err) {
        this.listenerFailed(listener, err);
      }
    }
  }

  /**
   * Say once that a listener failed (which line it lost is not worth a line each): then at most
   * once a minute with the count. The report goes through this log, so a listener that fails on
   * every line fails on the report too; that failure is counted, not reported again.
   */
  private listenerFailed(listener: OperatorLogListener, err: unknown): void {
    if (!this.listeners.has(listener)) return;
    const now = this.options.clock.now();
    const state = this.listenerFailures.get(listener) ?? { reportedAt: -Infinity, since: 0 };
    this.listenerFailures.set(listener, state);
    state.since++;
    if (this.reporting || now - state.reportedAt < LISTENER_REPORT_EVERY_MS) return;
    state.reportedAt = now;
    const count = state.since;
    state.since = 0;
    const reason = err instanceof Error ? err.message : String(err);
    this.reporting = true;
    try {
      this.write(
        'warn',
        `日志的一个订阅者 (告警/状态页/日志传送) 处理日志行出错 ${count} 次: ${reason}; 该订阅者丢失这些行, 委托与 gateway.log 不受影响. 如反复出现请保存日志并联系维护人员`,
        'NQ243',
      );
    } finally {
      this.reporting = false;
    }
  }
}
