import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/logging/logger.js';
import { encodeBigdlInput } from '../../../src/protocol/bigdl-input.js';
import { decodeBigdlResult } from '../../../src/protocol/bigdl-result.js';
import { CONSUMER_GROUP, keys } from '../../../src/redis/keys.js';
import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_MISSES } from '../../../src/redis/job-state.js';
import { BatchProcessor } from '../../../src/worker/batch-processor.js';
import { ModelSession, type Model } from '../../../src/worker/model-session.js';
import { reclaimOwnStranded } from '../../../src/worker/reclaimer.js';
import { parseEntries } from '../../../src/worker/stream-entry.js';
import { startWorker, writeConfig } from '../../helpers/worker-process.js';
import { waitFor } from '../../helpers/wait-for.js';
import { workerSuite } from '../../helpers/worker-suite.js';

/** How long an entry must sit idle before anyone, its own worker included, claims it. */
const CLAIM_BOUND_MS = HEARTBEAT_INTERVAL_MS * HEARTBEAT_MISSES;

const record = encodeBigdlInput([
  { name: 'input', type: 'FP32', shape: [4], data: Float32Array.from([1, 2, 3, 4]) },
]);

/**
 * After a Redis failover that lost the last writes, the promoted master can list an entry as
 * delivered to a worker that is alive while the answer that worker wrote is gone. Nobody else
 * claims a live worker's entries: the worker takes them back itself, but never the ones it
 * is still answering.
 */
describe('entries Redis lists as a live worker’s that it does not hold', () => {
  const suite = workerSuite(['mlp']);

  async function config(job: string): Promise<string> {
    return writeConfig({ modelPath: join(suite.dir, 'mlp.onnx'), jobName: job, redisUrl: suite.redis.url });
  }

  /** Adds an entry and delivers it to `consumer` in one transaction, before any worker's blocked read sees it. */
  async function deliverBehindItsBack(r: Redis, job: string, uri: string, consumer: string): Promise<string> {
    const results = await r
      .multi()
      .xadd(job, '*', 'uri', uri, 'data', record)
      .xreadgroup('GROUP', CONSUMER_GROUP, consumer, 'COUNT', 1, 'STREAMS', job, '>')
      .exec();
    return String(results?.[0]?.[1]);
  }

  it('a live worker answers the entries it was listed with but never saw, once they sit past the claim bound', async () => {
    const job = 'stranded';
    const worker = await startWorker(await config(job));
    suite.workers.push(worker);
    const r = suite.redis.client();
    const id = await deliverBehindItsBack(r, job, 'stranded-1', worker.consumer);
    const pending = (await r.xpending(job, CONSUMER_GROUP, '-', '+', 10)) as [string, string][];
    expect(pending.map(([entry, consumer]) => [entry, consumer])).toEqual([[id, worker.consumer]]);

    const value = await waitFor(
      async () => (await r.hget(keys.result(job, 'stranded-1'), 'value')) ?? undefined,
      {
        what: 'the stranded entry answered',
        timeoutMs: 20_000,
      },
    );
    expect(decodeBigdlResult(value)[0]?.shape).toEqual([1, 3]);
    expect(await r.xpending(job, CONSUMER_GROUP, '-', '+', 10)).toEqual([]);
    expect(await r.hget(keys.stats(job), 'processed')).toBe('1');
  });

  it('an entry still being answered is not taken back, however long its run takes', async () => {
    const job = 'held';
    const r = suite.redis.client();
    await r.xgroup('CREATE', job, CONSUMER_GROUP, '0', 'MKSTREAM');
    const loaded = loadConfig(await config(job)).config;
    const session = await ModelSession.load({
      modelPath: loaded.modelPath,
      job,
      threads: 1,
      inputAlreadyBatched: loaded.inputAlreadyBatched,
      maxBatchSize: loaded.maxBatchSize,
      maxBatchDelayMs: loaded.maxBatchDelayMs,
      maxQueueLength: loaded.maxQueueLength,
    });
    let letRun = (): void => undefined;
    const gate = new Promise<void>((resolve) => (letRun = resolve));
    // The model's run waits for the test: the batch stays in hand past the claim bound.
    const gated: Model = {
      metadata: session.metadata,
      run: async (inputs) => {
        await gate;
        return session.run(inputs);
      },
      release: () => session.release(),
    };
    const commands = suite.redis.client();
    const processor = new BatchProcessor(gated, commands, loaded, 'held-worker', silentLogger());
    await r.xadd(job, '*', 'uri', 'slow-1', 'data', record);
    const raw = await r.callBuffer('XREADGROUP', [
      'GROUP',
      CONSUMER_GROUP,
      'held-worker',
      'COUNT',
      '1',
      'STREAMS',
      job,
      '>',
    ]);
    const read = (raw as [Buffer, [Buffer, Buffer[]][]][])[0]?.[1] ?? [];
    const entries = parseEntries(read, new Map(read.map(([entryId]) => [entryId.toString(), 1])));
    processor.start(entries);
    const id = entries[0]?.id ?? '';
    expect(processor.holds(id)).toBe(true);

    await waitFor(
      async () => {
        const [[, , idle] = ['', '', 0]] = (await r.xpending(job, CONSUMER_GROUP, '-', '+', 1)) as [
          string,
          string,
          number,
        ][];
        return idle > CLAIM_BOUND_MS ? idle : undefined;
      },
      {
        what: 'the held entry idle past the claim bound',
        timeoutMs: CLAIM_BOUND_MS + 5_000,
        intervalMs: 100,
      },
    );
    const held = (entryId: string): boolean => processor.holds(entryId);
    expect(await reclaimOwnStranded(r, job, 'held-worker', held)).toEqual([]);
    // Without the hold it would be taken: the check above is the one that keeps it.
    expect((await reclaimOwnStranded(r, job, 'held-worker', () => false)).map((e) => e.id)).toEqual([id]);

    letRun();
    await processor.flush();
    await waitFor(() => (processor.holds(id) ? undefined : true), {
      what: 'the entry released once answered',
    });
    expect(await r.hget(keys.result(job, 'slow-1'), 'value')).not.toBeNull();
    expect(await r.xpending(job, CONSUMER_GROUP, '-', '+', 10)).toEqual([]);
    await session.release();
  });
});
