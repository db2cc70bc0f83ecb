import { AppError } from '../shared/index.js';

/** A bad value in tw.ini's [logs] section; `key` names the key at fault. */
export class LogSettingsError extends AppError {
  constructor(
    readonly key: string,
    message: string,
    hint = 'fix the [logs] section of tw.ini (see docs/logs.md)',
  ) {
    super('NQ801', `[logs] ${key}: ${message}`, hint);
  }
}

/** A spool segment whose bytes no longer match the checksum sealed with it. */
export class SpoolCorruptError extends AppError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(
      'NQ802',
      `日志缓存段校验失败: ${file} (${detail})`,
      'the segment is kept aside in spool/corrupt; rebuild it from the local log',
    );
  }
}

/** The store holds a different object under a key we were about to write. */
export class KeyConflictError extends AppError {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(
      'NQ803',
      `对象存储中已有不同内容的同名对象: ${key} (${detail})`,
      'check that two hosts do not share a host name and prefix',
    );
  }
}

/**
 * One request to the object store did not finish within request_timeout_s (connection, headers
 * and body together). The request is aborted; the shipper retries the same segment later.
 */
export class StoreTimeoutError extends AppError {
  constructor(
    readonly operation: string,
    readonly key: string,
    readonly timeoutMs: number,
  ) {
    super(
      'NQ820',
      `对象存储请求超时: ${operation} ${key} 在 ${timeoutMs} ms 内未完成, 已中止`,
      'check the store and the network path to it; the segment stays in the spool and is retried',
    );
  }
}

/** A request cut short because the log service is stopping (flush_timeout_s has passed). */
export class StoreAbortedError extends AppError {
  constructor(
    readonly operation: string,
    readonly key: string,
  ) {
    super(
      'NQ821',
      `对象存储请求已中止 (日志服务停止): ${operation} ${key}`,
      'what was not shipped stays in the spool and is shipped at the next start',
    );
  }
}

/** What an S3 answer means for the operator, by the store's error code or else the HTTP status. */
function storeAdvice(status: number | null, storeCode: string | null): string {
  switch (storeCode) {
    case 'SignatureDoesNotMatch':
    case 'InvalidAccessKeyId':
    case 'AccessDenied':
      return '凭证或权限不对: 检查 [logs] access_key_id_file / secret_access_key_file 与存储桶权限';
    case 'RequestTimeTooSkewed':
      return '本机时钟与对象存储相差过大: 检查时钟同步';
    case 'BadDigest':
    case 'InvalidDigest':
      return '数据在传输中损坏 (Content-MD5 不符), 将重发';
    case 'NoSuchBucket':
      return '存储桶不存在: 检查 [logs] bucket';
    default:
  }
  if (status === 403) return '拒绝访问: 检查 [logs] 凭证文件与存储桶权限';
  if (status === 404) return '存储桶或路径不存在: 检查 [logs] endpoint 与 bucket';
  if (status !== null && status >= 500) return '对象存储暂时不可用, 将重试';
  return '将重试; 若持续, 检查对象存储的日志';
}

/**
 * The store answered with an error. The SDK's own text is often empty for a real store (a HEAD
 * answer has no body, so a 403 arrives as "Unknown: UnknownError"; radosgw's error XML has no
 * Message), so this says the status, the store's code when there is one, and what it means.
 */
export class StoreRequestError extends AppError {
  constructor(
    readonly operation: string,
    readonly key: string,
    readonly status: number | null,
    readonly storeCode: string | null,
    cause: unknown,
  ) {
    const advice = storeAdvice(status, storeCode);
    super(
      'NQ824',
      `对象存储拒绝请求: ${operation} ${key}: HTTP ${status ?? '?'}${storeCode ? ` ${storeCode}` : ''} (${advice})`,
      advice,
      { cause },
    );
  }
}
