import { formatMessage, shortCode, type MessageCode } from './messages.js';

/**
 * Base of every typed error the appliance raises. `code` is stable (scripts and alerts key on
 * it); `message` is what the operator reads; `hint` says what to do about it.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An error whose words are the vendor's, from the message catalogue. */
export class VendorError extends AppError {
  constructor(
    readonly key: MessageCode,
    vars: Record<string, string | number> = {},
    hint?: string,
    options?: { cause?: unknown },
  ) {
    super(shortCode(key), formatMessage(key, vars), hint, options);
  }
}
