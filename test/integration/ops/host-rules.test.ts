import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnTracked } from '../../helpers/leftovers.js';
import { freePort } from '../../helpers/ports.js';
import { REPO, waitUntil } from '../../helpers/process.js';
import { EXAMPLE_HOST } from '../../unit/infra/user-data-template.js';

/**
 * The host rules (docs/ops.md "Host monitoring"): promtool's own checks and unit tests, and the
 * real Debian node_exporter run with the command line first boot renders, so the series the rules
 * join on are the ones the exporter as configured really exposes.
 */
const RULES = path.join(REPO, 'appliance/data/prometheus/nqgw-host.rules.yml');
const PROMTEST = path.join(REPO, 'test/integration/ops/host-rules.promtest.yml');
const RENDERER = path.join(REPO, 'image/files/nqgw-render-host.mjs');
const EXPORTER = '/usr/bin/prometheus-node-exporter';
const HAS_PROMTOOL = spawnSync('promtool', ['--version']).status === 0;
const IS_ROOT = process.getuid?.() === 0;

function promtool(args: string[], cwd?: string): { status: number | null; out: string } {
  const res = spawnSync('promtool', args, { encoding: 'utf8', ...(cwd ? { cwd } : {}) });
  return { status: res.status, out: res.stdout + res.stderr };
}

