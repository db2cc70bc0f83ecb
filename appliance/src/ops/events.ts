import type { OperatorLine } from '../gateway/index.js';

export interface EventLine extends OperatorLine {
  id: number;
}

export interface EventPage {
  lines: EventLine[];
  /** Pass as `since` to get the lines after this page. */
  next: number;
  /** Oldest id still held; lines before it are gone from memory (they stay in gateway.log). */
  oldest: number;
}

/** The operator log numbered 1, 2, 3 ... so /api/events can be paged with `since`. */
export class EventRing {
  private readonly lines: EventLine[] = [];
  private nextId = 1;

  constructor(private readonly size = 2000) {}

  push(line: OperatorLine): EventLine {
    const entry = { id: this.nextId++, ...line };
    this.lines.push(entry);
    if (this.lines.length > this.size) this.lines.shift();
    return entry;
  }

  /** Lines with id > since, oldest first, at most `limit`; without since, the newest `limit`. */
  page(since: number | undefined, limit: number): EventPage {
    const picked =
      since === undefined || !Number.isFinite(since)
        ? this.lines.slice(-limit)
        : this.lines.filter((l) => l.id > since).slice(0, limit);
    const last = picked.at(-1);
    return {
      lines: picked,
      next: last ? last.id : (since ?? this.nextId - 1),
      oldest: this.lines[0]?.id ?? this.nextId,
    };
  }
}
