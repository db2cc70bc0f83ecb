import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerCalendarCommands } from '../../../appliance/src/cli/calendar.js';
import { registerSoftkeyCommands } from '../../../appliance/src/cli/softkey.js';
import { registerEkeyCommands } from '../../../appliance/src/cli/ekey.js';

function names(program: Command): string[] {
  return program.commands.flatMap((c) => c.commands.map((s) => `${c.name()} ${s.name()}`));
}

describe('command registration', () => {
  it('registers calendar, softkey and ekey sub-commands', () => {
    const program = new Command('nqgw');
    registerCalendarCommands(program);
    registerSoftkeyCommands(program);
    registerEkeyCommands(program);
    expect(names(program)).toEqual([
      'calendar count',
      'calendar today',
      'softkey apply',
      'softkey confirm-today',
      'softkey status',
      'softkey close',
      'softkey csr',
      'softkey pkcs12',
      'ekey status',
      'ekey csr',
    ]);
  });

  it('nqgw calendar count parses its flags and sets the exit code', async () => {
    const program = new Command('nqgw').exitOverride();
    registerCalendarCommands(program);
    const write = process.stdout.write.bind(process.stdout);
    const out: string[] = [];
    process.stdout.write = ((chunk: string) => {
      out.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      await program.parseAsync(['calendar', 'count', '--from', '2025-09-26', '--to', '2025-10-13'], {
        from: 'user',
      });
    } finally {
      process.stdout.write = write;
    }
    expect(out.join('')).toBe('6\n');
    expect(process.exitCode).toBe(0);
    process.exitCode = undefined;
  });
});
