import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { Producer } from '../../../src/client/producer.js';
import { CsError } from '../../../src/errors/registry.js';
import { ProducerBackend } from '../../../src/frontend/producer-backend.js';
import { keys } from '../../../src/redis/keys.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';
import { MLP } from '../../unit/frontend/fake-backend.js';

/** How many times Redis ran `command` so far (INFO commandstats). */
async function calls(redis: Redis, command: string): Promise<number> {
  const info = await redis.info('commandstats');
  const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
  return match === null ? 0 : Number(match[1]);
}

describe('ProducerBackend', () => {
  let redis: TestRedis;
  let producer: Producer;
  let admin: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    producer = new Producer({ redisUrl: redis.url, job: 'cache_job' });
    await producer.start();
    admin = redis.client();
    await admin.set(keys.model('cache_job'), JSON.stringify({ ...MLP, name: 'cache_job' }));
  });

  afterAll(async () => {
    await producer?.stop();
    await redis?.stop();
  });

  it('reads worker liveness and metadata once per heartbeat interval, not per request', async () => {
    let now = Date.now();
    await admin.zadd(keys.workers('cache_job'), now, 'host-1-abc');
    const backend = new ProducerBackend(producer, { job: 'cache_job', cacheMs: 1000, now: () => now });
    const before = await calls(admin, 'zrangebyscore');
    const statuses = await Promise.all(Array.from({ length: 100 }, () => backend.status()));
    expect(statuses.every((s) => s.liveWorkers === 1 && s.model?.name === 'cache_job')).toBe(true);
    for (let i = 0; i < 100; i++) await backend.status();
    expect((await calls(admin, 'zrangebyscore')) - before).toBe(1);

    // Past the interval: the cached value is still served while one refresh runs.
    await admin.zrem(keys.workers('cache_job'), 'host-1-abc');
    now += 1500;
    expect((await backend.status()).liveWorkers).toBe(1);
    // The refresh's read leaves at the end of this turn (the connection coalesces its writes).
    await waitFor(async () => (await calls(admin, 'zrangebyscore')) - before === 2, {
      what: 'the one refresh to reach Redis',
    });
    await waitFor(async () => (await backend.status()).liveWorkers === 0, { what: 'the refreshed status' });
    expect((await calls(admin, 'zrangebyscore')) - before).toBe(2);

    // Far past it: the next request waits for a fresh read.
    await admin.zadd(keys.workers('cache_job'), now + 10_000, 'host-2-def');
    now += 10_000;
    expect((await backend.status()).liveWorkers).toBe(1);
  });

  it('reads the job figures for /metrics', async () => {
    await admin.hset(
      keys.stats('cache_job'),
      'processed',
      '12',
      'batches',
      '3',
      'batch:4',
      '3',
      'errors:CS_ERR_TIMEOUT',
      '1',
    );
    const backend = new ProducerBackend(producer, { job: 'cache_job' });
    const figures = await backend.figures();
    expect(figures).toMatchObject({
      processed: 12,
      batches: 3,
      batchSizes: { '4': 3 },
      errors: { CS_ERR_TIMEOUT: 1 },
    });
  });

  it('fails fast with CS_ERR_REDIS_UNAVAILABLE when no Producer is connected', async () => {
    const backend = new ProducerBackend(() => undefined, { job: 'cache_job' });
    await expect(backend.status()).rejects.toThrow(CsError);
    await expect(backend.status()).rejects.toMatchObject({ code: 'CS_ERR_REDIS_UNAVAILABLE' });
    await expect(backend.submit([], { timeoutMs: 1000 })).rejects.toMatchObject({
      code: 'CS_ERR_REDIS_UNAVAILABLE',
    });
    await expect(backend.figures()).rejects.toMatchObject({ code: 'CS_ERR_REDIS_UNAVAILABLE' });
    expect(backend.flushes).toBe(0);
  });
});
