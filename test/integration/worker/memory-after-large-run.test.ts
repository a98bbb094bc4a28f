import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputQueue } from '../../../src/client/input-queue.js';
import { CNN_SPEC, writeModel } from '../../fixtures/onnx-models.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startWorker, writeConfig, type WorkerProcess } from '../../helpers/worker-process.js';

const MB = 1024 * 1024;
/** Rows of the large record: four times the default maxRecordBatch, allowed by this job's config. */
const LARGE_ROWS = 1024;

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

describe('worker memory after an unusually large run', () => {
  let redis: TestRedis;
  let worker: WorkerProcess | undefined;
  let queue: InputQueue | undefined;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await queue?.close();
    await worker?.kill();
    await redis.stop();
  });

  it('is back within 200 MB of its baseline within 10 s', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cs-models-'));
    await writeModel(dir, 'cnn');
    worker = await startWorker(
      await writeConfig({
        modelPath: join(dir, 'cnn.onnx'),
        jobName: 'large_run',
        redisUrl: redis.url,
        maxRecordBatch: LARGE_ROWS,
      }),
    );
    const pid = worker.child.pid ?? 0;
    queue = new InputQueue({ redisUrl: redis.url, name: 'large_run', timeoutMs: 120_000 });
    const { channels, size } = CNN_SPEC;
    const image = (rows: number): { data: Float32Array; shape: number[] } => ({
      data: new Float32Array(rows * channels * size * size).fill(0.5),
      shape: [rows, channels, size, size],
    });
    expect((await queue.predict({ image: image(1) })).kind).toBe('tensors');
    const baseline = rssBytes(pid);

    const large = await queue.predict({ image: image(LARGE_ROWS) });
    expect(large.kind === 'tensors' ? large.outputs['logits']?.shape : undefined).toEqual([LARGE_ROWS, 10]);
    let now = rssBytes(pid);
    const back = await waitFor(
      () => {
        now = rssBytes(pid);
        return now <= baseline + 200 * MB;
      },
      { what: 'the worker RSS back within 200 MB of its baseline', timeoutMs: 10_000, intervalMs: 250 },
    ).catch(() => false);
    expect(back, `baseline ${Math.round(baseline / MB)} MB, RSS ${Math.round(now / MB)} MB 10 s later`).toBe(
      true,
    );
    // The worker still serves.
    expect((await queue.predict({ image: image(1) })).kind).toBe('tensors');
  });
});
