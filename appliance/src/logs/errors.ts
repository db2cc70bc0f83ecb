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
