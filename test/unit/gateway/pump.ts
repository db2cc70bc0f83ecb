import { AnswerMatcher, FileJournal } from '../../../appliance/src/gateway/journal.js';
import { OrderPump, type OrderSource } from '../../../appliance/src/gateway/orders.js';
import type { OperatorLog } from '../../../appliance/src/gateway/oplog.js';
import { cstDate } from '../../../appliance/src/shared/index.js';

/**
 * An OrderPump as the gateway builds one (unit 729900, a refused record looked at again after
 * 30 s) over `source`, once the day journal in `journalFile` is opened and `source` moved to
 * where the journal resumes. Its clock is `now`, its trading day the CST date of `now`.
 */
export async function openPump(
  journalFile: string,
  source: OrderSource,
  log: OperatorLog,
  now: () => number,
): Promise<{ pump: OrderPump; journal: FileJournal }> {
  const journal = new FileJournal(journalFile);
  const matcher = new AnswerMatcher();
  const replay = await journal.open(matcher);
  source.skipTo(replay.resumeRecNo);
  const pump = new OrderPump(source, journal, replay, matcher, ['729900'], log, 30_000, now, () =>
    cstDate(now()),
  );
  return { pump, journal };
}
