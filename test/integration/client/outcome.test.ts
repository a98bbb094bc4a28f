import { afterEach, describe, expect, it } from 'vitest';
import { InputQueue } from '../../../src/client/input-queue.js';
import { OutputQueue } from '../../../src/client/output-queue.js';
import { Producer } from '../../../src/client/producer.js';
import { CsError, isErrorCode } from '../../../src/errors/registry.js';
import { queuedRequests } from '../../helpers/queued-requests.js';
import { keys } from '../../../src/redis/keys.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';

const input = [{ name: 'input', type: 'FP32' as const, shape: [1, 4], data: new Float32Array(4) }];

/** The error a promise rejects with (fails the test if it resolves). */
async function failureOf(promise: Promise<unknown>): Promise<CsError> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(CsError);
  return outcome.error as CsError;
}

/*
 * No worker serves these jobs: entries stay in the stream, so XLEN tells whether Redis
 * accepted a request, which is what the client's answer must match.
 */
describe('TypeScript client: "not accepted" versus "accepted, outcome unknown"', () => {
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function redisServer(): Promise<TestRedis> {
    const redis = await startRedis();
    cleanups.push(async () => {
      // stop() waits for an exit that already happened when the test killed it itself.
      if (redis.process.exitCode !== null || redis.process.signalCode !== null) return;
      redis.process.kill('SIGCONT');
      await redis.stop();
    });
    return redis;
  }

  async function producer(
    redis: TestRedis,
    job: string,
    extra: Partial<ConstructorParameters<typeof Producer>[0]> = {},
  ): Promise<Producer> {
    const p = new Producer({ redisUrl: redis.url, job, ...extra });
    cleanups.push(() => p.stop());
    await p.start();
    return p;
  }

  it('entries Redis added whose replies can no longer come fail with CS_ERR_OUTCOME_UNKNOWN', async () => {
    const redis = await redisServer();
    const p = await producer(redis, 'added_job');
    const admin = redis.client();
    const pending = Array.from({ length: 5 }, () => failureOf(p.submit(input, { timeoutMs: 30_000 })));
    await waitFor(async () => (await queuedRequests(admin, keys.stream('added_job'))) === 5, {
      what: '5 requests added',
    });
    await redis.stop();
    const errors = await Promise.all(pending);
    expect(errors.map((e) => e.code)).toEqual(Array(5).fill('CS_ERR_OUTCOME_UNKNOWN'));
    expect(errors[0]?.httpStatus).toBe(504);
    expect(errors[0]?.message).toContain('may still run');
  });

  it('a write sent to a Redis that stops answering is CS_ERR_OUTCOME_UNKNOWN, and it does run once Redis resumes', async () => {
    const redis = await redisServer();
    const p = await producer(redis, 'frozen_job', { redisTimeoutMs: 300 });
    const admin = redis.client();
    redis.process.kill('SIGSTOP');
    try {
      const error = await failureOf(p.submit(input, { timeoutMs: 30_000 }));
      expect(error.code).toBe('CS_ERR_OUTCOME_UNKNOWN');
    } finally {
      redis.process.kill('SIGCONT');
    }
    // The very case a client must be warned of: the "failed" request was executed after all.
    await waitFor(async () => (await admin.xlen(keys.stream('frozen_job'))) === 1, {
      what: 'the entry written once Redis resumed',
    });
  });

  it('a request failed while it waited to be sent is never written (not accepted means not executed)', async () => {
    const redis = await redisServer();
    // A long window keeps the request queued in the client while its reply subscription breaks.
    const p = await producer(redis, 'window_job', { timeWindow: 5000, countWindow: 100 });
    const admin = redis.client();
    const pending = failureOf(p.submit(input, { timeoutMs: 30_000 }));
    await admin.client('KILL', 'TYPE', 'pubsub');
    const error = await pending;
    expect(error.code).toBe('CS_ERR_REDIS_UNAVAILABLE');
    expect(error.message).toContain('not sent');
    await waitFor(() => p.flushes >= 1, { what: 'the window to close' });
    // Same connection as any write, so anything sent by the window is executed before this reply.
    await p.redis.ping();
    expect(await admin.xlen(keys.stream('window_job'))).toBe(0);
  });

  it('refuses at once while disconnected, and serves again once Redis is back', async () => {
    const redis = await redisServer();
    const port = redis.port;
    const p = await producer(redis, 'down_job');
    await redis.stop();
    await waitFor(() => p.redis.status !== 'ready', { what: 'the producer to see Redis gone' });
    const error = await failureOf(p.submit(input, { timeoutMs: 30_000 }));
    expect(error.code).toBe('CS_ERR_REDIS_UNAVAILABLE');
    expect(error.message).toContain('safe to retry');
    const back = await startRedis({ port });
    cleanups.push(() => back.stop());
    const admin = back.client();
    // Accepted again: the entry lands (no worker, so the wait is cut short by the test's timeout).
    await waitFor(
      async () => {
        const outcome = await p.submit(input, { timeoutMs: 200 }).catch((e: unknown) => e);
        return outcome instanceof CsError && outcome.code === 'CS_ERR_TIMEOUT';
      },
      { timeoutMs: 30_000, what: 'a request accepted after the restart' },
    );
    expect(await admin.xlen(keys.stream('down_job'))).toBeGreaterThan(0);
  });

  it('every client call fails with a coded CsError after Redis is lost, never a plain Error', async () => {
    const redis = await redisServer();
    const admin = redis.client();
    // A worker heartbeat so predict() gets past its live-worker check to the write itself.
    await admin.zadd(keys.workers('lost_job'), Date.now() + 60_000, 'fake-worker');
    const queue = new InputQueue({ redisUrl: redis.url, name: 'lost_job' });
    const output = new OutputQueue({ redisUrl: redis.url, name: 'lost_job' });
    cleanups.push(() => queue.close());
    cleanups.push(() => output.close());
    await queue.connect();
    await output.query('warm-up');
    await redis.stop();
    const failures = [
      await failureOf(queue.predict({ input: { data: new Float32Array(4), shape: [1, 4] } })),
      await failureOf(queue.enqueue('u1', { input: { data: new Float32Array(4), shape: [1, 4] } })),
      await failureOf(output.query('u1')),
      await failureOf(output.dequeue()),
    ];
    for (const failure of failures) {
      expect(isErrorCode(failure.code)).toBe(true);
      expect(failure.code).toBe('CS_ERR_REDIS_UNAVAILABLE');
    }
  });
});
