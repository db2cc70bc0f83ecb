import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../appliance/src/config/index.js';
import type { LabDescription } from '../../../appliance/src/lab/index.js';
import { makeLab, setIni } from '../../helpers/lab.js';

describe('[link] answer_timeout_ms', () => {
  let lab: LabDescription | undefined;
  afterEach(() => {
    if (lab) rmSync(lab.dir, { recursive: true, force: true });
    lab = undefined;
  });

  it('defaults to 10 s, takes 1000-120000 ms and names the key when out of range', async () => {
    lab = await makeLab();
    expect(loadConfig(lab.twIni).link.answerTimeoutMs).toBe(10_000);
    setIni(lab.twIni, 'link', 'answer_timeout_ms', '2500');
    expect(loadConfig(lab.twIni).link.answerTimeoutMs).toBe(2_500);
    setIni(lab.twIni, 'link', 'answer_timeout_ms', '500');
    const err = (() => {
      try {
        loadConfig(lab.twIni);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.key)).toEqual(['answer_timeout_ms']);
  });
});
