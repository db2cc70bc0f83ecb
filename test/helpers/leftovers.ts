import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * Every process a test starts through the helpers runs in a process group of its own (spawn with
 * `detached: true`), and the group is recorded here. When a test file ends - passed, failed or
 * timed out - test/setup/leftovers.ts kills every recorded group still alive, so a failed test can
 * not leave a gateway logged on to a simulator (or a helper grandchild it started) for the next
 * half hour. Killing the group, not the pid, takes the grandchildren too (the gateway's TLS helper
 * and token agent).
 */
const groups = new Set<number>();

export function trackGroup(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return;
  groups.add(pid);
  // The group may outlive its leader (a grandchild still in it): keep it until the sweep.
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kill (SIGKILL) every recorded group that still has a member; returns the groups it killed. */
export function killLeftoverGroups(): number[] {
  const killed: number[] = [];
  for (const pgid of groups) {
    if (groupAlive(pgid)) {
      try {
        process.kill(-pgid, 'SIGKILL');
        killed.push(pgid);
      } catch {
        // Gone between the check and the kill.
      }
    }
    groups.delete(pgid);
  }
  return killed;
}

/** spawn() in a process group of its own, recorded for the sweep. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  trackGroup(child);
  return child;
}
