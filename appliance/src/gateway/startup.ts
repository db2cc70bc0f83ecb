import type { TwConfig } from '../config/index.js';
import { ReturnFileWriter, ReturnsNotTodayError } from '../dbf/index.js';
import { AppError, VendorError, formatMessage } from '../shared/index.js';
import type { OperatorLog } from './oplog.js';

/**
 * The first lines of the vendor's screen log, in its order (seed 000): the gateway's name and
 * version, the welcome, then the paths of the order and return files.
 */
export function logWelcome(log: OperatorLog, config: TwConfig, software: string): void {
  log.info(formatMessage('NQ253_GATEWAY_NAME', { text: software }), 'NQ253');
  log.info(formatMessage('NQ207_WELCOME', { text: software }), 'NQ207');
  log.info(formatMessage('NQ204_ORDERS_PATH', { text: config.files.orders }), 'NQ204');
  log.info(formatMessage('NQ205_RETURNS_PATH', { text: config.files.returns }), 'NQ205');
}

/**
 * The start-up refusal the vendor's operators know: a return file holding another day's rows is
 * not opened, and the screen says, in this order, why, that opening failed, and that the data
 * could not be initialised. With archive_old_returns the old file is moved aside instead.
 */
export class StartupError extends AppError {}

export async function openReturnFile(
  config: TwConfig,
  today: string,
  log: OperatorLog,
): Promise<ReturnFileWriter> {
  try {
    const { writer, archivedTo, warnings } = await ReturnFileWriter.open(config.files.returns, {
      today,
      archiveOld: config.options.archiveOldReturns,
    });
    if (archivedTo) log.warn(`昨日回报库已归档: ${archivedTo}`, 'NQ208');
    // Repairs of what a crash left (a torn last row, a lagging count): the operator should know.
    for (const w of warnings) log.warn(w.message, w.code);
    return writer;
  } catch (err) {
    const first =
      err instanceof ReturnsNotTodayError
        ? err.message
        : `${(err as Error).message}${(err as AppError).hint ? ` - ${(err as AppError).hint}` : ''}`;
    log.error(first, (err as AppError).code ?? 'NQ202');
    log.error(formatMessage('NQ202_OPEN_RETURNS_FAILED'), 'NQ202');
    log.error(formatMessage('NQ201_DATA_INIT_FAILED'), 'NQ201');
    if (err instanceof VendorError) throw err;
    throw new StartupError(
      'NQ202',
      formatMessage('NQ202_OPEN_RETURNS_FAILED'),
      (err as AppError).hint ?? (err as Error).message,
      { cause: err },
    );
  }
}
