import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../appliance/src/config/index.js';
import { collectDailyReport } from '../../../appliance/src/report/index.js';
import { makeLab } from '../../helpers/lab.js';

describe('collectDailyReport on a lab without a day behind it', () => {
  it('says which sources are missing or unreadable instead of failing the whole report', async () => {
    const lab = await makeLab();
    const config = loadConfig(lab.twIni);
    const empty = await collectDailyReport(config, { date: '20261201' });
    expect(empty.orders).toEqual({ sent: 0, unanswered: 0, notSent: 0, orderFile: null });
    expect(empty.sources.find((s) => s.name === 'journal')).toMatchObject({ found: false });
    expect(empty.config.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(empty.config.hash).toMatch(/^[0-9a-f]{64}$/);

    // A journal damaged in the middle (NQ701 for the gateway): the report still comes, saying so.
    mkdirSync(path.join(lab.stateDir, 'journal'), { recursive: true });
    writeFileSync(
      path.join(lab.stateDir, 'journal', '20261201.jnl'),
      'deadbeef\t{"k":"m","next":1}\nnot a line\n',
    );
    const damaged = await collectDailyReport(config, { date: '20261201' });
    expect(damaged.sources.find((s) => s.name === 'journal')).toMatchObject({
      found: false,
      note: expect.stringMatching(/^unreadable: journal .* is damaged at line 1/) as unknown,
    });
    expect(damaged.orders.sent).toBe(0);
  });
});
