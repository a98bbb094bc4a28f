/**
 * Reading and setting which CPUs a process or thread may run on (Linux). Node has no call for
 * it, so it goes through `taskset` from util-linux, once per process or thread at start.
 * Anywhere else, or without taskset, nothing is pinned and the caller says so in its log.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { formatCpuList, parseCpuList, planCpus, type CpuPlan, type PlacementSettings } from './cpu-plan.js';

/** The CPUs this process may run on, or undefined where that cannot be read (not Linux). */
export function allowedCpus(): number[] | undefined {
  return cpusOf('/proc/self/status');
}

/** The CPUs thread `tid` of process `pid` may run on, or undefined when it cannot be read. */
export function threadCpus(pid: number, tid: number): number[] | undefined {
  return cpusOf(`/proc/${pid}/task/${tid}/status`);
}

function cpusOf(statusFile: string): number[] | undefined {
  let status: string;
  try {
    status = readFileSync(statusFile, 'utf8');
  } catch {
    return undefined;
  }
  const line = /^Cpus_allowed_list:\s*(\S+)\s*$/m.exec(status);
  return line?.[1] === undefined ? undefined : parseCpuList(line[1]);
}

/** Every thread of process `pid` (threads it starts later inherit it) to `cpus`; the reason when it fails. */
export function pinProcess(pid: number, cpus: readonly number[]): string | undefined {
  return taskset(['--all-tasks', '--pid', '--cpu-list', formatCpuList(cpus), String(pid)]);
}

/** The calling thread (threads it starts later inherit it) to `cpus`; the reason when it fails. */
export function pinThisThread(cpus: readonly number[]): string | undefined {
  let tid: string | undefined;
  try {
    // "<pid>/task/<tid>"
    tid = /\/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1];
  } catch {
    tid = undefined;
  }
  if (tid === undefined) return 'the thread id cannot be read from /proc/thread-self';
  return taskset(['--pid', '--cpu-list', formatCpuList(cpus), tid]);
}

function taskset(args: readonly string[]): string | undefined {
  const run = spawnSync('taskset', args, { encoding: 'utf8', timeout: 10_000 });
  if (run.error !== undefined) {
    const code = (run.error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'taskset (util-linux) is not installed' : run.error.message;
  }
  if (run.status !== 0) return run.stderr.trim() || `taskset exited with code ${String(run.status)}`;
  return undefined;
}

export type Placement =
  | { readonly pinned: true; readonly plan: CpuPlan }
  | { readonly pinned: false; readonly plan: CpuPlan; readonly reason: string };

/**
 * Plans the job's CPUs on this machine and keeps this whole process on the plumbing CPUs.
 * Undefined when there is nothing to pin (cpuAffinity off, no spare CPU, not Linux).
 */
export function placeThisProcess(settings: PlacementSettings): Placement | undefined {
  const allowed = allowedCpus();
  const plan = allowed === undefined ? undefined : planCpus(allowed, settings);
  if (plan === undefined) return undefined;
  const reason = pinProcess(process.pid, plan.plumbing);
  return reason === undefined ? { pinned: true, plan } : { pinned: false, plan, reason };
}

/** The CPUs a job's plumbing is kept on, when it is (see planCpus). */
export function plumbingCpus(settings: PlacementSettings): readonly number[] | undefined {
  const allowed = allowedCpus();
  return allowed === undefined ? undefined : planCpus(allowed, settings)?.plumbing;
}

/** How a placement reads in a log line. */
export function describePlacement(placement: Placement): Record<string, string> {
  return placement.pinned
    ? {
        plumbingCpus: formatCpuList(placement.plan.plumbing),
        inferenceCpus: formatCpuList(placement.plan.inference),
      }
    : { reason: placement.reason };
}
