import { afterEach, describe, expect, it } from 'vitest';
import { InputQueue } from '../../../src/client/input-queue.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';

let redis: TestRedis | undefined;
let queue: InputQueue | undefined;

afterEach(async () => {
  await queue?.close();
  await redis?.stop();
});

describe('enqueue while Redis is away', () => {
  it('fails with CS_ERR_REDIS_UNAVAILABLE, not a bare connection error', async () => {
    redis = await startRedis();
    queue = new InputQueue({ redisUrl: redis.url, name: 'gone', redisTimeoutMs: 500 });
    const sample = { input: { data: Float32Array.from([1, 2, 3, 4]), shape: [1, 4] } };
    await queue.enqueue('first', sample);
    await redis.stop();
    redis = undefined;
    const error = await waitFor(
      () =>
        queue?.enqueue('second', sample).then(
          () => undefined,
          (caught: unknown) => caught as Error & { code?: string },
        ),
      { what: 'enqueue to fail once Redis is gone' },
    );
    expect(error.code, error.message).toBe('CS_ERR_REDIS_UNAVAILABLE');
  });
});