function alertNames(): string[] {
  return [...readFileSync(RULES, 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
}

describe.skipIf(!HAS_PROMTOOL)('host rules (promtool; scripts/ci-deps/monitor.sh installs it)', () => {
  it('pass promtool check rules', () => {
    const res = promtool(['check', 'rules', RULES]);
    expect(res.out).toContain(`SUCCESS: ${alertNames().length} rules found`);
    expect(res.status).toBe(0);
  });

  it('cover CPU, memory, volume space and trend, read-only, clock, share and the exporter', () => {
    expect(alertNames().sort()).toEqual([
      'NqgwFilesystemReadOnly',
      'NqgwHostClockOffset',
      'NqgwHostClockOffsetAlarm',
      'NqgwHostClockUnsynced',
      'NqgwHostCpuHigh',
      'NqgwHostMemoryLow',
      'NqgwHostTextfileError',
      'NqgwNodeExporterDown',
      'NqgwShareError',
      'NqgwShareNotMounted',
      'NqgwVolumeFillingUp',
      'NqgwVolumeSpaceLow',
    ]);
    expect(readFileSync(RULES, 'utf8')).toContain('predict_linear(node_filesystem_avail_bytes');
  });

  it('fire where they should and stay quiet where they should not (promtool test rules)', () => {
    const res = promtool(['test', 'rules', PROMTEST]);
    expect(res.out, res.out).toContain('SUCCESS');
    expect(res.status).toBe(0);
    // Every rule has at least one case where it fires (exp_alerts with labels) in the unit tests.
    const text = readFileSync(PROMTEST, 'utf8');
    for (const name of alertNames())
      expect(text, name).toMatch(new RegExp(`alertname: ${name}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
  });
});

describe.skipIf(!HAS_PROMTOOL || !existsSync(EXPORTER) || !IS_ROOT)(
  'node_exporter as first boot configures it (Debian prometheus-node-exporter, a real read-only mount)',
  () => {
    const running: ChildProcess[] = [];
    const dirs: string[] = [];
    const mounts: string[] = [];
    afterAll(async () => {
      for (const p of running) {
        if (p.exitCode !== null || p.signalCode !== null) continue;
        const gone = new Promise((resolve) => p.once('exit', resolve));
        p.kill('SIGTERM');
        await gone;
      }
      for (const m of mounts) spawnSync('umount', [m]);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it('exposes every series the rules use, and the rules fire on a read-only volume that is not the share', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-node-exporter-'));
      dirs.push(dir);
      // The "share" is a small tmpfs mounted read-only under /mnt (first boot accepts share mount
      // points under /srv or /mnt; Debian's exporter default would not even look under /mnt): a
      // real mount the exporter reads, not a CIFS one, so the rules must call it read-only and
      // not mounted as a share.
      // Lower case only: first boot's mount point rule (nqgw-render-mounts.mjs).
      const share = `/mnt/nqgw-share-${randomBytes(4).toString('hex')}`;
      mkdirSync(share);
      dirs.push(share);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,ro', 'tmpfs', share]);
      mounts.push(share);
      const host = {
        ...EXAMPLE_HOST,
        management_address: '10.80.1.11',
        counter_share: {
          protocol: 'cifs',
          source: '//10.0.2.2/counter',
          mount_point: share,
          credentials_file: '/etc/nqgw/secrets/counter-share.cred',
        },
      };
      writeFileSync(path.join(dir, 'host.json'), JSON.stringify(host));
      const root = path.join(dir, 'root');
      const r = spawnSync(
        process.execPath,
        [
          RENDERER,
          '--host',
          path.join(dir, 'host.json'),
          '--templates',
          path.join(REPO, 'image/templates'),
          '--root',
          root,
        ],
        { encoding: 'utf8' },
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const defaults = readFileSync(path.join(root, 'etc/default/prometheus-node-exporter'), 'utf8');
      const args = /^ARGS="(.*)"$/m.exec(defaults)![1]!.split(' ');
      expect(args).toContain('--web.listen-address=10.80.1.11:9100');
      expect(readFileSync(path.join(root, 'etc/nftables.d/nqgw.nft'), 'utf8')).toContain(
        'ip saddr $management_net tcp dport 9100 accept',
      );

      // As rendered, but on a loopback port of this machine and the rendered textfile directory.
      const port = await freePort();
      const textfileDir = path.join(root, 'var/lib/prometheus/node-exporter');
      const runArgs = args.map((a) =>
        a.startsWith('--web.listen-address=')
          ? `--web.listen-address=127.0.0.1:${port}`
          : a.startsWith('--collector.textfile.directory=')
            ? `--collector.textfile.directory=${textfileDir}`
            : a,
      );
      const exporter = spawnTracked(EXPORTER, runArgs, { stdio: 'ignore' });
      running.push(exporter);
      const url = `http://127.0.0.1:${port}/metrics`;
      const body = await waitUntil(async () => {
        const res = await fetch(url);
        return res.ok ? res.text() : null;
      }, 'node_exporter /metrics');

      const samples = body.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
      const used = new Set(
        readFileSync(RULES, 'utf8').match(
          /\b(node_(?:cpu|memory|filesystem|timex|textfile)_[A-Za-z_]+|nqgw_volume_info)\b/g,
        ),
      );
      for (const name of used)
        expect(
          samples.some((s) => s.startsWith(`${name}{`) || s.startsWith(`${name} `)),
          name,
        ).toBe(true);
      expect(body).toContain(
        `node_filesystem_readonly{device="tmpfs",fstype="tmpfs",mountpoint="${share}"} 1`,
      );
      expect(body).toContain(`nqgw_volume_info{mountpoint="${share}",share="cifs",volume="dbf"} 1`);

      // The scrape as promtool input: what a Prometheus scraping job nqgw-node would hold.
      const series = samples
        .filter((s) => [...used].some((n) => s.startsWith(`${n}{`) || s.startsWith(`${n} `)))
        .map((s) => {
          const at = s.lastIndexOf(' ');
          const [name, labels] = s.includes('{')
            ? [s.slice(0, s.indexOf('{')), s.slice(s.indexOf('{') + 1, s.lastIndexOf('}'))]
            : [s.slice(0, at), ''];
          const all = `job="nqgw-node",instance="gw-t:9100"${labels ? `,${labels}` : ''}`;
          return `      - series: '${name}{${all.replace(/'/g, "''")}}'\n        values: '${s.slice(at + 1)}x10'`;
        });
      series.push(`      - series: 'up{job="nqgw-node",instance="gw-t:9100"}'\n        values: '1x10'`);
      const rulesAt = path.relative(dir, RULES);
      const labels = `{ job: nqgw-node, instance: "gw-t:9100", mountpoint: "${share}"`;
      writeFileSync(
        path.join(dir, 'scraped.test.yml'),
        [
          `rule_files: [${JSON.stringify(rulesAt)}]`,
          'evaluation_interval: 1m',
          'tests:',
          '  - interval: 1m',
          '    input_series:',
          ...series,
          '    alert_rule_test:',
          '      - eval_time: 5m',
          '        alertname: NqgwFilesystemReadOnly',
          '        exp_alerts:',
          `          - exp_labels: ${labels}, device: tmpfs, fstype: tmpfs, volume: dbf, severity: critical, code: HOST_FS_READONLY }`,
          '            exp_annotations:',
          `              summary: "gw-t:9100: dbf filesystem ${share} is read-only (a disk error remounted it, or the share went read-only)"`,
          '              action: "dmesg for I/O errors; the gateway cannot mark orders sent or write returns. Cut over to the other replica if it does not come back."',
          '      - eval_time: 5m',
          '        alertname: NqgwShareNotMounted',
          '        exp_alerts:',
          `          - exp_labels: ${labels}, volume: dbf, share: cifs, severity: critical, code: HOST_SHARE_MISSING }`,
          '            exp_annotations:',
          `              summary: "gw-t:9100: the counter's share is not mounted at ${share}: NQWT.DBF and NQHB.DBF are not reachable"`,
          `              action: "systemctl status of the mount unit (systemd-escape -p --suffix=mount ${share}); the credentials file in /etc/nqgw/secrets; the share server on 445/2049."`,
          '      - eval_time: 5m',
          '        alertname: NqgwNodeExporterDown',
          '        exp_alerts: []',
          '      - eval_time: 5m',
          '        alertname: NqgwHostTextfileError',
          '        exp_alerts: []',
          '',
        ].join('\n'),
      );
      const res = promtool(['test', 'rules', 'scraped.test.yml'], dir);
      expect(res.out, res.out).toContain('SUCCESS');
      expect(res.status).toBe(0);
    });
  },
);
