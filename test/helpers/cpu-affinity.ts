import { readdir } from 'node:fs/promises';
import { allowedCpus, threadCpus } from '../../src/placement/affinity.js';
import { planCpus, type CpuPlan } from '../../src/placement/cpu-plan.js';

/** The CPUs each thread of `pid` may run on, by thread id. */
export async function cpusByThread(pid: number): Promise<Map<number, number[] | undefined>> {
  const tids = (await readdir(`/proc/${pid}/task`)).map(Number);
  return new Map(tids.map((tid) => [tid, threadCpus(pid, tid)]));
}

/** What cpuAffinity auto does for one job on the CPUs this test may use. */
export function planHere(modelParallelism: number): CpuPlan | undefined {
  return planCpus(allowedCpus() ?? [], { modelParallelism, threadPerModel: 1, cpuAffinity: 'auto' });
}
