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
  let cnnPath: string;
  const workers: WorkerProcess[] = [];
  const queues: InputQueue[] = [];
  const allowed = allowedCpus();

  beforeAll(async () => {
    redis = await startRedis();
    const dir = await mkdtemp(join(tmpdir(), 'cs-placement-'));
    modelPath = await writeModel(dir, 'mlp');
    // A run long enough (~1 ms) to stay on the inference thread; the MLP's moves to the main thread.
    cnnPath = await writeModel(dir, 'cnn');
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
    const pid = (await worker('placed', { modelParallelism: 1, modelPath: cnnPath })).child.pid ?? 0;
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
    const queue = new InputQueue({ redisUrl: redis.url, name: 'placed' });
    queues.push(queue);
    const image = new Float32Array(3 * 32 * 32).fill(0.5);
    const result = await queue.predict({ image: { data: image, shape: [1, 3, 32, 32] } });
    expect(result.kind === 'tensors' ? result.outputs['logits']?.shape : result).toEqual([1, 10]);
  });

  it('a model whose runs are shorter than a hand-off runs on the main thread, and the worker keeps every CPU', async () => {
    const started = await worker('inline', { modelParallelism: 1 });
    // With a CPU spare, a worker that ran the model on its thread would keep its main thread off
    // the inference CPU; this one gave the thread up and uses every CPU.
    for (const cpus of (await cpusByThread(started.child.pid ?? 0)).values()) expect(cpus).toEqual(allowed);
    await expectAnswers('inline');
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
