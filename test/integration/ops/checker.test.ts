import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LabDescription } from '../../../appliance/src/lab/index.js';
import { readAuditLog, TWO_PERSON_WORDS } from '../../../appliance/src/ops/index.js';
import { makeLab, setIni, simReady, startGateway, startSim } from '../../helpers/lab.js';
import { runNqgw, waitUntil, type NqgwProcess } from '../../helpers/process.js';

/**
 * Two-person duty (双人复核) end to end: its own lab whose tw.ini says
 * `[management] require_checker = yes`, a real `nqgw sim` and `nqgw run` from dist, the API
 * called over HTTP and the `nqgw` binary run as an operator would over SSH.
 */
let lab: LabDescription;
let sim: NqgwProcess;
let gateway: NqgwProcess;
let token: string;

beforeAll(async () => {
  lab = await makeLab();
  setIni(lab.twIni, 'management', 'require_checker', 'yes');
  sim = startSim(lab);
  await simReady(lab);
  gateway = startGateway(lab);
  await gateway.waitFor(/小站端与服务器连接成功/);
  token = readFileSync(lab.management.tokenFile, 'utf8').trim();
  await waitUntil(async () => (await fetch(`${lab.management.url}/healthz`)).ok, 'ops API up');
});
afterAll(async () => {
  await gateway?.stop('SIGKILL');
  await sim?.stop('SIGKILL');
});

async function control(
  action: string,
  who: { operator: string; checker?: string },
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${lab.management.url}/api/control/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(who),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const holds = async (): Promise<unknown> => {
  const res = await fetch(`${lab.management.url}/api/status`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return ((await res.json()) as { holds: unknown }).holds;
};
const auditFile = (): string => path.join(lab.stateDir, 'audit.log');
const nqgw = (...args: string[]) => runNqgw([...args, '--config', lab.twIni]);

describe('[management] require_checker = yes', () => {
  it('refuses a pause without a checker: 403 in both languages, not paused, refusal audited', async () => {
    const res = await control('pause', { operator: 'alice' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ ok: false, error: TWO_PERSON_WORDS, result: 'refused' });
    expect(String(res.body['error'])).toContain('双人复核');
    expect(String(res.body['error'])).toContain('two-person rule');
    await new Promise((r) => setTimeout(r, 300)); // a hold would show at once; make sure none comes
    expect(await holds()).toEqual([]);
    expect(readAuditLog(auditFile()).at(-1)).toMatchObject({
      operator: 'alice',
      action: 'pause',
      result: 'refused',
      source: '127.0.0.1',
      detail: `${TWO_PERSON_WORDS} (no checker named)`,
    });
  });

  it('refuses a checker who is the operator (case and spaces do not make a second person)', async () => {
    const res = await control('pause', { operator: 'alice', checker: '  ALICE ' });
    expect(res.status).toBe(403);
    expect(await holds()).toEqual([]);
    expect(readAuditLog(auditFile()).at(-1)).toMatchObject({
      operator: 'alice',
      checker: 'ALICE',
      result: 'refused',
    });
  });

  it('acts with a distinct checker and audits both names', async () => {
    const res = await control('pause', { operator: 'alice', checker: 'bob' });
    expect(res.status).toBe(200);
    await waitUntil(async () => JSON.stringify(await holds()) === '["operator"]', 'operator hold');
    expect(readAuditLog(auditFile()).at(-1)).toMatchObject({
      operator: 'alice',
      checker: 'bob',
      action: 'pause',
      result: 'ok',
    });
  });

  it('nqgw without --checker prints the refusal and exits 3; with --checker it acts', async () => {
    const refused = await nqgw('resume', '--operator', 'alice');
    expect(refused.code).toBe(3);
    expect(refused.output).toContain(TWO_PERSON_WORDS);
    expect(refused.output).toMatch(/-> .*--checker NAME/);
    expect(await holds()).toEqual(['operator']);

    const same = await nqgw('resume', '--operator', 'alice', '--checker', 'Alice');
    expect(same.code).toBe(3);

    const done = await nqgw('resume', '--operator', 'alice', '--checker', '王五');
    expect(done.code).toBe(0);
    expect(done.output).toMatch(/^resume: ok - 恢复发送 \(audited as alice, checked by 王五 at /);
    await waitUntil(async () => JSON.stringify(await holds()) === '[]', 'hold released');

    const audit = readAuditLog(auditFile());
    expect(audit.slice(-3).map((e) => [e.operator, e.checker, e.action, e.result])).toEqual([
      ['alice', undefined, 'resume', 'refused'],
      ['alice', 'Alice', 'resume', 'refused'],
      ['alice', '王五', 'resume', 'ok'],
    ]);
    expect(readFileSync(auditFile(), 'utf8')).not.toContain(token); // the token never reaches the log
  });
});
