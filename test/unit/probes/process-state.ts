/** Whether a pid still runs; the probes' kill tests use it to prove nothing was left behind. */
import { readFileSync } from 'node:fs';

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A killed process not yet reaped is a zombie: it answers signal 0 but runs no more.
  // Reaping may never come in a container whose init does not reap orphans.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}
