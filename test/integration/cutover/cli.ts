import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../../helpers/process.js';

/**
 * `nqgw cutover` as a real process. cli/main.ts registers the sub-command; this driver registers
 * it on a commander program of its own, so the tests exercise the same code without that line.
 */
const DRIVER = `
import { Command } from 'commander';
const { registerCutoverCommand } = await import(process.env.NQGW_CUTOVER_MODULE);
const program = new Command('nqgw');
registerCutoverCommand(program);
await program.parseAsync(process.argv);
`;

const CUTOVER_MODULE = path.join(REPO, 'dist', 'appliance', 'src', 'cli', 'cutover.js');

/** `env` adds variables (NQGW_LOCK_HOSTNAME: the lock's test seam, one host per process). */
export async function runCutoverCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; output: string; stdout: string; ms: number }> {
  const began = Date.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', DRIVER, 'nqgw', 'cutover', ...args], {
    cwd: REPO,
    env: { ...process.env, ...env, NQGW_CUTOVER_MODULE: CUTOVER_MODULE },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // `output` is what the operator's terminal shows (both streams); `stdout` alone is the JSON of
  // --json (the progress lines go to stderr then).
  let output = '';
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString('utf8');
    stdout += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { code, output, stdout, ms: Date.now() - began };
}

export function sha256(file: string): string {
  return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent';
}

/** The pid in state_dir/status.json, if any. */
export function statusPid(stateDir: string): number | null {
  try {
    return (JSON.parse(readFileSync(path.join(stateDir, 'status.json'), 'utf8')) as { pid: number }).pid;
  } catch {
    return null;
  }
}
