import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputQueue } from '../../../src/client/input-queue.js';
import { Producer } from '../../../src/client/producer.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';

/** A master alone, and a master with one replica: what `redisMinReplicas: 1` confirms on each. */
let lone: TestRedis;
let master: TestRedis;
let replica: TestRedis;

beforeAll(async () => {
  lone = await startRedis();
  master = await startRedis();
  replica = await startRedis({ args: ['--replicaof', '127.0.0.1', '0'] });
  const admin = replica.client();
  await admin.replicaof('127.0.0.1', master.port);
  await waitFor(async () => /master_link_status:up/.test(await admin.info('replication')), {
    what: 'the replica to be in sync',
  });
});

afterAll(async () => {
  await Promise.all([lone?.stop(), master?.stop(), replica?.stop()]);
});

const sample = { input: { data: Float32Array.from([1, 2, 3, 4]), shape: [1, 4] } };

describe('redisMinReplicas', () => {
  it('refuses to confirm an entry no replica holds: CS_ERR_REDIS_REPLICAS, outcome unknown', async () => {
    const queue = new InputQueue({ redisUrl: lone.url, name: 'w', minReplicas: 1, redisTimeoutMs: 1000 });
    try {
      const error = await queue.enqueue('u1', sample).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ code: 'CS_ERR_REDIS_REPLICAS' });
      expect((error as Error).message).toMatch(/outcome is unknown/);
      // Written all the same: the error says the outcome is unknown, not that nothing happened.
      expect(await lone.client().xlen('w')).toBe(1);
    } finally {
      await queue.close();
    }
  });

  it('confirms an entry once a replica holds it', async () => {
    const queue = new InputQueue({ redisUrl: master.url, name: 'w', minReplicas: 1, redisTimeoutMs: 5000 });
    try {
      const id = await queue.enqueue('u2', sample);
      const held = await replica.client().xrange('w', id, id);
      expect(held).toHaveLength(1);
    } finally {
      await queue.close();
    }
  });

  it('fails a waiting prediction with CS_ERR_REDIS_REPLICAS when no replica confirms it', async () => {
    const producer = new Producer({ redisUrl: lone.url, job: 'p', minReplicas: 1, redisTimeoutMs: 300 });
    try {
      await producer.start();
      await expect(
        producer.submitRaw({ serde: undefined, data: 'x' }, { timeoutMs: 20_000 }),
      ).rejects.toMatchObject({
        code: 'CS_ERR_REDIS_REPLICAS',
      });
    } finally {
      await producer.stop();
    }
  });
});
