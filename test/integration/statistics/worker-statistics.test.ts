import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputQueue } from '../../../src/client/input-queue.js';
import { encodeBigdlInput } from '../../../src/protocol/bigdl-input.js';
import { keys } from '../../../src/redis/keys.js';
import {
  DURATION_STATS,
  readSlots,
  readTotals,
  SLOT_TTL_SECONDS,
  slotIndex,
} from '../../../src/redis/stats-schema.js';
import { writeModel, type ModelKind } from '../../fixtures/onnx-models.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startWorker, writeConfig, type WorkerProcess } from '../../helpers/worker-process.js';

describe('statistics written by workers', () => {
  let redis: TestRedis;
  let raw: Redis;
  const workers: WorkerProcess[] = [];
  let queue: InputQueue | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
  });

  afterAll(async () => {
    await queue?.close();
    for (const worker of workers) await worker.kill();
    raw.disconnect();
    await redis.stop();
  });

  /** One worker of `job` on a fresh model of this kind. */
  async function serve(job: string, kind: ModelKind): Promise<void> {
    const modelPath = await writeModel(await mkdtemp(join(tmpdir(), 'cs-stats-')), kind);
    const config = await writeConfig({ modelPath, jobName: job, redisUrl: redis.url, modelParallelism: 1 });
    workers.push(await startWorker(config));
  }

  it('count successes, failures and their durations in the totals and in the current slot', async () => {
    const job = 'stats_job';
    await serve(job, 'mlp');
    queue = new InputQueue({ redisUrl: redis.url, name: job });
    const good = 6;
    for (let i = 0; i < good; i++) {
      const result = await queue.predict({ input: { data: new Float32Array([1, 2, 3, i]), shape: [1, 4] } });
      expect(result.kind).toBe('tensors');
    }
    // A record the worker cannot decode: answered with an error, counted as a failure.
    await raw.xadd(job, '*', 'uri', 'broken', 'serde', 'pickle', 'data', 'x');
    await waitFor(async () => (await raw.hget(keys.result(job, 'broken'), 'error')) ?? undefined, {
      timeoutMs: 10_000,
      what: 'the broken record answered',
    });

    const totals = await readTotals(raw, job);
    expect(totals.inferenceCount).toBe(good);
    expect(totals.stats.success.count).toBe(good);
    expect(totals.stats.fail.count).toBe(1);
    expect(totals.stats.queue.count).toBe(good + 1);
    expect(totals.stats.compute_infer.count).toBe(good);
    expect(totals.stats.compute_infer.ns).toBeGreaterThan(0);
    expect(totals.executionCount).toBeGreaterThanOrEqual(1);
    expect([...totals.batches.values()].reduce((n, b) => n + b.count, 0)).toBe(totals.executionCount);
    expect(totals.lastInference).toBeGreaterThan(Date.now() - 60_000);
    for (const stat of DURATION_STATS) expect(Number.isSafeInteger(totals.stats[stat].ns)).toBe(true);

    const slots = await readSlots(raw, job, Date.now(), 6);
    const sum = (pick: (s: (typeof slots)[number]) => number): number =>
      slots.reduce((n, slot) => n + pick(slot), 0);
    expect(sum((s) => s.workerOk)).toBe(good);
    expect(sum((s) => s.workerFail)).toBe(1);
    expect(sum((s) => s.workerLatency.reduce((a, b) => a + b, 0))).toBe(good + 1);
    const written = slots.filter((s) => s.workerOk + s.workerFail > 0);
    for (const slot of written) {
      const ttl = await raw.ttl(keys.statsSlot(job, slotIndex(slot.start)));
      expect(ttl).toBeGreaterThan(30 * 60);
      expect(ttl).toBeLessThanOrEqual(SLOT_TTL_SECONDS);
    }
  });

  it('a result that runs but cannot be written (no elements, in BigDL form) counts as a failure', async () => {
    const job = 'stats_empty';
    await serve(job, 'identity');
    // A sample of shape [0] runs as [1,0] and gives an output of no elements, which BigDL's
    // result form cannot carry: the record is answered as a failure.
    const empty = encodeBigdlInput([{ name: 'x', type: 'FP32', shape: [0], data: new Float32Array(0) }]);
    await raw.xadd(job, '*', 'uri', 'empty', 'data', empty);
    await waitFor(async () => (await raw.hget(keys.result(job, 'empty'), 'error')) ?? undefined, {
      timeoutMs: 10_000,
      what: 'the empty result answered',
    });
    const totals = await readTotals(raw, job);
    expect(totals.stats.fail.count).toBe(1);
    expect(totals.stats.success.count).toBe(0);
    const slots = await readSlots(raw, job, Date.now(), 6);
    expect(slots.reduce((n, slot) => n + slot.workerFail, 0)).toBe(1);
    expect(slots.reduce((n, slot) => n + slot.workerOk, 0)).toBe(0);
  });
});
