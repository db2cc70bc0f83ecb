import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
});
