import Transport from 'winston-transport';
import winston from 'winston';
import type { SegmentWriter } from './segments.js';

const MESSAGE = Symbol.for('message');

/** A winston transport that hands each formatted line to the segment writer (which queues it). */
export class SegmentTransport extends Transport {
  constructor(
    private readonly writer: SegmentWriter,
    private readonly onError: (err: Error) => void,
  ) {
    super();
  }

  /** A failed append is reported, never thrown into winston's stream (which would stop it). */
  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    try {
      this.writer.append(String(info[MESSAGE]));
    } catch (err) {
      this.onError(err as Error);
    }
    next();
  }
}

/**
 * The structured logger: one JSON object a line, `t` first, then level, code, text and where
 * it came from. JSON.stringify keeps non-ASCII as is, so the vendor's Chinese words stay
 * readable in the file and in object storage.
 */
export function createStructuredLogger(
  writer: SegmentWriter,
  fields: Record<string, string>,
  onError: (err: Error) => void = () => undefined,
): winston.Logger {
  const line = winston.format((info) => {
    const { level, message, t, code } = info as Record<string, unknown>;
    info[MESSAGE] = JSON.stringify({ t, level, ...(code ? { code } : {}), text: message, ...fields });
    return info;
  });
  return winston.createLogger({
    levels: { error: 0, warn: 1, info: 2 },
    level: 'info',
    format: line(),
    transports: [new SegmentTransport(writer, onError)],
    exitOnError: false,
  });
}
