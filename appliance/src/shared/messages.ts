/**
 * The operator-facing messages of the vendor's gateway, word for word (SPEC.md, seed 000), each
 * under a stable code. Operators know these sentences; alert rules, runbooks and scripts key on
 * the code. Change a code never; add new ones at the end of their group.
 *
 * Placeholders: {n} order number (the record's position in NQWT.DBF, 1-based), {unit}, {date},
 * {ms}, {s} seconds, {server}, {station}, {text}.
 */
export const MESSAGES = {
  // Certificates and logon
  NQ101_EKEY_CERT: '您的Ekey证书有误，请检查是否选择了正确的Ekey证书',
  NQ102_BAD_PASSWORD: '用户名或密码错误',
  NQ103_UNIT_NOT_OF_STATION: '交易单元{unit}不属于本小站，请检查配置文件',
  NQ104_SOFT_ENCRYPTION: '小站使用软加密',
  // Start-up
  NQ201_DATA_INIT_FAILED: '数据初始化失败! 系统无法正常运行! 请修正问题后重启程序',
  NQ202_OPEN_RETURNS_FAILED: '错误: 打开回报数据库失败!',
  NQ203_RETURNS_NOT_TODAY: '回报库中的记录不是今天的记录, 请删除库后重启系统!',
  NQ204_ORDERS_PATH: '委托库路径: {text}',
  NQ205_RETURNS_PATH: '回报库路径: {text}',
  NQ206_WRITE_RETURNS_FAILED: '错误: 写回报库失败: {text}',
  NQ207_WELCOME: '欢迎使用股转系统交易网关 ({text})',
  // Trading day (issue 11; the gateway's own words, not the vendor's): one process, one CST day
  NQ220_TRADING_DAY_ENDED:
    '交易日已由 {date} 变为 {text}: 本网关只处理 {date} 的委托, 已停止发送; 已收到的回报写入回报库后网关退出. 新交易日的委托留在委托库中等待 - 请为新交易日重新启动网关 (交易日 08:30 每日启动会自动启动, 或执行 systemctl restart nqgw)',
  NQ221_ORDER_NEXT_DAY_WAITS:
    "委托第 {n} 笔日期 '{date}' 不是本网关交易日 {text}: 留在委托库中等待, 由新交易日的网关发送",
  NQ222_MAIN_STATION_OTHER_DAY: '主站交易日 {date} 与本网关交易日 {text} 不同',
  NQ223_RETURN_NEXT_DAY:
    '收到日期为 {date} 的回报 (本网关交易日 {text}): 不写入本日回报库, 新交易日的网关登录后主站会重发',
  NQ224_AUTO_EXIT_NOT_ARMED:
    '启动时已过自动退出时间 {text}: 今天不会自动退出; 网关在交易日结束 (北京时间 24:00) 时停止',
  NQ225_AUTO_EXIT_ARMED: '将于 {text} 自动退出',
  NQ226_DAY_ENDED_EXIT: '交易日 {date} 的网关现在退出 (退出码 4, systemd 不会自动重启它)',
  // The vendor's first log line, the gateway's name and version (seed 000: "深圳证券通信网股转系统交易网关 (20200630)")
  NQ253_GATEWAY_NAME: '深圳证券通信网股转系统交易网关 ({text})',
  // Link
  NQ301_CONNECTING: '正在以小站号: {station} 连接通信服务器 {server}, 等待服务器响应',
  NQ302_CONNECTED: '小站端与服务器连接成功, 等待主站应答.',
  NQ303_TIMEOUT_RECONNECT: '连接超时，系统将自动与服务器重新建立连接',
  NQ304_QUIT_RECEIVED: '收到quit包, 连接中断',
  NQ305_DISCONNECTED: '连接断开',
  NQ306_LINK_ERROR_RECONNECT: '通信状态出错, 系统将自动与服务器重新建立连接, 请稍候...',
  NQ307_NOTICE: '主站特别提示: {text}',
  NQ308_SEND_BLOCKED: '警告：发送线程已阻塞 {ms} 毫秒',
  NQ309_HANDSHAKE_FAILED: '与服务器握手失败',
  NQ310_SERVER_CERT: '服务器证书: {text}',
  // After the server certificate, before 小站端与服务器连接成功 (seed 000's screen, in that order)
  NQ254_WAITING_MAIN: '小站端等待主站应答',
  // Orders (checked by the gateway)
  NQ401_ORDER_UNIT: "委托第 {n} 笔交易单元 '{unit}' 错!",
  NQ402_ORDER_DATE: "错误：委托第 {n} 笔日期 '{date}' 错!",
  NQ403_ORDER_FLAG_INVALID: '委托第 {n} 笔处理标志非法, {s}秒后重新处理',
  NQ404_ORDER_FLAG_SKIPPED: '委托第 {n} 笔处理标志非法, 已跳过',
  // A record that is not an order (issue 11): never sent, CLBZ set to '2', listed by `nqgw orders --unsent`
  NQ421_ORDER_UNSENT:
    '委托第 {n} 笔不是有效委托, 未发送, 处理标志已置为2 (券商更正后置回0即重新处理): {text}',
  NQ422_ORDER_CORRECTED: '委托第 {n} 笔已更正, 重新处理',
  // Orders (rejected by the main station)
  NQ411_MAIN_SERIAL: '主站错单通知：委托第{n}笔流水号非法!',
  NQ412_MAIN_SECURITY: '主站错单通知：委托第{n}笔证券代码非法/已停牌!',
  NQ413_MAIN_BUSINESS: '主站错单通知：委托第{n}笔为非法业务!',
  NQ414_MAIN_DATE: '主站错单通知：委托第{n}笔日期非法!',
  NQ415_MAIN_UNIT: '主站错单通知：委托第{n}笔交易单元非法!',
} as const;

export type MessageCode = keyof typeof MESSAGES;

/** The stable short code ("NQ203") of a catalogue key. */
export function shortCode(code: MessageCode): string {
  return code.slice(0, 5);
}

export function formatMessage(code: MessageCode, vars: Record<string, string | number> = {}): string {
  return MESSAGES[code].replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in vars ? String(vars[name]) : whole,
  );
}
