import { spawn } from 'node:child_process';

export interface RunResult {
  status: number | null;
  stdout: string;
  /** stdout as bytes (a file read through SMB). */
  bytes: Buffer;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  /** Kill the command (SIGKILL) after this long: a hung ssh or smbclient must not hang the test. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs a command to completion without blocking the event loop (serial consoles keep streaming). */
export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on('close', (status) => {
      if (timer) clearTimeout(timer);
      const bytes = Buffer.concat(out);
      resolve({ status, stdout: bytes.toString('utf8'), bytes, stderr });
    });
    // A command that exits without reading its input must not crash the test with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** runCommand, and an error with the output when the exit status is not 0. */
export async function mustRun(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const r = await runCommand(command, args, options);
  if (r.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')}: exit ${r.status}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`,
    );
  }
  return r;
}

/** Wall time of one step, printed as the scenario goes (the issue asks for each step's time). */
export async function timed<T>(times: Map<string, number>, step: string, fn: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await fn();
  } finally {
    const s = (Date.now() - start) / 1000;
    times.set(step, s);
    console.log(`[drsite] ${step}: ${s.toFixed(1)} s`);
  }
}
