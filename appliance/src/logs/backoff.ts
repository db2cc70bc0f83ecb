/**
 * Capped exponential backoff with full jitter: attempt n waits a random time in
 * [cap/2, cap] where cap = min(max, initial * 2^n). It never runs out: the shipper retries
 * for as long as the store is away.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const cap = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(cap / 2 + this.random() * (cap / 2));
  }

  reset(): void {
    this.attempt = 0;
  }
}
