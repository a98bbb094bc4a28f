import { describe, expect, it } from 'vitest';
import { Producer, type Prediction } from '../../../src/client/producer.js';
import { isCsError } from '../../../src/errors/registry.js';
import type { NamedTensor } from '../../../src/protocol/tensor.js';
import { readModelMetadata, readQueueState } from '../../../src/redis/job-state.js';
import { keys } from '../../../src/redis/keys.js';
import { mlpReference } from '../../fixtures/onnx-models.js';
import { queuedRequests } from '../../helpers/queued-requests.js';
import { waitFor } from '../../helpers/wait-for.js';
import type { WorkerProcess } from '../../helpers/worker-process.js';
import { workerSuite } from '../../helpers/worker-suite.js';

/** What one submit came to: the worker's answer, or the producer's coded error. */
type Outcome = { readonly answer: Prediction } | { readonly code: string };

const sample = (i: number): Float32Array => Float32Array.from([i, -i / 2, i / 3, 1 - i]);
const mlpInput = (i: number): NamedTensor[] => [
  { name: 'input', type: 'FP32', shape: [1, 4], data: sample(i) },
];

describe('requests submitted together travel in one pack entry', () => {
  const suite = workerSuite(['mlp', 'spin']);
  const { closers } = suite;

  async function producer(job: string, extra: { maxQueueLength?: number } = {}): Promise<Producer> {
    const p = new Producer({ redisUrl: suite.redis.url, job, ...extra });
    closers.push(() => p.stop());
    await p.start();
    return p;
  }

  const worker = (
    job: string,
    model: 'mlp' | 'spin',
    extra: Record<string, unknown> = {},
  ): Promise<WorkerProcess> => suite.worker(job, model, extra);

  function outcome(pending: Promise<Prediction>): Promise<Outcome> {
    return pending.then(
      (answer) => ({ answer }),
      (error: unknown) => ({ code: isCsError(error) ? error.code : `uncoded: ${String(error)}` }),
    );
  }

  function outputOf(result: Outcome): Float32Array {
    if (!('answer' in result) || result.answer.kind !== 'tensors')
      throw new Error(`expected tensors, got ${JSON.stringify(result)}`);
    return result.answer.outputs[0]?.data as Float32Array;
  }

  async function statsOf(job: string): Promise<Record<string, string>> {
    return suite.redis.client().hgetall(keys.stats(job));
  }

  it('one bad request among many fails alone; the others are answered, all from one entry', async () => {
    const job = 'pack_bad_one';
    const p = await producer(job);
    const pending = Array.from({ length: 8 }, (_, i) =>
      outcome(
        p.submit(
          i === 5 ? [{ name: 'input', type: 'FP32', shape: [1, 5], data: new Float32Array(5) }] : mlpInput(i),
          {
            timeoutMs: 30_000,
          },
        ),
      ),
    );
    const admin = suite.redis.client();
    await waitFor(async () => (await queuedRequests(admin, job)) === 8, { what: '8 requests queued' });
    expect(await admin.xlen(job)).toBe(1);
    await worker(job, 'mlp');
    const results = await Promise.all(pending);
    results.forEach((result, i) => {
      if (i === 5) {
        expect(result).toMatchObject({ answer: { kind: 'error', code: 'CS_ERR_INPUT_MISMATCH' } });
        return;
      }
      const expected = mlpReference(sample(i), 1);
      outputOf(result).forEach((v, j) => expect(v).toBeCloseTo(expected[j] as number, 5));
    });
    const stats = await statsOf(job);
    expect(stats['processed']).toBe('8');
    expect(stats['errors:CS_ERR_INPUT_MISMATCH']).toBe('1');
    expect(await admin.exists(keys.packedExtra(job))).toBe(0);
    // Answers travel on the reply channel only: no result hash is left behind.
    expect(await admin.keys(`${keys.result(job, '')}*`)).toEqual([]);
  });

  it('a deadline that passes inside a pack fails that request alone', async () => {
    const job = 'pack_deadline';
    const p = await producer(job);
    const pending = [0, 1, 2, 3].map((i) =>
      outcome(p.submit(mlpInput(i), { timeoutMs: i === 2 ? 200 : 30_000 })),
    );
    // The short one is told CS_ERR_TIMEOUT by its producer while no worker runs...
    expect(await pending[2]).toEqual({ code: 'CS_ERR_TIMEOUT' });
    await worker(job, 'mlp');
    const results = await Promise.all(pending);
    for (const i of [0, 1, 3]) expect(outputOf(results[i] as Outcome)).toHaveLength(3);
    // ...and the worker skips it as past its deadline instead of running it.
    await waitFor(async () => (await statsOf(job))['processed'] === '4', { what: 'the pack settled' });
    expect((await statsOf(job))['errors:CS_ERR_DEADLINE_EXCEEDED']).toBe('1');
  });

  it('maxQueueLength counts requests: a pack takes what fits, the rest is refused, and room comes back once answered', async () => {
    const job = 'pack_bound';
    const p = await producer(job, { maxQueueLength: 5 });
    const submitted = Array.from({ length: 8 }, (_, i) =>
      outcome(p.submit(mlpInput(i), { timeoutMs: 30_000 })),
    );
    const first = await Promise.all(submitted.slice(5));
    expect(first).toEqual(Array(3).fill({ code: 'CS_ERR_QUEUE_FULL' }));
    const admin = suite.redis.client();
    expect(await queuedRequests(admin, job)).toBe(5);
    expect(await admin.get(keys.packedExtra(job))).toBe('4');
    // /metrics and the dashboard count as the bound does: one entry, five requests.
    expect((await readQueueState(admin, job)).queuedRequests).toBe(5);
    expect(await outcome(p.submit(mlpInput(9), { timeoutMs: 30_000 }))).toEqual({
      code: 'CS_ERR_QUEUE_FULL',
    });
    await worker(job, 'mlp');
    await waitFor(async () => (await statsOf(job))['processed'] === '5', { what: 'the 5 accepted answered' });
    expect(await admin.exists(keys.packedExtra(job))).toBe(0);
    const later = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => outcome(p.submit(mlpInput(i), { timeoutMs: 30_000 }))),
    );
    for (const result of later) expect(outputOf(result)).toHaveLength(3);
    expect((await readQueueState(admin, job)).queuedRequests).toBe(0);
    // A count a crash left behind holds nothing once the stream is empty.
    await admin.set(keys.packedExtra(job), '7');
    expect((await readQueueState(admin, job)).queuedRequests).toBe(0);
  });

  it("a pack holds at most the job's maxBatchSize requests, once its workers published it", async () => {
    const job = 'pack_batch_size';
    const first = await worker(job, 'mlp', { maxBatchSize: 4 });
    const p = await producer(job);
    const admin = suite.redis.client();
    p.adoptJobBound(await readModelMetadata(admin, job));
    expect(await first.stop()).toBe(0);
    const pending = Array.from({ length: 10 }, (_, i) =>
      outcome(p.submit(mlpInput(i), { timeoutMs: 30_000 })),
    );
    await waitFor(async () => (await queuedRequests(admin, job)) === 10, { what: '10 requests queued' });
    const counts = (await admin.xrange(job, '-', '+')).map(
      ([, fields]) => fields[fields.indexOf('count') + 1],
    );
    expect(counts).toEqual(['4', '4', '2']);
    await worker(job, 'mlp', { maxBatchSize: 4 });
    for (const result of await Promise.all(pending)) expect(outputOf(result)).toHaveLength(3);
  });

  it('a worker killed while it runs a pack: another claims the entry and answers every request of it once', async () => {
    const job = 'pack_killed';
    const first = await worker(job, 'spin', { maxBatchSize: 8 });
    const p = await producer(job);
    const rows = 12;
    const pending = Array.from({ length: 6 }, (_, i) =>
      outcome(
        p.submit(
          [
            {
              name: 'x',
              type: 'FP32',
              shape: [rows, 1024],
              data: new Float32Array(rows * 1024).fill(i / 10),
            },
          ],
          {
            timeoutMs: 60_000,
          },
        ),
      ),
    );
    const admin = suite.redis.client();
    await waitFor(
      async () => {
        const summary = (await admin.xpending(job, 'serving')) as [number, ...unknown[]];
        return summary[0] === 1;
      },
      { what: 'the pack taken by the first worker' },
    );
    await first.kill();
    await worker(job, 'spin', { maxBatchSize: 8 });
    const results = await Promise.all(pending);
    results.forEach((result, i) => {
      const out = outputOf(result);
      expect(out).toHaveLength(rows * 1024);
      // Each request got its own answer back (the rows of request i all start from i/10).
      const again = results.findIndex((other) => outputOf(other)[0] === out[0]);
      expect(again).toBe(i);
    });
    const stats = await statsOf(job);
    expect(stats['processed']).toBe('6');
    expect(stats['dropped:not_pending']).toBeUndefined();
    expect(await admin.xlen(job)).toBe(0);
  });
});
