import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { OperatorLine } from './oplog.js';
import type { StageView } from './stages.js';

/** 通信状态 as the vendor's screen words it. */
export type LinkWord = '未知' | '正在连接' | '正常' | '中断';

/**
 * Everything on the vendor's status screen, plus what an operator of a cloud appliance needs
 * besides (which server, why sending is held). Written to state_dir/status.json by the running
 * gateway; `nqgw status` and the ops API read it.
 */
export interface GatewayStatus {
  pid: number;
  station: string; // 小站号
  units: string[]; // 交易单元
  server: string | null; // 通信服务器
  returns: number; // 即时回报
  pending: number; // 待发委托
  sent: number; // 已发委托
  accepted: number; // 成功委托
  rejected: number; // 非法委托
  awaitingAnswer: number; // sent, main station's receipt not yet in
  /**
   * 未发送: records of the day's NQWT.DBF not sent (refused, not an order, invalid CLBZ passed
   * over), and the last reason; `nqgw orders --unsent` lists them. Absent from older snapshots.
   */
  unsent?: { count: number; last: string | null };
  linkState: LinkWord; // 通信状态
  marketState: string; // 股市状态
  notice: string; // 特别提示
  lastReturnSeq: number;
  /**
   * Heartbeats heard from the main station since the last logon, and when the last one came (the
   * logon itself until the first: staleness is counted from the logon, not from an older link).
   */
  heartbeatsSinceLogon: number;
  lastHeartbeatAt: string | null;
  holds: string[];
  /** The NTP drift watchdog's view, when tw.ini has a [clock] section. */
  clock: { state: string; offsetMs: number | null } | null;
  /** `[tls] mode`: where the station's key is (a key file, the EKey, the soft certificate). */
  tlsMode: string;
  /** The EKey's slot and failure count (`[tls] mode = ekey`), else null. */
  ekey: { present: boolean | null; failures: number } | null;
  /** The soft-encryption window as of the last soft logon (`[tls] mode = soft`), else null. */
  soft: { window: string; day: number; of: number; remaining: number; alarm: string | null } | null;
  /** The CST trading day this process serves, fixed at start (it stops when the day changes). */
  tradingDay?: string;
  /** `auto_exit` (HH:MM CST) and whether it fires today (false: started after it). */
  autoExit?: { at: string; armed: boolean } | null;
  /** Why the main station is considered stalled (orders unanswered, NQ320), or null: not ready. */
  linkStalled?: string | null;
  /** Where the orders' time went since start, stage by stage (stages.ts; `npm run bench` prints it). */
  stages?: StageView;
  startedAt: string;
  updatedAt: string;
  log: OperatorLine[];
}

export const STATUS_FILE = 'status.json';

export async function writeStatusSnapshot(stateDir: string, status: GatewayStatus): Promise<void> {
  const file = path.join(stateDir, STATUS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, JSON.stringify(status));
  await fsp.rename(tmp, file);
}

export async function readStatusSnapshot(stateDir: string): Promise<GatewayStatus | null> {
  try {
    return JSON.parse(await fsp.readFile(path.join(stateDir, STATUS_FILE), 'utf8')) as GatewayStatus;
  } catch {
    return null;
  }
}
