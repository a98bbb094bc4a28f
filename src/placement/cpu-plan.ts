/**
 * Where a job's processes run on this machine's CPUs. When a job's inference threads
 * (modelParallelism × threadPerModel) leave CPUs spare, the inference threads get the first
 * CPUs, one each, and the serving plumbing (the workers' main threads, which read Redis and
 * decode images, the HTTP frontend and the Redis server we start) the rest. The plumbing's
 * bursts then never take a CPU from a model run, and a run never lands among the plumbing.
 */

export type CpuAffinity = 'auto' | 'off';

export interface CpuPlan {
  /** Every CPU the job may use. */
  readonly all: readonly number[];
  /** The first modelParallelism × threadPerModel of them: where the inference threads run. */
  readonly inference: readonly number[];
  /** The CPUs left over by the inference threads: where everything else of the job runs. */
  readonly plumbing: readonly number[];
}

export interface PlacementSettings {
  readonly modelParallelism: number;
  readonly threadPerModel: number;
  readonly cpuAffinity: CpuAffinity;
}

/**
 * The plan for a job on `allowed` CPUs, or undefined when nothing is to be pinned: cpuAffinity
 * is off, or the inference threads already take every CPU (each worker then runs its model on
 * its main thread and there is no plumbing to keep apart).
 */
export function planCpus(allowed: readonly number[], settings: PlacementSettings): CpuPlan | undefined {
  if (settings.cpuAffinity === 'off') return undefined;
  const inference = settings.modelParallelism * settings.threadPerModel;
  if (inference >= allowed.length) return undefined;
  return { all: [...allowed], inference: allowed.slice(0, inference), plumbing: allowed.slice(inference) };
}

/** Reads a Linux CPU list such as `0-3,8,10-11`; undefined when it is not one. */
export function parseCpuList(text: string): number[] | undefined {
  const cpus = new Set<number>();
  for (const part of text.trim().split(',')) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (range === null) return undefined;
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    if (to < from || to - from > 65_536) return undefined;
    for (let cpu = from; cpu <= to; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** The shortest Linux CPU list for `cpus`: `0-3,8`. */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
