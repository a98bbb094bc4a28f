import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBigdlInput } from '../../../src/protocol/bigdl-input.js';
import { encodePackedRequest } from '../../../src/contracts/request-pack.js';
import { SERDE } from '../../../src/contracts/stream-entry.js';
import { readStats } from '../../../src/redis/job-state.js';
import { keys } from '../../../src/redis/keys.js';
import { writeModel } from '../../fixtures/onnx-models.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startWorker, writeConfig, type WorkerProcess } from '../../helpers/worker-process.js';

describe('entries a worker cannot answer (no uri, one over 4 KB, a pack that cannot be read)', () => {
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

  it('a pack entry that is cut or has no reply channel is removed, counted as dropped bad_pack, and its requests leave the queue count', async () => {
    const job = 'bad_pack';
    const r = redis.client();
    const whole = encodePackedRequest('a', SERDE.tensor, Date.now() + 60_000, Buffer.from('frame'));
    await r.xadd(
      job,
      '*',
      'uri',
      'p1',
      'serde',
      'pack',
      'reply',
      'ch',
      'count',
      '2',
      'data',
      Buffer.concat([whole, whole.subarray(0, 9)]),
    );
    await r.xadd(
      job,
      '*',
      'uri',
      'p2',
      'serde',
      'pack',
      'count',
      '3',
      'data',
      Buffer.concat([whole, whole, whole]),
    );
    await r.set(keys.packedExtra(job), '3');
    const dir = await mkdtemp(join(tmpdir(), 'cs-models-'));
    await writeModel(dir, 'mlp');
    const second = await startWorker(
      await writeConfig({ modelPath: join(dir, 'mlp.onnx'), jobName: job, redisUrl: redis.url }),
    );
    try {
      await waitFor(async () => (await readStats(r, job)).dropped['bad_pack'] === 2, {
        what: 'two packs counted as dropped bad_pack',
      });
      expect(await r.xlen(job)).toBe(0);
      expect(await r.exists(keys.packedExtra(job))).toBe(0);
      const lines = second
        .stderr()
        .split('\n')
        .filter((l) => l.includes('pack entry removed unanswered'));
      expect(lines.join('\n')).toMatch(/runs past the end of the pack/);
      expect(lines.join('\n')).toMatch(/no reply channel/);
    } finally {
      await second.kill();
    }
  });
});
