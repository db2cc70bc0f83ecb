/**
 * kill(pid, 0): true when a process with this id exists. EPERM means it exists but belongs to
 * another user (a gateway run by the service user, asked about by an operator), so it counts.
 * The one copy for lock holders, status files and cutover's wait for a stop.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
