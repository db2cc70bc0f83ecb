import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgentTlsCredentials,
  EkeyHungError,
  EkeyPinError,
  TokenAgent,
  agentScriptPath,
  type EkeySettings,
} from '../../../appliance/src/ekey/index.js';
import { certificate, rsaKey } from './pki.js';
import { softhsmMissing, softhsmStore, stationToken } from './softhsm.js';

/**
 * The token agent (ekey/token-agent.ts): the gateway's PKCS#11 calls outside the handshake, in
 * their own process, so that a token driver that hangs cannot stall the gateway. A stand-in that
 * never answers (a hung driver) is read as "not usable" within the timeout and its process
 * killed; a real SoftHSM2 token is seen coming and going and checked for a connect, with a wrong
 * PIN tried once and then not again until the PIN file changes.
 */
function agentPids(ppid: number, script: string): number[] {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, pp, ...args]) => Number(pp) === ppid && args.join(' ').includes(script))
    .map(([pid]) => Number(pid));
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nqgw-agent-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TokenAgent: a driver that hangs is killed, the gateway is not stalled', () => {
  it('reads a question not answered in time as absent / NQ129, kills that process, and starts afresh', async () => {
    // A stand-in for a hung driver: a question about /hang.so is never answered, any other is.
    // Keyed on the question, not on a count of questions received, so a question that times out
    // before a slow-starting child has even read it cannot shift which question hangs.
    const script = join(dir, 'hang-on-module.mjs');
    writeFileSync(
      script,
      `process.on('message', (req) => {
  const module = req.module ?? req.settings?.module;
  if (module === '/hang.so') return; // hang: never answer
  process.send({ id: req.id, ok: true, present: true });
});
process.on('disconnect', () => process.exit(0));
`,
    );
    const agent = new TokenAgent(script);
    try {
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10); // the event loop keeps running meanwhile
      const t0 = performance.now();
      expect(await agent.probe('/hang.so', { tokenLabel: 'x' }, 300)).toBe(false);
      const waited = performance.now() - t0;
      clearInterval(ticker);
      expect(agent.hung).toBe(true);
      expect(waited).toBeGreaterThanOrEqual(290);
      expect(ticks).toBeGreaterThan(10);
      const settings = { module: '/hang.so', tokenLabel: 'x', pinFile: '/nowhere', engineDir: '/nowhere' };
      await expect(
        agent.credentials(settings, '/nowhere/ca.pem', 'W888888T', Date.now(), 300),
      ).rejects.toBeInstanceOf(EkeyHungError);
      expect(agentPids(process.pid, script)).toEqual([]);
      // A fresh process must start (a node start: seconds on a busy host) and then answer: the
      // deadline here is for "it answers at all", not for speed.
      expect(await agent.probe('/nowhere.so', { tokenLabel: 'x' }, 15_000)).toBe(true);
      expect(agent.hung).toBe(false);
    } finally {
      agent.close();
    }
  });
});

const missing = softhsmMissing();
describe.skipIf(missing !== null)('TokenAgent with a real SoftHSM2 token', () => {
  const PIN = '864200';
  let tokens: string;
  let settings: EkeySettings;
  let caPath: string;
  beforeAll(() => {
    tokens = softhsmStore(join(dir, 'hsm')).tokens; // SOFTHSM2_CONF is inherited by the agent
    const caKey = rsaKey();
    const ca = certificate({ cn: 'agent CA', key: caKey, ca: true });
    caPath = join(dir, 'ca.pem');
    writeFileSync(caPath, ca.pem);
    const key = rsaKey();
    const cert = certificate({ cn: 'W888888T', key, issuer: { cert: ca.cert, key: caKey } });
    settings = stationToken(dir, 'agent', PIN, key, cert.der);
  });

  it('sees the token in its slot, gone, and back', async () => {
    const agent = new TokenAgent();
    try {
      expect(await agent.probe(settings.module, settings)).toBe(true);
      expect(await agent.probe(settings.module, { tokenLabel: 'other' })).toBe(false);
      renameSync(tokens, `${tokens}.away`);
      try {
        expect(await agent.probe(settings.module, settings)).toBe(false);
        expect(agent.hung).toBe(false); // absent, not hung
      } finally {
        renameSync(`${tokens}.away`, tokens);
      }
      expect(await agent.probe(settings.module, settings)).toBe(true);
      expect(agentPids(process.pid, agentScriptPath()).length).toBe(1); // one long-lived agent
    } finally {
      agent.close();
    }
  });

  it('checks the credentials for a connect; a wrong PIN once, then not again until the PIN file changes', async () => {
    const agent = new TokenAgent();
    try {
      const creds = new AgentTlsCredentials(agent, settings, caPath, 'W888888T');
      const ok = await creds.secureContextOptions();
      expect(ok.cert).toContain('BEGIN CERTIFICATE');
      expect(ok.privateKeyEngine).toBe('pkcs11');
      expect(ok.privateKeyIdentifier).toMatch(/^pkcs11:token=agent;.*id=%01;type=private\?pin-source=file:/);
      expect(ok.privateKeyIdentifier).not.toContain(PIN);

      const wrongPin = join(dir, 'wrong.pin');
      writeFileSync(wrongPin, '000000', { mode: 0o600 });
      const wrong = new AgentTlsCredentials(agent, { ...settings, pinFile: wrongPin }, caPath, 'W888888T');
      await expect(wrong.secureContextOptions()).rejects.toBeInstanceOf(EkeyPinError);
      await expect(wrong.secureContextOptions()).rejects.toThrow('用户名或密码错误');
      expect(wrong.asked).toBe(1); // the second refusal came without asking the token
      writeFileSync(wrongPin, PIN, { mode: 0o600 });
      expect((await wrong.secureContextOptions()).privateKeyEngine).toBe('pkcs11');
      expect(wrong.asked).toBe(2);
    } finally {
      agent.close();
    }
  });
});
