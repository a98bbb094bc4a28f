import { afterEach, describe, expect, it } from 'vitest';
import { InputQueue } from '../../../src/client/input-queue.js';
import { OutputQueue } from '../../../src/client/output-queue.js';
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

/** Socket reads Redis has served so far (INFO stats): the next reading counts one more, its own. */
function readsOf(info: string): number {
  return Number(/total_reads_processed:(\d+)/.exec(info)?.[1] ?? 'NaN');
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

  it('sends entries enqueued at once in one socket write, each still its own XADD', async () => {
    redis = await startRedis();
    const admin = redis.client();
    queue = new InputQueue({ redisUrl: redis.url, name: 'together', serde: 'bigdl' });
    await queue.enqueue('warm', { input: { data: Float32Array.from([1, 2, 3, 4]), shape: [4] } });
    const xaddsBefore = Number(/cmdstat_xadd:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1]);
    const before = readsOf(await admin.info('stats'));
    const ids = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        queue?.enqueue(`uri-${i}`, { input: { data: Float32Array.from([i, 2, 3, 4]), shape: [4] } }),
      ),
    );
    // One write of ~50 KB: Redis reads it 16 KB at a time, so a handful of reads, not 50.
    expect(readsOf(await admin.info('stats')) - before - 1).toBeLessThanOrEqual(8);
    expect(new Set(ids).size).toBe(50);
    const xadds = Number(/cmdstat_xadd:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1]);
    expect(xadds - xaddsBefore).toBe(50);
    expect(await admin.xlen('together')).toBe(51);
  });
});

describe('OutputQueue.query', () => {
  it('sends queries made at once in one socket write, each answered for its own uri', async () => {
    redis = await startRedis();
    const admin = redis.client();
    const output = new OutputQueue({ redisUrl: redis.url, name: 'answers' });
    try {
      await output.query('warm');
      for (let i = 0; i < 40; i++)
        await admin.hset(
          keys.result('answers', `uri-${i}`),
          'value',
          'NaN',
          'form',
          'error',
          'error',
          `reason ${i}`,
        );
      const before = readsOf(await admin.info('stats'));
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => output.query(`uri-${i}`)));
      expect(readsOf(await admin.info('stats')) - before - 1).toBeLessThanOrEqual(2);
      results.forEach((result, i) => {
        expect(result.status).toBe('error');
        if (result.status === 'error') expect(result.message).toBe(`reason ${i}`);
      });
    } finally {
      await output.close();
    }
  });

  it('answers queries made at once on a new queue, waiting once for its connection', async () => {
    redis = await startRedis();
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    const output = new OutputQueue({ redisUrl: redis.url, name: 'fresh' });
    try {
      const results = await Promise.all(Array.from({ length: 64 }, (_, i) => output.query(`uri-${i}`)));
      expect(results.every((result) => result.status === 'pending')).toBe(true);
      // Warnings are emitted on the next tick: let that pass before looking.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
      await output.close();
    }
  });
});
