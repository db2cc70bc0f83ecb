/**
 * The alerts an operator can see, each under a stable code that scripts, the Prometheus rules
 * and the runbook key on. `words` at raise time are the vendor's own sentence where one exists
 * (the log line that caused it); `action` says what to do.
 */
export type Severity = 'critical' | 'warning' | 'info';

export interface AlertKind {
  severity: Severity;
  title: string;
  action: string;
}

export const ALERT_KINDS = {
  LINK_DOWN: {
    severity: 'critical',
    title: '通信中断 (link to the main station is down)',
    action:
      'The gateway reconnects by itself and walks the server list. If it stays down: check the route to the main station, then `nqgw switch N` to another server; orders wait in NQWT.DBF.',
  },
  HEARTBEAT_STALE: {
    severity: 'warning',
    title: '主站心跳超时 (no heartbeat from the main station)',
    action:
      'The link will be rebuilt before the main station gives up (30 s). If it repeats, `nqgw reconnect` or `nqgw switch N`.',
  },
  SEND_BLOCKED: {
    severity: 'warning',
    title: '发送线程阻塞 (send path blocked)',
    action: 'The network is not taking data. Check the link; if it lasts, `nqgw reconnect` or switch server.',
  },
  CLOCK_WARN: {
    severity: 'warning',
    title: '时钟偏差接近上限 (clock drifting toward the 100 ms limit)',
    action: 'Check chrony and the time servers (`nqgw clock check`). Orders still flow.',
  },
  CLOCK_ALARM: {
    severity: 'critical',
    title: '时钟偏差超限 (clock off by more than the limit)',
    action:
      'Fix time sync now (chronyc sources; the cloud NTP service). With policy=hold new orders wait in NQWT.DBF until the clock is back.',
  },
  ORDERS_HELD: {
    severity: 'warning',
    title: '暂停发送 (sending is held)',
    action:
      'Orders wait in NQWT.DBF with CLBZ=0. Operator pause: `nqgw resume` when ready. Clock hold: fix the clock.',
  },
  ORDERS_PENDING_LONG: {
    severity: 'warning',
    title: '待发委托积压 (orders pending too long)',
    action:
      'Orders are waiting and none went out for a while: check 通信状态 and holds; `nqgw alerts` for the cause.',
  },
  NOTICE: {
    severity: 'info',
    title: '特别提示 (notice from the main station)',
    action: 'Read the notice and follow it; it stays shown until the main station sends another.',
  },
  STARTUP_ERROR: {
    severity: 'critical',
    title: '启动失败 (start-up check failed)',
    action: 'Read the words: a return file from another day must be deleted or archived, then restart.',
  },
  LOGON_REFUSED: {
    severity: 'critical',
    title: '登录被拒绝 (logon refused)',
    action:
      'Check the certificate/EKey (re-plug, another USB port, the spare key), the station id and trading units in tw.ini.',
  },
  LINK_ERROR: {
    severity: 'warning',
    title: '通信错误 (link error)',
    action:
      'The gateway rebuilds the link by itself. Repeated handshake failures with CK_RV=0x30: swap to the spare EKey.',
  },
  ORDER_REFUSED: {
    severity: 'warning',
    title: '非法委托 (an order was refused)',
    action:
      'Tell the counter desk: the order named in the words has a wrong unit, date, serial number or security; it is not sent again.',
  },
  ORDER_PATH_FAILURE: {
    severity: 'critical',
    title: '委托/回报处理失败 (journal or return file failure)',
    action:
      'Sending may be stuck: check the disk (df, dmesg) and the state directory; restart the gateway after fixing.',
  },
  TOKEN_MISSING: {
    severity: 'critical',
    title: "Ekey未插入 (the station's EKey is not in its slot)",
    action:
      "Put the EKey back (passthrough: the hypervisor's USB device; USB/IP: `usbip attach`); the gateway reconnects by itself, orders wait in NQWT.DBF. Another USB port, or the spare key, if it does not come back.",
  },
  EKEY_FAULT: {
    severity: 'warning',
    title: 'Ekey故障 (the EKey failed: device error, not found, configuration)',
    action:
      'Read the words (CK_RV): re-plug the EKey, try another USB port; `nqgw ekey status --config tw.ini` shows what the appliance sees.',
  },
  EKEY_SPARE: {
    severity: 'warning',
    title: '建议更换备用Ekey (repeated EKey failures)',
    action:
      'Swap to the spare EKey at the next quiet moment; if none, apply for soft encryption (软加密) at 深证通.',
  },
  SOFT_REFUSED: {
    severity: 'critical',
    title: '软加密不可用 (soft-encryption logon refused by the rules)',
    action:
      'Read the words: apply for today at 深证通 and `nqgw softkey confirm-today`, or the window is used up (10 trading days): the EKey must come back.',
  },
  SOFT_MODE: {
    severity: 'info',
    title: '小站使用软加密 (logged on with the soft-encryption certificate)',
    action:
      'Apply at 深证通 every trading day and confirm it (`nqgw softkey confirm-today`); get the EKey replaced.',
  },
  SOFT_WINDOW_ENDING: {
    severity: 'warning',
    title: '软加密有效期将结束 (soft-encryption window ending)',
    action:
      'The EKey must be back before the window ends: soft encryption is allowed for at most 10 trading days.',
  },
  TRADING_DAY_ENDED: {
    severity: 'critical',
    title: '交易日已结束 (the CST day changed under a running gateway; it stopped sending and exits)',
    action:
      "Nothing is lost: the day's returns are in NQHB.DBF, new-day orders wait in NQWT.DBF with CLBZ=0. Start the gateway for the new day: the daily start does it at 08:30 on trading days, or `systemctl restart nqgw` (move or archive yesterday's NQHB.DBF first, see NQ203).",
  },
  AUTO_EXIT_NOT_ARMED: {
    severity: 'warning',
    title: '今天不自动退出 (started after auto_exit)',
    action:
      "The gateway started after today's auto_exit time and will not exit by it; it stops at the CST day change instead (NQ220). `systemctl stop nqgw` when the day is done.",
  },
  RETURN_UNFIT: {
    severity: 'critical',
    title: '回报字段不符合回报库格式 (a return was written with fields blanked or filled)',
    action:
      "The row is in NQHB.DBF with the unfit field blank (HBRQ: the trading day); the words name HBXH, the field and the main station's value, kept in state_dir/unfit-returns/<day>.jsonl. Tell the counter desk to book that return by hand from the value kept, and report the value to the main station. A restart does not help and is not needed.",
  },
  RETURN_UNPLACEABLE: {
    severity: 'critical',
    title: '回报序号非法, 回报无法写入 (a return with an HBXH that cannot be placed in NQHB.DBF)',
    action:
      "Call the main station's technical support now: the return named in the words has an HBXH that is not a whole number from 1 up, so neither it nor any return after it can be written. The link is dropped and retried on its backoff (one logon every few seconds); once the main station has corrected the return the gateway writes on by itself. A restart does not help.",
  },
  RETURN_FILE_FAILED: {
    severity: 'critical',
    title: '写回报库失败 (NQHB.DBF cannot be written; returns are held, not acknowledged)',
    action:
      'Free space or fix permissions on the disk of NQHB.DBF (df, dmesg). The gateway reopens the file by itself (1 s doubling to 30 s) and writes the held returns; the main station keeps every unacknowledged return. No restart needed; the alert clears when writing works again (NQ722).',
  },
  ORDERS_UNANSWERED: {
    severity: 'critical',
    title: '委托未获主站应答 (orders sent, no answer from the main station in time; link moved on)',
    action:
      'The words name how many and the oldest record (委托第 x 笔). The gateway left that server and resends the orders as possible duplicates after the next logon (the main station drops the ones it had). If it repeats on every server, ask the main station (深证通) about its order intake; `nqgw switch N` to a server that answers.',
  },
  ORDER_UNSENT: {
    severity: 'warning',
    title: '委托未发送 (a record of NQWT.DBF is not a valid order; CLBZ set to 2, not sent)',
    action:
      "The words name the record (委托第 x 笔) and why (NQ503 a field, NQ505 the deletion flag, NQ522 blank). `nqgw orders --unsent --config tw.ini` lists the day's unsent records. Tell the counter desk: correct the record in place and set CLBZ back to 0 (the gateway then sends it), or enter the order again.",
  },
  ORDER_FILE_DAMAGED: {
    severity: 'critical',
    title: '委托库记录位置错乱 (NQWT.DBF geometry in doubt: nothing read, sent or written)',
    action:
      'A torn record, records written after it at the end of the file, or a header count that disagrees while a record cannot be read (NQ520). The gateway reads and writes nothing in NQWT.DBF until it is sound. Broker: find the torn record, repair or rebuild the file with the counter program, re-enter orders not sent; the gateway resumes by itself.',
  },
} as const satisfies Record<string, AlertKind>;

