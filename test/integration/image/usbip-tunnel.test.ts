import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../helpers/process.js';
import { freePort } from '../../helpers/ports.js';
import {
  CERTS_SH,
  Echo,
  exchangeAt,
  OPENSSL,
  renderClientConfig,
  Stunnel,
  STUNNEL,
  USBIP_SH,
  WireRecorder,
} from './usbip-tunnel-parts.js';
import { IMAGE, output, REPO, run, tool, unitRoot } from './tools.js';

/**
 * USB/IP only through the mutual-TLS tunnel (docs/ekey.md): on loopback, with the real stunnel,
 * the replica's client config as nqgw-render-host renders it, and the USB host's server config,
 * CA and certificates as scripts/usbip-host/nqgw-usbip-certs.sh makes them. A TCP echo stands in
 * for usbipd. The tunnel's local end is 127.0.0.1:3240 on a replica; here a reserved free port.
 */
const HAS_TOOLS = STUNNEL !== null && OPENSSL !== null;
const WHY = HAS_TOOLS
  ? ''
  : ' (skipped: stunnel4/openssl missing: sudo bash scripts/ci-deps/usbip-tunnel.sh)';
// What must never cross the network in clear: stands for the PIN inside the token's USB traffic.
const MARKER = Buffer.from('NQGW-PIN-271828-MARKER:'.repeat(40));

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe.skipIf(!HAS_TOOLS)(`USB/IP through the stunnel tunnel (mutual TLS)${WHY}`, () => {
  let dir = '';
  const echo = new Echo();
  let echoPort = 0;
  const running: Stunnel[] = [];
  const recorders: WireRecorder[] = [];
  const start = async (conf: string): Promise<Stunnel> => {
    const s = await Stunnel.start(conf);
    running.push(s);
    return s;
  };
  /** A USB host made by the real script: its CA, server certificate and stunnel config. */
  const host = async (name: string): Promise<{ dir: string; port: number; conf: string }> => {
    const port = await freePort();
    const d = join(dir, name);
    sh('bash', [CERTS_SH, 'init', d, '127.0.0.1', String(port), String(echoPort)]);
    return { dir: d, port, conf: join(d, 'stunnel-usbip.conf') };
  };
  /** A replica's tunnel credentials: key and request made on it, signed by `signer`'s CA. */
  const replica = (name: string, signer: string, trusted: string): string => {
    const d = join(dir, `creds-${name}`);
    const csr = sh('bash', [USBIP_SH, 'tunnel-csr', name], { USBIP_TUNNEL_DIR: d });
    writeFileSync(join(dir, `${name}.csr`), csr);
    sh('bash', [CERTS_SH, 'sign', signer, name, join(dir, `${name}.csr`)]);
    copyFileSync(join(signer, 'clients', `${name}.crt`), join(d, 'client.crt'));
    copyFileSync(join(trusted, 'ca.crt'), join(d, 'ca.crt'));
    return d;
  };
  /** The tunnel's local end of the running client (3240 on a replica; see client()). */
  let localEnd = 0;
  const client = async (creds: string, port: number): Promise<Stunnel> => {
    const conf = join(creds, 'stunnel.conf');
    const text = await renderClientConfig({ server: '127.0.0.1', busid: '1-1', tunnel_port: port }, creds);
    // The rendered config as the replica gets it, but its local end moved off the fixed 3240 so
    // that two runs of the suite (or a usbipd on this host) never meet on one port.
    localEnd = await freePort();
    const local = text.replace(/^accept = 127\.0\.0\.1:3240$/m, `accept = 127.0.0.1:${localEnd}`);
    expect(local).not.toBe(text);
    writeFileSync(conf, local, { mode: 0o600 });
    return start(conf);
  };
  const exchange = (payload: Buffer, want: number): Promise<Buffer> => exchangeAt(localEnd, payload, want);

  let usbHost: { dir: string; port: number; conf: string };
  let otherCa: { dir: string; port: number; conf: string };
  let gwA = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nqgw-usbip-tunnel-'));
    echoPort = await echo.listen();
    usbHost = await host('usb-host');
    otherCa = await host('other-ca');
    gwA = replica('gw-a', usbHost.dir, usbHost.dir);
  });
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
    for (const r of recorders.splice(0)) await r.close();
    echo.reset();
  });
  afterAll(async () => {
    await echo.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the keys 0600 in 0700 directories at both ends, and never makes a second CA', () => {
    const mode = (f: string): string => (statSync(f).mode & 0o777).toString(8);
    expect([mode(join(gwA, 'client.key')), mode(gwA)]).toEqual(['600', '700']);
    expect([
      mode(join(usbHost.dir, 'ca.key')),
      mode(join(usbHost.dir, 'server.key')),
      mode(usbHost.dir),
    ]).toEqual(['600', '600', '700']);
    const again = spawnSync('bash', [CERTS_SH, 'init', usbHost.dir, '127.0.0.1'], { encoding: 'utf8' });
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('ca.key exists: not making a second CA over it');
  });

  it('carries the bytes with the replica certificate, and only TLS crosses the wire', async () => {
    const server = await start(usbHost.conf);
    const wire = new WireRecorder(usbHost.port);
    recorders.push(wire);
    const tunnel = await client(gwA, await wire.listen());

    const back = await exchange(MARKER, MARKER.length);
    expect(back.equals(MARKER)).toBe(true);
    expect(echo.received.equals(MARKER)).toBe(true);
    expect(echo.connections).toBe(1);
    // The recorded network: a TLS handshake record first, and the marker nowhere, either way.
    expect(wire.up.length).toBeGreaterThan(MARKER.length);
    expect([wire.up[0], wire.up[1]]).toEqual([0x16, 0x03]);
    for (const bytes of [wire.up, wire.down]) {
      expect(bytes.includes(Buffer.from('NQGW-PIN'))).toBe(false);
      expect(bytes.includes(Buffer.from('271828'))).toBe(false);
    }
    expect(server.log).toMatch(/Certificate accepted at depth=0: CN=gw-a/);
    expect(server.log).toMatch(/TLSv1\.3 ciphersuite: TLS_/);
    expect(tunnel.log).toMatch(/Certificate accepted at depth=0: CN=127\.0\.0\.1/);
  });

  it('the USB host refuses a client without a certificate: nothing reaches usbipd', async () => {
    const server = await start(usbHost.conf);
    const r = spawnSync(
      OPENSSL as string,
      ['s_client', '-connect', `127.0.0.1:${usbHost.port}`, '-CAfile', join(usbHost.dir, 'ca.crt'), '-quiet'],
      { input: MARKER, encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.error).toBeUndefined();
    await waitUntil(() => /peer did not return a certificate/.test(server.log), 'the refusal logged', 10_000);
    expect(echo.connections).toBe(0);
    expect(echo.received.length).toBe(0);
  });

  it('the USB host refuses a client certificate from another CA', async () => {
    const rogue = replica('gw-rogue', otherCa.dir, usbHost.dir);
    const server = await start(usbHost.conf);
    await client(rogue, usbHost.port);
    const back = await exchange(MARKER, MARKER.length);
    expect(back.length).toBe(0);
    await waitUntil(
      () => /Rejected by CERT at depth=0: CN=gw-rogue/.test(server.log),
      'the refusal logged',
      10_000,
    );
    expect(server.log).toMatch(/unable to get local issuer certificate/);
    expect(echo.connections).toBe(0);
    expect(echo.received.length).toBe(0);
  });

  it('the replica refuses a USB host whose certificate is from another CA', async () => {
    await start(otherCa.conf);
    const tunnel = await client(gwA, otherCa.port);
    const back = await exchange(MARKER, MARKER.length);
    expect(back.length).toBe(0);
    await waitUntil(
      () => /SSL_connect: .*certificate verify failed/.test(tunnel.log),
      'the refusal logged',
      10_000,
    );
    expect(tunnel.log).toMatch(/Rejected by CERT at depth=\d/);
    expect(tunnel.log).not.toMatch(/Certificate accepted at depth=0/);
    expect(echo.connections).toBe(0);
    expect(echo.received.length).toBe(0);
  });

  it("the replica refuses the right CA's certificate for another address (checkIP)", async () => {
    // A server certificate the USB host's CA signed, for 127.0.0.9: as if another machine that
    // holds one of its certificates answered in the USB host's place.
    const impostor = await host('impostor');
    const key = join(impostor.dir, 'server.key');
    const csr = join(dir, 'impostor.csr');
    const ext = join(dir, 'impostor.ext');
    writeFileSync(ext, 'subjectAltName=IP:127.0.0.9\nextendedKeyUsage=serverAuth\n');
    sh(OPENSSL as string, ['req', '-new', '-key', key, '-subj', '/CN=127.0.0.9', '-out', csr]);
    sh(OPENSSL as string, [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      join(usbHost.dir, 'ca.crt'),
      '-CAkey',
      join(usbHost.dir, 'ca.key'),
      '-set_serial',
      '99',
      '-days',
      '1',
      '-extfile',
      ext,
      '-out',
      join(impostor.dir, 'server.crt'),
    ]);
    await start(impostor.conf);
    const tunnel = await client(gwA, impostor.port);
    const back = await exchange(MARKER, MARKER.length);
    expect(back.length).toBe(0);
    await waitUntil(() => /CERT: Subject checks failed/.test(tunnel.log), 'the refusal logged', 10_000);
    expect(tunnel.log).toMatch(/Rejected by CERT at depth=0: CN=127\.0\.0\.9/);
    expect(tunnel.log).toMatch(/Certificate accepted at depth=1: CN=nqgw USB-IP tunnel CA/);
    expect(tunnel.log).not.toMatch(/Certificate accepted at depth=0/);
    expect(echo.connections).toBe(0);
  });

  it('the USB host refuses TLS 1.1', async () => {
    const server = await start(usbHost.conf);
    mkdirSync(join(dir, 'tls11'), { recursive: true });
    spawnSync(
      OPENSSL as string,
      [
        's_client',
        '-connect',
        `127.0.0.1:${usbHost.port}`,
        '-tls1_1',
        '-cipher',
        'DEFAULT@SECLEVEL=0',
        '-cert',
        join(gwA, 'client.crt'),
        '-key',
        join(gwA, 'client.key'),
        '-quiet',
      ],
      { input: MARKER, encoding: 'utf8', timeout: 20_000 },
    );
    await waitUntil(
      () => /unsupported protocol|wrong version number/.test(server.log),
      'the refusal logged',
      10_000,
    );
    expect(echo.connections).toBe(0);
  });
});

