import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { writeModel } from '../../fixtures/onnx-models.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startWorker, writeConfig, type WorkerProcess } from '../../helpers/worker-process.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** A ready worker of a job whose Redis is then killed (SIGKILL: nothing answers any more). */
async function workerWithRedisGone(): Promise<WorkerProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'cs-stop-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const redis: TestRedis = await startRedis();
  cleanups.push(() => redis.stop());
  const config = await writeConfig({
    modelPath: await writeModel(dir, 'mlp'),
    jobName: 'bounded',
    redisUrl: redis.url,
  });
  const worker = await startWorker(config);
  cleanups.push(() => worker.kill());
  await redis.stop();
  return worker;
}

function exitCodeWithin(worker: WorkerProcess, timeoutMs: number, what: string): Promise<number | null> {
  let code: number | null | undefined;
  void worker.exited.then((c) => (code = c));
  return waitFor(() => (code === undefined ? undefined : { code }), { timeoutMs, what }).then((r) => r.code);
}

describe('stopping a worker while Redis is down', { timeout: 120_000 }, () => {
  it('SIGTERM: the worker exits within its stop bound instead of waiting for Redis', async () => {
    const worker = await workerWithRedisGone();
    worker.child.kill('SIGTERM');
    // The bound is 10 s (README, Reliability); before, it waited for Redis to come back.
    const code = await exitCodeWithin(worker, 40_000, 'the worker to exit after SIGTERM');
    expect(code).toBe(0);
    expect(worker.stderr()).toContain('stopping without acknowledging the batch in hand');
  });

  it('a second signal exits at once with 128 + its number', async () => {
    const worker = await workerWithRedisGone();
    // Two different signals: two of the same sent together may reach the process as one.
    worker.child.kill('SIGINT');
    worker.child.kill('SIGTERM');
    const code = await exitCodeWithin(worker, 40_000, 'the worker to exit after a second signal');
    // Pending together, they may be handled in either order: 130 (SIGINT) or 143 (SIGTERM)
    // for the second; a graceful stop would exit 0, and before there was no exit at all.
    expect([130, 143]).toContain(code);
  });
});
