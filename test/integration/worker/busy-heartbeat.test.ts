import { availableParallelism, tmpdir } from 'node:os';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBigdlInput } from '../../../src/protocol/bigdl-input.js';
import { liveWorkers, readStats } from '../../../src/redis/job-state.js';
import { SPIN_WIDTH, writeModel } from '../../fixtures/onnx-models.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startWorker, writeConfig, type WorkerProcess } from '../../helpers/worker-process.js';

/** Rows of the `spin` model in one run: several seconds of CPU, more than three heartbeats. */
const ENTRIES = 2000;

describe('a worker busy on a long run on its main thread', () => {
  let redis: TestRedis;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    for (const w of workers) await w.kill();
    await redis.stop();
  });

  it('stays live, keeps its entries, and every entry runs and is answered once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cs-models-'));
    await writeModel(dir, 'spin');
    const job = 'busy_main';
    const path = await writeConfig({
      modelPath: join(dir, 'spin.onnx'),
      jobName: job,
      redisUrl: redis.url,
      // Models fill the cores: each worker runs its model on its main thread.
      modelParallelism: availableParallelism(),
      threadPerModel: 1,
      maxBatchSize: ENTRIES,
    });
    const r = redis.client();
    const data = encodeBigdlInput([
      { name: 'x', type: 'FP32', shape: [SPIN_WIDTH], data: new Float32Array(SPIN_WIDTH).fill(0.01) },
    ]);
    const pipeline = r.pipeline();
    for (let i = 0; i < ENTRIES; i++) pipeline.xadd(job, '*', 'uri', `e${i}`, 'data', data);
    await pipeline.exec();

    // The first worker takes every entry in one read and runs them as one batch.
    const busy = await startWorker(path);
    workers.push(busy);
    const other = await startWorker(path);
    workers.push(other);

    // Until every entry is answered, the busy worker must never look dead to the other one.
    const missed: number[] = [];
    await waitFor(
      async () => {
        const live = (await liveWorkers(r, job)).map((w) => w.consumer);
        if (!live.includes(busy.consumer)) missed.push(Date.now());
        return (await readStats(r, job)).processed >= ENTRIES;
      },
      { what: `${ENTRIES} entries answered`, timeoutMs: 120_000, intervalMs: 200 },
    );
    expect(missed).toEqual([]);
    await waitFor(async () => (await r.xlen(job)) === 0, { what: 'the stream emptied' });
    const stats = await readStats(r, job);
    // Every row ran once: the other worker took nothing over and nothing was answered twice.
    const rowsRun = Object.entries(stats.batchSizes).reduce(
      (n, [size, count]) => n + Number(size) * count,
      0,
    );
    expect(rowsRun).toBe(ENTRIES);
    expect(stats.processed).toBe(ENTRIES);
    expect(stats.dropped).toEqual({});
    // A worker that stops leaves the live set on its way out, not three heartbeats later.
    expect(await other.stop()).toBe(0);
    expect((await liveWorkers(r, job)).map((w) => w.consumer)).toEqual([busy.consumer]);
  });
});
