import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from '../../helpers/process.js';

const RULES = path.join(REPO, 'appliance/data/prometheus/nqgw-alerts.rules.yml');

function promtool(args: string[]): { status: number | null; out: string } {
  const res = spawnSync('promtool', args, { encoding: 'utf8' });
  if (res.error)
    throw new Error('promtool is missing: run scripts/ci-deps/ops.sh (Debian package prometheus)');
  return { status: res.status, out: res.stdout + res.stderr };
}

describe('Prometheus alert rules shipped with the appliance', () => {
  it('pass promtool check rules', () => {
    const res = promtool(['check', 'rules', RULES]);
    expect(res.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(res.status).toBe(0);
  });

  it('cover what issue 5 names, on metrics that /metrics exposes', () => {
    const text = readFileSync(RULES, 'utf8');
    for (const alert of [
      'NqgwLinkDown',
      'NqgwHeartbeatStale',
      'NqgwClockWarn',
      'NqgwClockAlarm',
      'NqgwTokenMissing',
      'NqgwEkeySpare',
      'NqgwSoftWindowEnding',
      'NqgwShippingBacklog',
      'NqgwOrdersPendingTooLong',
    ]) {
      expect(text).toContain(`alert: ${alert}`);
    }
    const metricsSource = readFileSync(path.join(REPO, 'appliance/src/ops/metrics.ts'), 'utf8');
    for (const name of new Set(text.match(/nqgw_[a-z_]+/g)))
      expect(metricsSource, name).toContain(`'${name}'`);
  });

  it('fire on the EKey and soft-window series (promtool test rules)', () => {
    // An EKey out for 2 minutes, failing 3 times; a soft window with 1 trading day left.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-rules-'));
    const tests = path.join(dir, 'ekey.test.yml');
    writeFileSync(
      tests,
      [
        `rule_files: [${JSON.stringify(RULES)}]`,
        'evaluation_interval: 15s',
        'tests:',
        '  - interval: 15s',
        '    input_series:',
        '      - series: \'nqgw_token_present{instance="gw-a"}\'',
        "        values: '1 0x8'",
        '      - series: \'nqgw_token_failures{instance="gw-a"}\'',
        "        values: '0 1 2 3x6'",
        '      - series: \'nqgw_soft_window_sessions_left{instance="gw-a"}\'',
        "        values: '-1 1x7'",
        '    alert_rule_test:',
        '      - eval_time: 2m',
        '        alertname: NqgwTokenMissing',
        '        exp_alerts:',
        '          - exp_labels: { severity: critical, code: TOKEN_MISSING, instance: gw-a }',
        '            exp_annotations:',
        '              summary: "The station\'s key is not usable: EKey out of its slot, or soft mode not logged on"',
        '              action: "Re-plug the EKey, try another USB port, or swap to the spare key; apply for soft encryption if none works."',
        '      - eval_time: 15s',
        '        alertname: NqgwEkeySpare',
        '        exp_alerts: []',
        '      - eval_time: 1m',
        '        alertname: NqgwEkeySpare',
        '        exp_alerts:',
        '          - exp_labels: { severity: warning, code: EKEY_SPARE, instance: gw-a }',
        '            exp_annotations:',
        '              summary: "Ekey多次出现故障: 3 EKey failures in 24 h"',
        '              action: "Swap to the spare EKey at the next quiet moment; without one, apply for soft encryption at 深证通."',
        '      - eval_time: 1m',
        '        alertname: NqgwSoftWindowEnding',
        '        exp_alerts:',
        '          - exp_labels: { severity: warning, code: SOFT_WINDOW_ENDING, instance: gw-a }',
        '            exp_annotations:',
        '              summary: "Soft encryption: 1 trading day(s) left after today in the window (at most 10)"',
        '              action: "Get the EKey replaced; soft encryption must be applied for again each day at 深证通."',
        '',
      ].join('\n'),
    );
    const res = promtool(['test', 'rules', tests]);
    expect(res.out).toContain('SUCCESS');
    expect(res.status, res.out).toBe(0);
  });
});
