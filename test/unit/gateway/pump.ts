import {
  AnswerMatcher,
  FileJournal,
  type FileJournalOptions,
} from '../../../appliance/src/gateway/journal.js';
import { OrderPump, type OrderSource } from '../../../appliance/src/gateway/orders.js';
import type { OperatorLog } from '../../../appliance/src/gateway/oplog.js';
import { cstDate } from '../../../appliance/src/shared/index.js';

/**
 * An OrderPump as the gateway builds one (unit 729900, a refused record looked at again after
 * 30 s) over `source`, once the day journal in `journalFile` is opened and `source` moved to
 * where the journal resumes. Its clock is `now`, its trading day the CST date of `now`.
 * `journalOptions`: the journal's file operations, when a test injects faults into them.
 */
export async function openPump(
  journalFile: string,
  source: OrderSource,
  log: OperatorLog,
  now: () => number,
  journalOptions: FileJournalOptions = {},
): Promise<{ pump: OrderPump; journal: FileJournal }> {
  const journal = new FileJournal(journalFile, journalOptions);
  const matcher = new AnswerMatcher();
  const replay = await journal.open(matcher);
  source.skipTo(replay.resumeRecNo);
  const pump = new OrderPump({
    source,
    journal,
    replay,
    matcher,
    units: ['729900'],
    log,
    retryInvalidMs: 30_000,
    now,
    today: () => cstDate(now()),
  });
  return { pump, journal };
}
