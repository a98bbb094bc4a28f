import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlotRecorder } from '../../../src/frontend/slot-recorder.js';
import { silentLogger } from '../../../src/logging/logger.js';
import { keys } from '../../../src/redis/keys.js';
import { readSlots, SLOT_MS, SLOT_TTL_SECONDS, slotIndex } from '../../../src/redis/stats-schema.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';

describe('a frontend slot recorder', () => {
  let redis: TestRedis;
  let raw: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
    await waitFor(() => raw.status === 'ready', { what: 'Redis connected' });
  });

  afterAll(async () => {
    raw.disconnect();
    await redis.stop();
  });

  it('keeps counts while Redis is away and writes them to the slot they happened in', async () => {
    const start = slotIndex(Date.now()) * SLOT_MS + 1000;
    let now = start;
    let connected: Redis | undefined = undefined;
    const recorder = new SlotRecorder({
      job: 'recorded',
      redis: () => connected,
      logger: silentLogger(),
      now: () => now,
    });
    recorder.observe(200, 3);
    recorder.observe(503, 0.2);
    await recorder.flush();
    expect(await raw.exists(keys.statsSlot('recorded', slotIndex(start)))).toBe(0);

    now = start + SLOT_MS; // the next slot
    recorder.observe(200, 40);
    connected = raw;
    await recorder.stop();
    expect(recorder.state).toBe('stopped');
    await recorder.stop();

    const [first, second] = await readSlots(raw, 'recorded', now, 2);
    expect(first).toMatchObject({
      start: slotIndex(start) * SLOT_MS,
      frontendRequests: 2,
      frontendErrors: 1,
    });
    expect(first?.frontendLatency.reduce((a, b) => a + b, 0)).toBe(2);
    expect(second).toMatchObject({ frontendRequests: 1, frontendErrors: 0 });
    const ttl = await raw.ttl(keys.statsSlot('recorded', slotIndex(now)));
    expect(ttl).toBeGreaterThan(30 * 60);
    expect(ttl).toBeLessThanOrEqual(SLOT_TTL_SECONDS);
  });
});
