import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSlots } from '../../../src/redis/stats-schema.js';
import type { ForkedProcess } from '../../helpers/child-process.js';
import { mlpReference, writeModel } from '../../fixtures/onnx-models.js';
import { freePort, startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startWorker, writeConfig, type WorkerProcess } from '../../helpers/worker-process.js';
import { expectClose, forkFrontend, getJson, postJson, seeded } from '../frontend/frontend-harness.js';

const JOB = 'stats_frontend';

describe('statistics across two workers and a frontend of two processes', () => {
  let redis: TestRedis;
  let raw: Redis;
  const workers: WorkerProcess[] = [];
  let frontend: ForkedProcess | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
    const dir = await mkdtemp(join(tmpdir(), 'cs-stats-frontend-'));
    const config = await writeConfig({
      modelPath: await writeModel(dir, 'mlp'),
      jobName: JOB,
      redisUrl: redis.url,
    });
    workers.push(await startWorker(config), await startWorker(config));
    const port = await freePort();
    frontend = forkFrontend(['--config', config, '--port', String(port), '--processes', '2']);
  });

  afterAll(async () => {
    if (frontend !== undefined && frontend.child.exitCode === null) {
      frontend.child.kill('SIGKILL');
      await frontend.exited;
    }
    for (const worker of workers) await worker.kill();
    raw.disconnect();
    await redis.stop();
  });

  it('sums every process in Triton statistics and in the shared slots', async () => {
    const running = frontend as ForkedProcess;
    const ready = await waitFor(
      () => running.messages.find((m) => m.type === 'state' && m.state === 'ready'),
      {
        timeoutMs: 30_000,
        what: `frontend ready (stderr: ${running.stderr()})`,
      },
    );
    const url = ready.url ?? '';
    const inputs = Array.from({ length: 40 }, (_, i) => seeded(7 + i, 4));
    const answers = await Promise.all(
      inputs.map((x) =>
        postJson(`${url}/v2/models/${JOB}/infer`, {
          inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: Array.from(x) }],
        }),
      ),
    );
    answers.forEach((answer, i) => {
      expect(answer.status).toBe(200);
      const [output] = answer.body['outputs'] as { data: number[] }[];
      expectClose(output?.data ?? [], mlpReference(inputs[i] as Float32Array, 1), `request ${i}`);
    });
    for (let i = 0; i < 3; i++) {
      const bad = await postJson(`${url}/v2/models/${JOB}/infer`, { inputs: [{ name: 'nope' }] });
      expect(bad.status).toBe(400);
    }

    const stats = await getJson(`${url}/v2/models/stats`);
    expect(stats.status).toBe(200);
    const [model] = stats.body['model_stats'] as Record<string, unknown>[];
    expect(model?.['name']).toBe(JOB);
    expect(model?.['inference_count']).toBe(40);
    expect(model?.['execution_count']).toBeGreaterThanOrEqual(1);
    const inference = model?.['inference_stats'] as Record<string, { count: number; ns: number }>;
    expect(inference['success']?.count).toBe(40);
    expect(inference['fail']?.count).toBe(0);
    const named = await getJson(`${url}/v2/models/${JOB}/versions/1/stats`);
    expect(named.body).toEqual(stats.body);

    // Frontends write their counts about once a second; workers with each batch.
    const slots = await waitFor(
      async () => {
        const read = await readSlots(raw, JOB, Date.now(), 12);
        const requests = read.reduce((n, s) => n + s.frontendRequests, 0);
        return requests === 43 ? read : undefined;
      },
      { timeoutMs: 10_000, what: '43 frontend requests in the slots' },
    );
    expect(slots.reduce((n, s) => n + s.frontendErrors, 0)).toBe(3);
    expect(slots.reduce((n, s) => n + s.frontendLatency.reduce((a, b) => a + b, 0), 0)).toBe(43);
    expect(slots.reduce((n, s) => n + s.workerOk, 0)).toBe(40);
  });
});
