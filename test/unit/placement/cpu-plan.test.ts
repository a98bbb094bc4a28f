import { describe, expect, it } from 'vitest';
import { formatCpuList, parseCpuList, planCpus } from '../../../src/placement/cpu-plan.js';

describe('planCpus', () => {
  const auto = { threadPerModel: 1, cpuAffinity: 'auto' as const };

  it('gives the inference threads the first CPUs, one each, and the plumbing the rest', () => {
    expect(planCpus([0, 1], { ...auto, modelParallelism: 1 })).toEqual({
      all: [0, 1],
      inference: [0],
      plumbing: [1],
    });
    expect(planCpus([0, 1, 2, 3, 4, 5, 6, 7], { ...auto, modelParallelism: 2, threadPerModel: 3 })).toEqual({
      all: [0, 1, 2, 3, 4, 5, 6, 7],
      inference: [0, 1, 2, 3, 4, 5],
      plumbing: [6, 7],
    });
    // CPU numbers as the process is allowed them, not 0..n-1.
    expect(planCpus([2, 3, 8], { ...auto, modelParallelism: 1 })).toEqual({
      all: [2, 3, 8],
      inference: [2],
      plumbing: [3, 8],
    });
  });

  it('pins nothing when the inference threads take every CPU, or when cpuAffinity is off', () => {
    expect(planCpus([0, 1], { ...auto, modelParallelism: 2 })).toBeUndefined();
    expect(planCpus([0, 1], { ...auto, modelParallelism: 1, threadPerModel: 2 })).toBeUndefined();
    expect(planCpus([0, 1, 2, 3], { ...auto, modelParallelism: 8 })).toBeUndefined();
    expect(planCpus([0], { ...auto, modelParallelism: 1 })).toBeUndefined();
    expect(planCpus([0, 1], { ...auto, modelParallelism: 1, cpuAffinity: 'off' })).toBeUndefined();
  });
});

describe('CPU lists', () => {
  it('reads the forms /proc prints', () => {
    expect(parseCpuList('0')).toEqual([0]);
    expect(parseCpuList('0-3')).toEqual([0, 1, 2, 3]);
    expect(parseCpuList('0-1,4,6-7\n')).toEqual([0, 1, 4, 6, 7]);
    expect(parseCpuList('5,1')).toEqual([1, 5]);
  });

  it('refuses what is not a CPU list', () => {
    for (const text of ['', 'a', '1-', '3-1', '1,,2', '0x3', '-1'])
      expect(parseCpuList(text), text).toBeUndefined();
  });

  it('writes the shortest list, and reads it back', () => {
    expect(formatCpuList([1])).toBe('1');
    expect(formatCpuList([3, 0, 1, 2, 7, 9, 10])).toBe('0-3,7,9-10');
    const cpus = [0, 2, 3, 4, 8, 11, 12];
    expect(parseCpuList(formatCpuList(cpus))).toEqual(cpus);
  });
});
