import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AuditLog,
  EventRing,
  ensureTokenFile,
  TokenFileError,
  operatorName,
  readAuditLog,
  readTokenFile,
  tokenMatches,
} from '../../../appliance/src/ops/index.js';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'nqgw-ops-'));

describe('readTokenFile', () => {
  it('reads a 0600 token and refuses one that group or others can read', () => {
    const file = path.join(tmp(), 'api.token');
    writeFileSync(file, 'abcdef0123456789abcdef\n', { mode: 0o600 });
    expect(readTokenFile(file)).toBe('abcdef0123456789abcdef');
    chmodSync(file, 0o644);
    expect(() => readTokenFile(file)).toThrow(TokenFileError);
    expect(() => readTokenFile(file)).toThrow(/mode 0644\); refusing to start the API/);
    chmodSync(file, 0o400);
    expect(readTokenFile(file)).toBe('abcdef0123456789abcdef');
  });

  it('refuses a missing or short token', () => {
    const dir = tmp();
    expect(() => readTokenFile(path.join(dir, 'none'))).toThrow(/ENOENT/);
    writeFileSync(path.join(dir, 'short'), 'x\n', { mode: 0o600 });
    expect(() => readTokenFile(path.join(dir, 'short'))).toThrow(/at least 16/);
  });

  it('creates a missing token file 0600 once and never overwrites it', () => {
    const file = path.join(tmp(), 'api.token');
    const first = ensureTokenFile(file);
    expect(first.created).toBe(true);
    expect(first.token).toMatch(/^[0-9a-f]{48}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(ensureTokenFile(file)).toEqual({ token: first.token, created: false });
    chmodSync(file, 0o604);
    expect(() => ensureTokenFile(file)).toThrow(/readable by group or others/);
    expect(() => ensureTokenFile(path.join(tmp(), 'no', 'dir', 'api.token'))).toThrow(
      /cannot be created: ENOENT/,
    );
  });

  it('compares tokens exactly', () => {
    expect(tokenMatches('secret-token-123', 'secret-token-123')).toBe(true);
    expect(tokenMatches('secret-token-123', 'secret-token-12')).toBe(false);
    expect(tokenMatches('secret-token-123', undefined)).toBe(false);
  });
});

describe('AuditLog', () => {
  it('appends JSON lines to a 0600 file and never truncates what was there', () => {
    const dir = tmp();
    const first = AuditLog.inStateDir(dir);
    first.append({ time: 't1', operator: 'alice', source: '127.0.0.1', action: 'pause', result: 'ok' });
    first.close();
    const second = AuditLog.inStateDir(dir);
    second.append({
      time: 't2',
      operator: 'bob',
      source: '127.0.0.1',
      action: 'switch',
      args: { server: 9 },
      result: 'refused',
    });
    second.close();
    const file = path.join(dir, 'audit.log');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(3);
    expect(readAuditLog(file).map((e) => [e.operator, e.action, e.result])).toEqual([
      ['alice', 'pause', 'ok'],
      ['bob', 'switch', 'refused'],
    ]);
    expect(() =>
      second.append({ time: 't3', operator: 'x', source: 'y', action: 'z', result: 'ok' }),
    ).toThrow(/closed/);
  });
});

describe('EventRing', () => {
  it('numbers lines and pages them with since/limit, dropping the oldest past its size', () => {
    const ring = new EventRing(5);
    for (let i = 1; i <= 7; i++) ring.push({ time: i, level: 'info', text: `line ${i}` });
    expect(ring.page(undefined, 2).lines.map((l) => l.id)).toEqual([6, 7]);
    const p = ring.page(0, 2);
    expect(p).toMatchObject({ next: 4, oldest: 3 });
    expect(p.lines.map((l) => l.text)).toEqual(['line 3', 'line 4']);
    expect(ring.page(7, 10)).toMatchObject({ lines: [], next: 7 });
  });
});

describe('operatorName', () => {
  it('prefers --operator, then the sudo caller, then the login, with the SSH source address', () => {
    expect(operatorName('carol', { USER: 'root' })).toBe('carol');
    expect(
      operatorName(undefined, {
        SUDO_USER: 'alice',
        USER: 'root',
        SSH_CONNECTION: '10.0.0.5 51234 10.0.1.9 22',
      }),
    ).toBe('alice@10.0.0.5');
    expect(operatorName(undefined, { LOGNAME: 'bob', USER: 'bob' })).toBe('bob');
  });
});