export type AlertCode = keyof typeof ALERT_KINDS;

/** Log-line codes that raise an alert for a while (event alerts), and which one. */
export const LINE_ALERTS: Record<string, AlertCode> = {
  NQ308: 'SEND_BLOCKED',
  NQ201: 'STARTUP_ERROR',
  NQ202: 'STARTUP_ERROR',
  NQ203: 'STARTUP_ERROR',
  NQ101: 'LOGON_REFUSED',
  NQ102: 'LOGON_REFUSED',
  NQ103: 'LOGON_REFUSED',
  NQ309: 'LINK_ERROR',
  NQ391: 'LINK_ERROR',
  NQ392: 'LINK_ERROR',
  NQ393: 'LINK_ERROR',
  NQ397: 'LINK_ERROR',
  NQ304: 'LINK_ERROR',
  NQ401: 'ORDER_REFUSED',
  NQ402: 'ORDER_REFUSED',
  NQ403: 'ORDER_REFUSED',
  NQ404: 'ORDER_REFUSED',
  NQ411: 'ORDER_REFUSED',
  NQ412: 'ORDER_REFUSED',
  NQ413: 'ORDER_REFUSED',
  NQ414: 'ORDER_REFUSED',
  NQ415: 'ORDER_REFUSED',
  NQ206: 'RETURN_FILE_FAILED',
  NQ121: 'EKEY_FAULT',
  NQ122: 'EKEY_FAULT',
  NQ123: 'EKEY_FAULT',
  NQ129: 'EKEY_FAULT',
  NQ126: 'EKEY_SPARE',
  NQ151: 'SOFT_REFUSED',
  NQ163: 'SOFT_REFUSED',
  NQ164: 'SOFT_REFUSED',
  NQ165: 'SOFT_REFUSED',
  NQ167: 'SOFT_REFUSED',
  NQ168: 'SOFT_REFUSED',
  NQ169: 'SOFT_WINDOW_ENDING',
  NQ701: 'ORDER_PATH_FAILURE',
  NQ702: 'ORDER_PATH_FAILURE',
  // The journal's write failures by kind (gateway/journal-errors.ts): sync, full, short write, not open.
  NQ780: 'ORDER_PATH_FAILURE',
  NQ781: 'ORDER_PATH_FAILURE',
  NQ782: 'ORDER_PATH_FAILURE',
  NQ783: 'ORDER_PATH_FAILURE',
  NQ421: 'ORDER_UNSENT',
  NQ520: 'ORDER_FILE_DAMAGED',
  NQ220: 'TRADING_DAY_ENDED',
  NQ222: 'TRADING_DAY_ENDED',
  NQ223: 'TRADING_DAY_ENDED',
  NQ224: 'AUTO_EXIT_NOT_ARMED',
  NQ540: 'RETURN_UNFIT',
  NQ542: 'RETURN_UNPLACEABLE',
  NQ720: 'RETURN_FILE_FAILED',
  NQ721: 'RETURN_FILE_FAILED',
  NQ723: 'RETURN_FILE_FAILED',
  NQ320: 'ORDERS_UNANSWERED',
  NQ321: 'LINK_ERROR',
};

/** Log-line codes that end an event alert at once (the condition they announce is over). */
export const LINE_CLEARS: Record<string, AlertCode> = {
  NQ722: 'RETURN_FILE_FAILED',
};

export const SEVERITY_WORDS: Record<Severity, string> = { critical: '严重', warning: '警告', info: '提示' };
