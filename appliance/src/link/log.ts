import type { EventEmitter } from 'node:events';
import { formatMessage, shortCode, type MessageCode } from '../shared/index.js';
import type { LinkEvents, LinkLogLine } from './types.js';

/** Emits the room's operator log lines ('log' events), vendor sentences under their codes. */
export class LinkLogger {
  constructor(private readonly events: EventEmitter<LinkEvents>) {}

  line(level: LinkLogLine['level'], code: string | undefined, text: string): void {
    this.events.emit('log', code === undefined ? { level, text } : { level, code, text });
  }

  /** One of the vendor's sentences (shared/messages.ts), word for word. */
  vendor(level: LinkLogLine['level'], key: MessageCode, vars: Record<string, string | number> = {}): void {
    this.line(level, shortCode(key), formatMessage(key, vars));
  }
}
