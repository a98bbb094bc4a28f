import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBigdlInput } from '../../../src/protocol/bigdl-input.js';
import { readStats } from '../../../src/redis/job-state.js';
import { writeModel } from '../../fixtures/onnx-models.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startWorker, writeConfig, type WorkerProcess } from '../../helpers/worker-process.js';

describe('entries a worker cannot answer (no uri, or one over 4 KB)', () => {
  let redis: TestRedis;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await worker?.kill();
    await redis.stop();
  });

  it('are removed from the stream, counted as dropped no_uri and logged, while the others are answered', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cs-models-'));
    await writeModel(dir, 'mlp');
    const job = 'no_uri';
    worker = await startWorker(
      await writeConfig({ modelPath: join(dir, 'mlp.onnx'), jobName: job, redisUrl: redis.url }),
    );
    const r = redis.client();
    const data = encodeBigdlInput([
      { name: 'input', type: 'FP32', shape: [4], data: Float32Array.from([1, 2, 3, 4]) },
    ]);
    await r.xadd(job, '*', 'data', data);
    await r.xadd(job, '*', 'uri', '', 'data', data);
    await r.xadd(job, '*', 'uri', 'u'.repeat(4097), 'data', data);
    await r.xadd(job, '*', 'uri', 'fine', 'data', data);
    await waitFor(async () => (await r.hget(`cluster-serving_${job}:fine`, 'value')) ?? undefined, {
      what: 'the entry with a uri answered',
    });
    await waitFor(async () => (await readStats(r, job)).dropped['no_uri'] === 3, {
      what: 'three entries counted as dropped no_uri',
    });
    // Nothing left pending or in the stream: they do not wait for a claim that cannot help.
    expect(await r.xlen(job)).toBe(0);
    expect(((await r.xpending(job, 'serving')) as unknown[])[0]).toBe(0);
    const stats = await readStats(r, job);
    expect(stats.processed).toBe(1);
    const logged = await waitFor(
      () => {
        const lines = (worker?.stderr() ?? '').split('\n').filter((l) => l.includes('without a usable uri'));
        return lines.length === 3 && lines;
      },
      { what: 'three log lines' },
    );
    expect(logged.map((l) => (JSON.parse(l) as { uriBytes: number | null }).uriBytes).sort()).toEqual([
      0,
      4097,
      null,
    ]);
  });
});
