import { afterEach, describe, expect, it } from 'vitest';
import { InputQueue } from '../../../src/client/input-queue.js';
import { keys } from '../../../src/redis/keys.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';

let redis: TestRedis | undefined;
let queue: InputQueue | undefined;

afterEach(async () => {
  await queue?.close();
  queue = undefined;
  await redis?.stop();
  redis = undefined;
});

const sample = { input: { data: Float32Array.from([1, 2, 3, 4]), shape: [1, 4] } };

async function getCalls(info: string): Promise<number> {
  return Number(/cmdstat_get:calls=(\d+)/.exec(info)?.[1] ?? '0');
}

describe('InputQueue.enqueue', () => {
  it('reads the job metadata once, not once per entry', async () => {
    redis = await startRedis();
    const admin = redis.client();
    queue = new InputQueue({ redisUrl: redis.url, name: 'cached' });
    await queue.enqueue('warm', sample);
    const before = await getCalls(await admin.info('commandstats'));
    for (let i = 0; i < 40; i++) await queue.enqueue(`uri-${i}`, sample);
    const after = await getCalls(await admin.info('commandstats'));
    // At most one re-read if the run happens to cross the refresh interval.
    expect(after - before).toBeLessThanOrEqual(1);
    expect(await admin.xlen('cached')).toBe(41);
  });

  it('still adopts a queue bound its workers publish later', async () => {
    redis = await startRedis();
    const admin = redis.client();
    queue = new InputQueue({ redisUrl: redis.url, name: 'bounded' });
    await queue.enqueue('first', sample);
    await admin.set(keys.model('bounded'), JSON.stringify({ maxQueueLength: 1 }));
    const code = await waitFor(
      () =>
        queue?.enqueue('next', sample).then(
          () => undefined,
          (caught: unknown) => (caught as { code?: string }).code,
        ),
      { what: 'enqueue to refuse once the published bound is reached' },
    );
    expect(code).toBe('CS_ERR_QUEUE_FULL');
  });
});
