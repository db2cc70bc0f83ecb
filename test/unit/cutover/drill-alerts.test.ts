import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../appliance/src/config/index.js';
import { scratchExtras } from '../../../appliance/src/cutover/index.js';
import { parseChannelSettings } from '../../../appliance/src/ops/index.js';

describe('a drill pages nobody', () => {
  it('leaves [alerts] (SMS webhook, mail relay) out of the scratch tw.ini', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-drill-alerts-'));
    for (const f of ['ca.pem', 'station.crt', 'station.key']) writeFileSync(path.join(dir, f), 'x');
    const real = parseConfigText(
      [
        '[station]',
        'id = W888888T',
        'units = 729900',
        '[files]',
        'orders = NQWT.DBF',
        'returns = NQHB.DBF',
        '[servers]',
        'server1 = 127.0.0.1:7043',
        '[tls]',
        'mode = file',
        'ca = ca.pem',
        'cert = station.crt',
        'key = station.key',
        '[alerts]',
        'mail_relay = smtp://10.80.0.25',
        'mail_from = nqgw@broker.example',
        'mail_to = dr-duty@broker.example',
        '',
      ].join('\n'),
      path.join(dir, 'tw.ini'),
    );
    expect(parseChannelSettings(real).mail).not.toBeNull();
    const extras = scratchExtras(real, { stateDir: path.join(dir, 'scratch') });
    expect(extras['alerts']).toBeUndefined();
  });
});