describe('the tunnel unit, its rendered config and the USB host scripts', () => {
  it('the unit loads as credentials exactly the files the rendered config names', async () => {
    const unit = readFileSync(join(IMAGE, 'systemd', 'nqgw-usbip-tunnel.service'), 'utf8');
    const creds = '/run/credentials/nqgw-usbip-tunnel.service';
    const loaded = [...unit.matchAll(/^LoadCredential=([^:]+):(\S+)$/gm)].map((m) => [m[1], m[2]]);
    expect(loaded).toEqual([
      ['stunnel.conf', '/etc/nqgw/usbip-tunnel.conf'],
      ['client.key', '/etc/nqgw/usbip-tunnel/client.key'],
      ['client.crt', '/etc/nqgw/usbip-tunnel/client.crt'],
      ['ca.crt', '/etc/nqgw/usbip-tunnel/ca.crt'],
    ]);
    expect(unit).toMatch(new RegExp(`^ExecStart=/usr/bin/stunnel4 ${creds}/stunnel.conf$`, 'm'));
    expect(unit).toMatch(/^DynamicUser=yes$/m);
    const conf = await renderClientConfig({ server: '10.80.3.5', busid: '1-1', tunnel_port: 3241 }, creds);
    const named = [...conf.matchAll(/^(?:cert|key|CAfile) = (\S+)$/gm)].map((m) => m[1]);
    expect(named).toEqual([`${creds}/client.crt`, `${creds}/client.key`, `${creds}/ca.crt`]);
    expect(conf).toMatch(/^accept = 127\.0\.0\.1:3240$/m);
    expect(conf).toMatch(/^connect = 10\.80\.3\.5:3241$/m);
    expect(conf).toMatch(/^checkIP = 10\.80\.3\.5$/m);
    expect(conf).not.toMatch(/\{\{/);
  });

  it('first boot refuses a usbip.tunnel_port of 3240 (plain USB/IP) or out of range', async () => {
    const mod = (await import(pathToFileURL(join(IMAGE, 'files', 'nqgw-render-host.mjs')).href)) as {
      checkHost: (h: unknown) => string[];
    };
    const problems = (tunnel_port?: number): string[] =>
      mod
        .checkHost({ usbip: { server: '10.80.3.5', busid: '1-1', tunnel_port } })
        .filter((p) => p.startsWith('usbip'));
    expect(problems()).toEqual([]);
    expect(problems(3241)).toEqual([]);
    expect(problems(3240)).toEqual([expect.stringMatching(/usbip\.tunnel_port "3240": .*not 3240/)]);
    expect(problems(70000)).toHaveLength(1);
  });

  it.each(['nqgw-usbipd.service', 'nqgw-usbip-tls.service'])(
    "the USB host's %s passes systemd-analyze verify (no errors, no warnings)",
    (unit) => {
      const analyze = tool('systemd-analyze');
      const root = unitRoot();
      try {
        const text = readFileSync(join(REPO, 'scripts', 'usbip-host', unit), 'utf8');
        writeFileSync(join(root, 'etc/systemd/system', unit), text);
        // Stubs at the paths it runs, as unitRoot() does for the image's units.
        for (const m of text.matchAll(/^Exec[A-Za-z]*=[-+!@:]*(\/\S+)/gm)) {
          const exe = join(root, m[1] as string);
          mkdirSync(dirname(exe), { recursive: true });
          writeFileSync(exe, '#!/bin/sh\nexit 0\n');
          chmodSync(exe, 0o755);
        }
        mkdirSync(join(root, 'etc/default'), { recursive: true });
        writeFileSync(join(root, 'etc/default/nqgw-usbipd'), 'USBIP_BUSID=1-1\n');
        const r = run(analyze, ['verify', '--man=no', `--root=${root}`, unit]);
        expect(r.status, output(r)).toBe(0);
        expect(r.stderr.trim(), output(r)).toBe('');
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  );

  it.each(['scripts/usbip-host/nqgw-usbip-certs.sh', 'scripts/ci-deps/usbip-tunnel.sh'])(
    '%s is bash with set -euo pipefail and shellcheck-clean',
    (rel) => {
      const text = readFileSync(join(REPO, rel), 'utf8');
      expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
      expect(text).toMatch(/^set -euo pipefail$/m);
      const r = run(tool('shellcheck'), ['-x', '--severity=info', rel]);
      expect(r.status, output(r)).toBe(0);
    },
  );
});
