import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputQueue } from '../../../src/client/input-queue.js';
import { allowedCpus } from '../../../src/placement/affinity.js';
import { mlpReference, writeModel } from '../../fixtures/onnx-models.js';
import { cpusByThread, planHere } from '../../helpers/cpu-affinity.js';
import { freePort, startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startWorker, writeConfig, type WorkerProcess } from '../../helpers/worker-process.js';
import { forkFrontend } from '../frontend/frontend-harness.js';

describe('cpuAffinity: where a job’s processes run', () => {
  let redis: TestRedis;
  let modelPath: string;
  const workers: WorkerProcess[] = [];
  const queues: InputQueue[] = [];
  const allowed = allowedCpus();

  beforeAll(async () => {
    redis = await startRedis();
    modelPath = await writeModel(await mkdtemp(join(tmpdir(), 'cs-placement-')), 'mlp');
  });

  afterAll(async () => {
    for (const q of queues) await q.close();
    for (const w of workers) await w.kill();
    await redis.stop();
  });

  async function worker(job: string, extra: Record<string, unknown>): Promise<WorkerProcess> {
    const config = await writeConfig({ modelPath, jobName: job, redisUrl: redis.url, ...extra });
    const started = await startWorker(config);
    workers.push(started);
    return started;
  }

  async function expectAnswers(job: string): Promise<void> {
    const queue = new InputQueue({ redisUrl: redis.url, name: job });
    queues.push(queue);
    const input = Float32Array.of(0.5, -1, 2, 0.25);
    const result = await queue.predict({ input: { data: input, shape: [1, 4] } });
    expect(result.kind).toBe('tensors');
    const output = result.kind === 'tensors' ? (result.outputs['output']?.data as Float32Array) : undefined;
    const expected = mlpReference(input, 1);
    expect(output?.length).toBe(expected.length);
    expected.forEach((value, i) => expect(output?.[i]).toBeCloseTo(value, 5));
  }

  it('one worker where a CPU is spare: its main thread keeps to the spare CPUs, its inference thread keeps to the others', async () => {
    const plan = planHere(1);
    const pid = (await worker('placed', { modelParallelism: 1 })).child.pid ?? 0;
    const threads = await cpusByThread(pid);
    if (plan === undefined) {
      // A single CPU: there is nothing to keep apart.
      for (const cpus of threads.values()) expect(cpus).toEqual(allowed);
    } else {
      expect(threads.get(pid)).toEqual(plan.plumbing);
      const inference = [...threads.values()].filter((cpus) => cpus?.join() === plan.inference.join());
      expect(inference.length).toBeGreaterThanOrEqual(1);
      // Every other thread (V8's helpers, libuv's) is plumbing too.
      for (const cpus of threads.values())
        expect([plan.inference.join(), plan.plumbing.join()]).toContain(cpus?.join());
    }
    await expectAnswers('placed');
  });

  it('pins nothing when cpuAffinity is off, or when the job’s workers take every CPU', async () => {
    const cores = allowed?.length ?? 1;
    for (const [job, extra] of [
      ['unpinned_off', { modelParallelism: 1, cpuAffinity: 'off' }],
      ['unpinned_full', { modelParallelism: cores }],
    ] as const) {
      const pid = (await worker(job, extra)).child.pid ?? 0;
      for (const cpus of (await cpusByThread(pid)).values()) expect(cpus).toEqual(allowed);
      await expectAnswers(job);
    }
  });

  it('the HTTP frontend of a job with a spare CPU keeps every thread to the spare CPUs', async () => {
    const port = await freePort();
    const config = await writeConfig({
      modelPath,
      jobName: 'placed_http',
      redisUrl: redis.url,
      modelParallelism: 1,
      http: { port, interface: '127.0.0.1' },
    });
    const frontend = forkFrontend(['--config', config]);
    try {
      await waitFor(() => frontend.messages.find((m) => m.type === 'state'), { what: 'frontend ready' });
      const expected = planHere(1)?.plumbing ?? allowed;
      for (const cpus of (await cpusByThread(frontend.child.pid ?? 0)).values())
        expect(cpus).toEqual(expected);
    } finally {
      frontend.child.kill('SIGTERM');
      expect(await frontend.exited).toBe(0);
    }
  });
});
