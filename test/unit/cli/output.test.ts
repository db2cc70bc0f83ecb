import { CommanderError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exitCodeFor, reportFailure, shellArg } from '../../../appliance/src/cli/output.js';
import { UsageError } from '../../../appliance/src/cli/usage.js';
import { ConfigError } from '../../../appliance/src/config/index.js';

/** What reportFailure writes to stderr, and the code it gives. */
function report(err: unknown): { code: number; text: string } {
  const writes: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    writes.push(String(chunk));
    return true;
  });
  try {
    return { code: reportFailure(err), text: writes.join('') };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => {
  delete process.env['NQGW_DEBUG'];
});

describe('the one top-level failure handler', () => {
  it('a usage error: its line and hint, exit 2', () => {
    expect(report(new UsageError('NQ911', '--config /x: does not exist', 'give the path'))).toEqual({
      code: 2,
      text: '[NQ911] --config /x: does not exist\n  -> give the path\n',
    });
  });

  it('a wrong tw.ini: each problem once, exit 2', () => {
    const problem = {
      file: 'tw.ini',
      line: 4,
      section: 'station',
      key: 'units',
      message: '"72990" is bad',
      hint: 'fix',
    };
    const r = report(new ConfigError([problem]));
    expect(r.code).toBe(2);
    expect(r.text.split('"72990" is bad').length - 1).toBe(1);
  });

  it("commander's own usage errors (already printed by commander) exit 2, help and --version 0", () => {
    expect(report(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"))).toEqual({
      code: 2,
      text: '',
    });
    expect(exitCodeFor(new CommanderError(0, 'commander.version', '0.1.0'))).toBe(0);
  });

  it('a fault: its message without a stack trace (NQGW_DEBUG=1 shows it), exit 70', () => {
    const r = report(new TypeError('cannot read properties of undefined'));
    expect(r.code).toBe(70);
    expect(r.text).toBe(
      'nqgw: cannot read properties of undefined\n  -> NQGW_DEBUG=1 shows where in nqgw it came from\n',
    );
    process.env['NQGW_DEBUG'] = '1';
    expect(report(new TypeError('boom')).text).toMatch(/^nqgw: boom\nTypeError: boom\n\s+at /);
  });
});

describe('hints that can be pasted', () => {
  it('quotes a path only when a shell needs it', () => {
    expect(shellArg('/etc/nqgw/tw.ini')).toBe('/etc/nqgw/tw.ini');
    expect(shellArg('/home/ops/my lab/tw.ini')).toBe("'/home/ops/my lab/tw.ini'");
    expect(shellArg("it's")).toBe("'it'\\''s'");
  });
});
