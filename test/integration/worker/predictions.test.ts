import { availableParallelism } from 'node:os';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputQueue } from '../../../src/client/input-queue.js';
import type { Tensor } from '../../../src/protocol/tensor.js';
import { mlpReference, writeModel } from '../../fixtures/onnx-models.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { startWorker, writeConfig, type WorkerProcess } from '../../helpers/worker-process.js';

function seeded(seed: number, n: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 4 - 2;
  }
  return out;
}

async function direct(
  modelPath: string,
  feeds: Record<string, Float32Array>,
  shape: number[],
): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
  const inputs: Record<string, ort.Tensor> = {};
  for (const [name, data] of Object.entries(feeds)) inputs[name] = new ort.Tensor('float32', data, shape);
  const results = await session.run(inputs);
  const out: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(results)) out[name] = t.data as Float32Array;
  await session.release();
  return out;
}

function expectClose(actual: Tensor | undefined, expected: Float32Array, relative: number): void {
  expect(actual?.type).toBe('FP32');
  const data = actual?.data as Float32Array;
  expect(data.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number;
    expect(Math.abs((data[i] as number) - e)).toBeLessThanOrEqual(relative * Math.max(1, Math.abs(e)));
  }
}

describe('worker predictions', () => {
  let redis: TestRedis;
  let dir: string;
  const workers: WorkerProcess[] = [];
  const queues: InputQueue[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'cs-models-'));
  });

  afterAll(async () => {
    for (const q of queues) await q.close();
    for (const w of workers) await w.kill();
    await redis.stop();
  });

  async function serve(job: string, model: string, extra: Record<string, unknown> = {}): Promise<InputQueue> {
    const modelPath = await writeModel(dir, model as 'mlp');
    const config = await writeConfig({
      modelPath,
      jobName: job,
      redisUrl: redis.url,
      modelParallelism: 1,
      ...extra,
    });
    workers.push(await startWorker(config));
    const queue = new InputQueue({ redisUrl: redis.url, name: job });
    queues.push(queue);
    return queue;
  }

  it('with maxBatchSize 1 the mlp answers exactly what session.run gives', async () => {
    const queue = await serve('mlp_exact', 'mlp', { maxBatchSize: 1 });
    const modelPath = join(dir, 'mlp.onnx');
    for (let k = 0; k < 5; k++) {
      const input = seeded(k + 1, 4);
      const expected = await direct(modelPath, { input }, [1, 4]);
      const result = await queue.predict({ input: { data: input, shape: [1, 4] } });
      expect(result.kind).toBe('tensors');
      if (result.kind !== 'tensors') continue;
      expect(result.outputs['output']?.shape).toEqual([1, 3]);
      expect(Array.from(result.outputs['output']?.data as Float32Array)).toEqual(
        Array.from(expected['output'] as Float32Array),
      );
      expectClose(result.outputs['output'], mlpReference(input, 1), 1e-5);
    }
  });

  it('with maxBatchSize 1 the two-input model answers exactly what session.run gives', async () => {
    const queue = await serve('twoio_exact', 'two-io', { maxBatchSize: 1 });
    const a = seeded(11, 4);
    const b = seeded(12, 4);
    const expected = await direct(join(dir, 'two-io.onnx'), { a, b }, [1, 4]);
    const result = await queue.predict({ b: { data: b, shape: [1, 4] }, a: { data: a, shape: [1, 4] } });
    if (result.kind !== 'tensors') throw new Error('expected tensors');
    expect(Object.keys(result.outputs).sort()).toEqual(['score', 'sum']);
    expect(Array.from(result.outputs['sum']?.data as Float32Array)).toEqual(
      Array.from(expected['sum'] as Float32Array),
    );
    expect(Array.from(result.outputs['score']?.data as Float32Array)).toEqual(
      Array.from(expected['score'] as Float32Array),
    );
  });

  // One worker on a machine of several cores runs its model on an inference thread; with a
  // worker per core the model runs on the worker's main thread and batches reuse input buffers.
  const MODES = [
    ['model on an inference thread', '', { modelParallelism: 1 }],
    ["model on the worker's main thread", '_main', { modelParallelism: availableParallelism() }],
  ] as const;

  it.each(MODES)(
    'batched (%s), 1000 concurrent predictions are each answered once and correctly',
    async (_mode, suffix, mode) => {
      expect(availableParallelism()).toBeGreaterThan(1);
      const job = `mlp_batched${suffix}`;
      const queue = await serve(job, 'mlp', { maxBatchSize: 32, maxBatchDelayMs: 2, ...mode });
      const inputs = Array.from({ length: 1000 }, (_, i) => seeded(1000 + i, 4));
      const results = await Promise.all(
        inputs.map((input) => queue.predict({ input: { data: input, shape: [1, 4] } })),
      );
      results.forEach((result, i) => {
        if (result.kind !== 'tensors') throw new Error(`request ${i} got ${result.kind}`);
        expectClose(result.outputs['output'], mlpReference(inputs[i] as Float32Array, 1), 1e-6);
      });
      const stats = await redis.client().hgetall(`cs:${job}:stats`);
      expect(Number(stats['processed'])).toBe(1000);
      // Dynamic batching really happened: fewer runs than requests.
      expect(Number(stats['batches'])).toBeLessThan(1000);
    },
  );

  it.each(MODES)(
    'batched (%s), two-input predictions match session.run within 1e-6 relative',
    async (_mode, suffix, mode) => {
      const queue = await serve(`twoio_batched${suffix}`, 'two-io', {
        maxBatchSize: 16,
        maxBatchDelayMs: 2,
        ...mode,
      });
      const pairs = Array.from(
        { length: 200 },
        (_, i) => [seeded(i * 2 + 1, 4), seeded(i * 2 + 2, 4)] as const,
      );
      const results = await Promise.all(
        pairs.map(([a, b]) =>
          queue.predict({ a: { data: a, shape: [1, 4] }, b: { data: b, shape: [1, 4] } }),
        ),
      );
      for (let i = 0; i < pairs.length; i++) {
        const [a, b] = pairs[i] as readonly [Float32Array, Float32Array];
        const expected = await direct(join(dir, 'two-io.onnx'), { a, b }, [1, 4]);
        const result = results[i];
        if (result?.kind !== 'tensors') throw new Error('expected tensors');
        expectClose(result.outputs['sum'], expected['sum'] as Float32Array, 1e-6);
        expectClose(result.outputs['score'], expected['score'] as Float32Array, 1e-6);
      }
    },
  );

  it('a client that predicts with no worker gets a clear error at once', async () => {
    const queue = new InputQueue({ redisUrl: redis.url, name: 'nobody_serves_this' });
    queues.push(queue);
    await expect(
      queue.predict({ input: { data: new Float32Array(4), shape: [1, 4] } }),
    ).rejects.toMatchObject({
      code: 'CS_ERR_NO_WORKER',
      message: expect.stringContaining('no live worker serves job "nobody_serves_this"'),
    });
  });
});
