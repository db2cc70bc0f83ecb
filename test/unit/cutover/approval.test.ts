import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../appliance/src/config/index.js';
import {
  checkApproval,
  formatDuration,
  parseFaultAt,
  scratchExtras,
  writeAudit,
} from '../../../appliance/src/cutover/index.js';
import { readAuditLog } from '../../../appliance/src/ops/index.js';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'nqgw-approval-unit-'));

describe('approval (issue 13: approver, two people, the record)', () => {
  it('require_checker = yes: refused without an operator, without an approver, or with the operator as approver', () => {
    expect(() => checkApproval(true, undefined, 'bob')).toThrow(/no operator named/);
    expect(() => checkApproval(true, 'alice', undefined)).toThrow(/no approver named/);
    expect(() => checkApproval(true, 'alice', '  ')).toThrow(expect.objectContaining({ code: 'NQ620' }));
    // Compared as the ops API compares a checker: case, spaces and an @address do not make another person.
    expect(() => checkApproval(true, 'alice@10.0.0.5', ' Alice ')).toThrow(
      expect.objectContaining({ code: 'NQ621' }),
    );
    expect(checkApproval(true, 'alice', '王经理')).toEqual({ operator: 'alice', approver: '王经理' });
  });

  it('not required: "no approver" allowed, the operator defaults to the login name, self-approval still refused', () => {
    const env = { USER: 'duty1', SSH_CONNECTION: '10.1.2.3 50000 10.0.0.9 22' };
    expect(checkApproval(false, undefined, undefined, env)).toEqual({
      operator: 'duty1@10.1.2.3',
      approver: null,
    });
    expect(() => checkApproval(false, 'bob', 'BOB')).toThrow(/is the operator/);
  });

  it('the audit entry is appended (never rewritten) with people and timings', () => {
    const dir = tmp();
    const file = path.join(dir, 'state', 'audit.log');
    writeAudit(path.join(dir, 'state'), {
      time: '2026-12-05T02:00:00.000Z',
      operator: 'a',
      approval: 'no approver',
      source: 'cli local',
      action: 'cutover-drill',
      result: 'ok',
    });
    const before = readFileSync(file, 'utf8');
    writeAudit(path.join(dir, 'state'), {
      time: '2026-12-05T02:01:00.000Z',
      operator: 'a',
      approver: 'b',
      approval: 'approved',
      source: 'cli local',
      action: 'cutover',
      result: 'ok',
      timings: { totalMs: 13_200, rtoMs: 154_000 },
    });
    expect(readFileSync(file, 'utf8').startsWith(before)).toBe(true);
    const entries = readAuditLog(file);
    expect(entries.map((e) => [e.action, e.approval, e.approver ?? null])).toEqual([
      ['cutover-drill', 'no approver', null],
      ['cutover', 'approved', 'b'],
    ]);
    expect(entries[1]!.timings).toEqual({ totalMs: 13_200, rtoMs: 154_000 });
  });
});

describe('--fault-at (RTO from the fault, seed 002 §5.6)', () => {
  const now = Date.parse('2026-12-02T06:30:00Z'); // 14:30 CST
  it('HH:MM[:SS] is CST today; ISO with or without a zone (without: CST)', () => {
    expect(new Date(parseFaultAt('14:03', now)).toISOString()).toBe('2026-12-02T06:03:00.000Z');
    expect(new Date(parseFaultAt('9:05:30', now)).toISOString()).toBe('2026-12-02T01:05:30.000Z');
    expect(parseFaultAt('2026-12-02T14:03:00+08:00', now)).toBe(Date.parse('2026-12-02T06:03:00Z'));
    expect(parseFaultAt('2026-12-02T06:03:00Z', now)).toBe(Date.parse('2026-12-02T06:03:00Z'));
    expect(parseFaultAt('2026-12-02 14:03', now)).toBe(Date.parse('2026-12-02T06:03:00Z'));
  });

  it('refuses the future, a week back, and what is not a time', () => {
    expect(() => parseFaultAt('2026-12-02T15:00:00+08:00', now)).toThrow(
      expect.objectContaining({ code: 'NQ631' }),
    );
    // HH:MM is the most recent such time: after midnight, 23:58 was yesterday.
    expect(new Date(parseFaultAt('15:00', now)).toISOString()).toBe('2026-12-01T07:00:00.000Z');
    expect(() => parseFaultAt('2026-11-01T10:00:00+08:00', now)).toThrow(/more than 7 days/);
    expect(() => parseFaultAt('yesterday', now)).toThrow(expect.objectContaining({ code: 'NQ630' }));
    expect(() => parseFaultAt('25:00', now)).toThrow(expect.objectContaining({ code: 'NQ630' }));
  });

  it('durations in an operator\u2019s words', () => {
    expect(formatDuration(13_450)).toBe('13.45 s');
    expect(formatDuration(5 * 60_000 + 13_400)).toBe('5 min 13.4 s');
    expect(formatDuration(3_600_000 + 61_000)).toBe('1 h 1 min 1.0 s');
  });
});

describe('drill scratch tw.ini: relative paths and nothing real written', () => {
  it('[logs] local to the scratch site and off the object store; [soft] and [ekey] paths absolute against the real tw.ini', () => {
    const dir = tmp();
    for (const f of ['ca.pem', 'station.crt', 'station.key']) writeFileSync(path.join(dir, f), 'x');
    const real = parseConfigText(
      `[station]
id = W888888T
units = 729900
[files]
orders = NQWT.DBF
returns = NQHB.DBF
state_dir = state
[servers]
server1 = 127.0.0.1:7043
[tls]
mode = file
ca = ca.pem
cert = station.crt
key = station.key
[logs]
dir = /var/lib/nqgw/logs
endpoint = http://127.0.0.1:9000
bucket = nqgw-logs
prefix = prod/W888888T
access_key_id_file = keys/id
secret_access_key_file = keys/secret
segment_max_s = 60
[soft]
ledger = state/soft-ledger.jsonl
calendar_dir = calendar
pkcs12 = soft.p12
warn_trading_days = 3
[ekey]
module = lib/pkcs11.so
token_label = NQ
key_label = k
pin_file = pin.txt
`,
      path.join(dir, 'tw.ini'),
    );
    const scratch = '/tmp/nqgw-drill-x/state';
    const extras = scratchExtras(real, { stateDir: scratch });
    expect(extras['logs']).toEqual({ segment_max_s: '60', dir: `${scratch}/logs`, archive_after: '' });
    expect(extras['soft']).toEqual({
      pkcs12: path.join(dir, 'soft.p12'),
      warn_trading_days: '3',
      ledger: `${scratch}/soft-ledger.jsonl`, // a copy: the drill gateway may close the window
      calendar_dir: path.join(dir, 'calendar'), // read only: the real operator calendar
    });
    expect(extras['ekey']).toMatchObject({
      module: path.join(dir, 'lib/pkcs11.so'),
      pin_file: path.join(dir, 'pin.txt'),
      token_label: 'NQ',
    });
  });
});
