import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputQueue } from '../../../src/client/input-queue.js';
import { OutputQueue } from '../../../src/client/output-queue.js';
import { encodeBigdlInput } from '../../../src/protocol/bigdl-input.js';
import { mlpReference, twoIoReference } from '../../fixtures/onnx-models.js';
import { workerSuite } from '../../helpers/worker-suite.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startWorker, writeConfig } from '../../helpers/worker-process.js';

const sample = Float32Array.from([0.5, -1, 2, 0.25]);

function expectClose(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(Math.abs((actual[i] as number) - e)).toBeLessThan(1e-5));
}

describe('TypeScript client against a worker', () => {
  const suite = workerSuite(['mlp', 'two-io']);
  const { workers, closers } = suite;

  function inputQueue(options: ConstructorParameters<typeof InputQueue>[0]): InputQueue {
    const queue = new InputQueue({ redisUrl: suite.redis.url, ...options });
    closers.push(() => queue.close());
    return queue;
  }

  async function serve(job: string, model: string, extra: Record<string, unknown> = {}): Promise<string> {
    const path = await writeConfig({
      modelPath: join(suite.dir, `${model}.onnx`),
      jobName: job,
      redisUrl: suite.redis.url,
      ...extra,
    });
    workers.push(await startWorker(path));
    return path;
  }

  it('waitForWorker: a prediction sent before any worker runs is answered once one starts', async () => {
    const queue = inputQueue({ name: 'late_worker', waitForWorker: true });
    const pending = queue.predict({ input: { data: sample, shape: [1, 4] } }, { timeoutMs: 30_000 });
    const path = await writeConfig({
      modelPath: join(suite.dir, 'mlp.onnx'),
      jobName: 'late_worker',
      redisUrl: suite.redis.url,
    });
    workers.push(await startWorker(path));
    const result = await pending;
    if (result.kind !== 'tensors') throw new Error('expected tensors');
    expectClose(result.outputs['output']?.data as Float32Array, mlpReference(sample, 1));
  });

  it("serde 'bigdl' writes BigDL's Arrow form (samples without the batch dim) and reads BigDL's result", async () => {
    await serve('bigdl_client', 'mlp');
    const queue = inputQueue({ name: 'bigdl_client', serde: 'bigdl' });
    const result = await queue.predict({ input: { data: sample, shape: [4] } });
    if (result.kind !== 'tensors') throw new Error('expected tensors');
    const [output] = Object.values(result.outputs);
    expect(output?.type).toBe('FP32');
    expect(output?.shape).toEqual([1, 3]);
    expectClose(output?.data as Float32Array, mlpReference(sample, 1));
  });

  it('BigDL columns with other names map to the inputs by position', async () => {
    await serve('by_position', 'two-io');
    const a = Float32Array.from([1, 2, 3, 4]);
    const b = Float32Array.from([-1, 0.5, 2, 1]);
    const r = suite.redis.client();
    const data = encodeBigdlInput([
      { name: 'first', type: 'FP32', shape: [4], data: a },
      { name: 'second', type: 'FP32', shape: [4], data: b },
    ]);
    await r.xadd('by_position', '*', 'uri', 'pos-1', 'data', data);
    const out = new OutputQueue({ redisUrl: suite.redis.url, name: 'by_position' });
    closers.push(() => out.close());
    const result = await waitFor(
      async () => {
        const q = await out.query('pos-1');
        return q.status === 'pending' ? undefined : q;
      },
      { what: 'the by-position result' },
    );
    if (result.status !== 'tensors') throw new Error(`expected tensors, got ${JSON.stringify(result)}`);
    const expected = twoIoReference(a, b, 1);
    expectClose(result.outputs['output0']?.data as Float32Array, expected.sum);
    expectClose(result.outputs['output1']?.data as Float32Array, expected.score);
  });

  it('enqueue + OutputQueue.query: pending first, then the typed result; a wrong shape is an error by type, not "NaN"', async () => {
    const job = 'enqueue_query';
    const queue = inputQueue({ name: job });
    const out = new OutputQueue({ redisUrl: suite.redis.url, name: job });
    closers.push(() => out.close());
    await queue.enqueue('q:1', { input: { data: sample, shape: [1, 4] } });
    await queue.enqueue('q:2', { input: { data: Float32Array.from([1, 2, 3]), shape: [1, 3] } });
    // No worker yet: the entries wait in the stream.
    expect(await out.query('q:1')).toEqual({ status: 'pending' });
    await serve(job, 'mlp');
    const ok = await waitFor(async () => {
      const q = await out.query('q:1');
      return q.status === 'pending' ? undefined : q;
    });
    if (ok.status !== 'tensors') throw new Error('expected tensors');
    expectClose(ok.outputs['output']?.data as Float32Array, mlpReference(sample, 1));
    const bad = await waitFor(async () => {
      const q = await out.query('q:2');
      return q.status === 'pending' ? undefined : q;
    });
    expect(bad).toMatchObject({ status: 'error', code: 'CS_ERR_INPUT_MISMATCH' });
    if (bad.status === 'error') expect(bad.message).toContain('expects shape [N,4], got [1,3]');
  });

  it('predict throws the worker reason for a bad input, and CS_ERR_TIMEOUT when no answer comes in time', async () => {
    await serve('reasons', 'mlp');
    const queue = inputQueue({ name: 'reasons' });
    await expect(
      queue.predict({ input: { data: Float32Array.from([1, 2]), shape: [1, 2] } }),
    ).rejects.toMatchObject({
      code: 'CS_ERR_INPUT_MISMATCH',
      message: expect.stringContaining('input "input" expects shape [N,4]'),
    });
    // A job with a live heartbeat but nobody reading: the request times out on the wall clock.
    const r = suite.redis.client();
    await r.zadd('cs:silent:workers', Date.now() + 60_000, 'ghost');
    const silent = inputQueue({ name: 'silent' });
    const started = Date.now();
    await expect(
      silent.predict({ input: { data: sample, shape: [1, 4] } }, { timeoutMs: 300 }),
    ).rejects.toMatchObject({
      code: 'CS_ERR_TIMEOUT',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("without a bound of its own, the client refuses at the job's maxQueueLength, as its workers publish it", async () => {
    const path = await writeConfig({
      modelPath: join(suite.dir, 'mlp.onnx'),
      jobName: 'job_bound',
      redisUrl: suite.redis.url,
      maxQueueLength: 3,
    });
    const worker = await startWorker(path);
    workers.push(worker);
    expect(await worker.stop()).toBe(0);
    const r = suite.redis.client();
    for (let i = 0; i < 3; i++) await r.xadd('job_bound', '*', 'uri', `x${i}`, 'data', 'x');
    await r.zadd('cs:job_bound:workers', Date.now() + 60_000, 'ghost');
    const queue = inputQueue({ name: 'job_bound' });
    await expect(
      queue.predict({ input: { data: sample, shape: [1, 4] } }, { timeoutMs: 5000 }),
    ).rejects.toMatchObject({
      code: 'CS_ERR_QUEUE_FULL',
      message: expect.stringContaining('(3 requests)'),
    });
    await expect(queue.enqueue('late', { input: { data: sample, shape: [1, 4] } })).rejects.toMatchObject({
      code: 'CS_ERR_QUEUE_FULL',
    });
    expect(await r.xlen('job_bound')).toBe(3);
  });

  it('refuses at once when the queue holds maxQueueLength entries', async () => {
    const queue = inputQueue({ name: 'bounded', maxQueueLength: 5, waitForWorker: false });
    const r = suite.redis.client();
    for (let i = 0; i < 5; i++) await r.xadd('bounded', '*', 'uri', `x${i}`, 'data', 'x');
    await r.zadd('cs:bounded:workers', Date.now() + 60_000, 'ghost');
    await expect(
      queue.predict({ input: { data: sample, shape: [1, 4] } }, { timeoutMs: 5000 }),
    ).rejects.toMatchObject({
      code: 'CS_ERR_QUEUE_FULL',
    });
    expect(await r.xlen('bounded')).toBe(5);
  });
});
