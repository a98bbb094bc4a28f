import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * A pid alone is never trusted: after a crash or reboot it may belong to someone else.
 * A process is ours when it is alive, its start time is the one recorded when we spawned it
 * (Linux: field 22 of /proc/<pid>/stat), and its command line carries the expected marker.
 */
export interface ProcessIdentity {
  readonly pid: number;
  readonly startTime: string | null;
  /** A substring of the command line, e.g. `worker/main.js` or `redis-server`. */
  readonly marker: string;
}

/** True while the process runs; a zombie (exited, not yet reaped by its parent) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    // No /proc entry: gone on Linux; elsewhere signal 0 is all we have.
    return process.platform !== 'linux';
  }
}

/** The kernel's start time of `pid` (clock ticks since boot), or null where /proc is missing. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; fields resume after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

export function processCommandLine(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    // No /proc (macOS): ask ps.
    try {
      return execFileSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' }).trim() || null;
    } catch {
      return null;
    }
  }
}

export function isOurProcess(identity: ProcessIdentity): boolean {
  if (!isAlive(identity.pid)) return false;
  const commandLine = processCommandLine(identity.pid);
  if (commandLine === null || !commandLine.includes(identity.marker)) return false;
  if (identity.startTime !== null) {
    const now = processStartTime(identity.pid);
    if (now !== null && now !== identity.startTime) return false;
  }
  return true;
}

/** Signals the process group when the process leads one (our children do), else the process. */
export function signalTree(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
    return;
  } catch {
    // not a group leader, or the group is gone
  }
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
