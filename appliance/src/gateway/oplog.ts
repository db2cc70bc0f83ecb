import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { cstClock, type Clock } from '../shared/index.js';

/**
 * The time-stamped log of the vendor's main screen: what an operator reads to know what the
 * gateway did. Each line goes to stdout as one JSON object (for journald and the log shipper),
 * to state_dir/gateway.log in the vendor's "HH:MM:SS text" form, and into a ring the status
 * snapshot shows. The logging room (winston, shipping) will subscribe here; nothing else should
 * print.
 */
export type LogLevel = 'info' | 'warn' | 'error';

export interface OperatorLine {
  time: number;
  level: LogLevel;
  code?: string;
  text: string;
}

export interface OperatorLogOptions {
  clock: Clock;
  file?: string;
  ringSize?: number;
  stdout?: boolean;
}

export class OperatorLog {
  private readonly ring: OperatorLine[] = [];
  private readonly listeners = new Set<(line: OperatorLine) => void>();

  constructor(private readonly options: OperatorLogOptions) {
    if (options.file) mkdirSync(path.dirname(options.file), { recursive: true });
  }

  write(level: LogLevel, text: string, code?: string): void {
    const line: OperatorLine = { time: this.options.clock.now(), level, text, ...(code ? { code } : {}) };
    this.ring.push(line);
    if (this.ring.length > (this.options.ringSize ?? 200)) this.ring.shift();
    if (this.options.stdout !== false) {
      process.stdout.write(
        `${JSON.stringify({ t: new Date(line.time).toISOString(), ...line, time: undefined })}\n`,
      );
    }
    if (this.options.file) {
      const tag = code ? ` [${code}]` : '';
      appendFileSync(this.options.file, `${cstClock(line.time)}${tag} ${text}\n`);
    }
    for (const listener of this.listeners) listener(line);
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

  subscribe(listener: (line: OperatorLine) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
