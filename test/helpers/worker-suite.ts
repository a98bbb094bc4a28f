import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { writeModel, type ModelKind } from '../fixtures/onnx-models.js';
import { startRedis, type TestRedis } from './redis-server.js';
import { startWorker, writeConfig, type WorkerProcess } from './worker-process.js';

/**
 * What a describe block of worker tests shares: a real Redis, a directory of generated models,
 * and everything to close or kill after its last test (also when one fails).
 */
export interface WorkerSuite {
  readonly redis: TestRedis;
  /** Holds `<kind>.onnx` for each model kind the suite was made with. */
  readonly dir: string;
  readonly workers: WorkerProcess[];
  readonly closers: (() => Promise<void>)[];
  /** Starts a worker of `job` on `<dir>/<model>.onnx`, killed after the suite. */
  worker(job: string, model: ModelKind, extra?: Record<string, unknown>): Promise<WorkerProcess>;
}

/** Registers the suite's beforeAll and afterAll; `redis` and `dir` are there once beforeAll ran. */
export function workerSuite(models: readonly ModelKind[]): WorkerSuite {
  let redis: TestRedis | undefined;
  let dir: string | undefined;
  const workers: WorkerProcess[] = [];
  const closers: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    const made = await mkdtemp(join(tmpdir(), 'cs-models-'));
    for (const model of models) await writeModel(made, model);
    dir = made;
  });
  afterAll(async () => {
    for (const close of closers) await close();
    for (const w of workers) await w.kill();
    await redis?.stop();
  });
  const suite: WorkerSuite = {
    get redis(): TestRedis {
      if (redis === undefined) throw new Error('the suite has no Redis before beforeAll');
      return redis;
    },
    get dir(): string {
      if (dir === undefined) throw new Error('the suite has no model directory before beforeAll');
      return dir;
    },
    workers,
    closers,
    async worker(job, model, extra = {}): Promise<WorkerProcess> {
      const path = await writeConfig({
        modelPath: join(suite.dir, `${model}.onnx`),
        jobName: job,
        redisUrl: suite.redis.url,
        ...extra,
      });
      const started = await startWorker(path);
      workers.push(started);
      return started;
    },
  };
  return suite;
}
