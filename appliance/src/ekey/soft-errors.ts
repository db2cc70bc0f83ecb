import { AppError } from '../shared/index.js';

/**
 * The soft-encryption rules said no (apply, confirm, close or logon). `message` is what the
 * operator reads; `hint` what to do. CLI exit code 3.
 */
export class SoftRefusedError extends AppError {
  constructor(code: SoftRefusal, message: string, hint?: string) {
    super(code, message, hint);
  }
}

/** Stable codes of the refusals (alert rules and scripts key on them). */
export const SOFT_REFUSAL = {
  /** The window would span more than 10 trading days. */
  TOO_LONG: 'NQ161',
  /** A window is already open. */
  ALREADY_OPEN: 'NQ162',
  /** No soft-encryption window covers today. */
  NO_WINDOW: 'NQ163',
  /** Today is not a trading day. */
  NOT_TRADING_DAY: 'NQ164',
  /** Today's application to 深证通 has not been confirmed. */
  NOT_CONFIRMED: 'NQ165',
  /** Start in the past, end before start, or no trading day in the window. */
  BAD_WINDOW: 'NQ166',
  /** Window has run out. */
  EXPIRED: 'NQ167',
} as const;
export type SoftRefusal = (typeof SOFT_REFUSAL)[keyof typeof SOFT_REFUSAL];

/** The ledger cannot be read or written: the audit trail is at stake, so nothing proceeds. */
export class SoftLedgerError extends AppError {
  constructor(
    readonly file: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(
      'NQ168',
      `软加密台账有误: ${file}: ${problem}`,
      'The soft-encryption ledger is part of the audit trail: restore it from backup or ask a second operator to inspect it; do not edit it by hand.',
      options,
    );
  }
}

/** Bad arguments or [soft] settings. CLI exit code 2. */
export class SoftUsageError extends AppError {
  constructor(message: string, hint?: string) {
    super('NQ169', message, hint);
  }
}
