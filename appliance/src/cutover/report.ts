/**
 * What cutover prints: one line per step with the time it ended (CST), how long after the start
 * of the command it ended, OK/WARN/FAIL/SKIP, what was found and, for a failure, what to do.
 * The same records go out as JSON with --json. The clock is injected for the tests.
 */
import { cstClock, type Clock } from '../shared/index.js';

export type StepVerdict = 'OK' | 'WARN' | 'FAIL' | 'SKIP';

export interface StepRecord {
  /** Stable name: config, dirs, nqhb, tls, clock, mainstation, lock, start, process, logon, heartbeat, drill-cleanup. */
  step: string;
  title: string;
  verdict: StepVerdict;
  detail: string;
  /** What to do, for WARN and FAIL. */
  hint?: string;
  /** Milliseconds from the start of the command to the end of this step. */
  elapsedMs: number;
  /** Milliseconds this step took. */
  tookMs: number;
  at: string;
}

export interface StepOutcome {
  verdict: StepVerdict;
  detail: string;
  hint?: string;
}

export interface ReportSink {
  line(text: string): void;
}

export class CutoverReport {
  readonly steps: StepRecord[] = [];
  readonly startedAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly sink: ReportSink | null,
  ) {
    this.startedAt = clock.now();
  }

  /** Run one step, record it and print it. A step that throws is a FAIL with the error's words. */
  async run(
    step: string,
    title: string,
    body: () => Promise<StepOutcome> | StepOutcome,
  ): Promise<StepRecord> {
    const began = this.clock.now();
    let outcome: StepOutcome;
    try {
      outcome = await body();
    } catch (err) {
      const e = err as { message?: string; hint?: string; code?: string };
      outcome = {
        verdict: 'FAIL',
        detail: `${e.code ? `[${e.code}] ` : ''}${e.message ?? String(err)}`,
        ...(e.hint ? { hint: e.hint } : {}),
      };
    }
    return this.add(step, title, outcome, began);
  }

  add(step: string, title: string, outcome: StepOutcome, began: number = this.clock.now()): StepRecord {
    const end = this.clock.now();
    const record: StepRecord = {
      step,
      title,
      verdict: outcome.verdict,
      detail: outcome.detail,
      ...(outcome.hint ? { hint: outcome.hint } : {}),
      elapsedMs: end - this.startedAt,
      tookMs: end - began,
      at: cstClock(end),
    };
    this.steps.push(record);
    this.sink?.line(formatStep(record));
    return record;
  }

  note(text: string): void {
    this.sink?.line(`         ${text}`);
  }

  failed(): boolean {
    return this.steps.some((s) => s.verdict === 'FAIL');
  }

  elapsed(): number {
    return this.clock.now() - this.startedAt;
  }
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

export function formatStep(r: StepRecord): string {
  const head = `${r.at} +${formatSeconds(r.elapsedMs).padStart(8)}  ${r.verdict.padEnd(4)}  ${r.title}`;
  const lines = [`${head}: ${r.detail}`];
  if (r.hint && r.verdict !== 'OK') lines.push(`${' '.repeat(26)}-> ${r.hint}`);
  return lines.join('\n');
}
