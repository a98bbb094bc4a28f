import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputQueue } from '../../../src/client/input-queue.js';
import { OutputQueue } from '../../../src/client/output-queue.js';
import { encodeBigdlInput } from '../../../src/protocol/bigdl-input.js';
import { decodeBigdlResult } from '../../../src/protocol/bigdl-result.js';
import { mlpReference } from '../../fixtures/onnx-models.js';
import { workerSuite } from '../../helpers/worker-suite.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startWorker, writeConfig, type WorkerProcess } from '../../helpers/worker-process.js';

const sample = (i: number): Float32Array => Float32Array.from([i, -i / 2, i / 3, 1 - i]);

describe('worker robustness', () => {
  const suite = workerSuite(['mlp', 'slow']);
  const { workers, closers } = suite;

  async function config(job: string, extra: Record<string, unknown> = {}): Promise<string> {
    return writeConfig({
      modelPath: join(suite.dir, 'mlp.onnx'),
      jobName: job,
      redisUrl: suite.redis.url,
      ...extra,
    });
  }

  async function worker(path: string): Promise<WorkerProcess> {
    const w = await startWorker(path);
    workers.push(w);
    return w;
  }

  function outputQueue(name: string): OutputQueue {
    const q = new OutputQueue({ redisUrl: suite.redis.url, name });
    closers.push(() => q.close());
    return q;
  }

  it('answers BigDL Arrow entries (4-row and 1-row) with BigDL results, and bad records alone with NaN and a reason', async () => {
    await worker(await config('bigdl_mix', { maxBatchSize: 8 }));
    const r = suite.redis.client();
    const good = (i: number, rows: 1 | 4): string =>
      encodeBigdlInput([{ name: 'input', type: 'FP32', shape: [4], data: sample(i) }], { rows });
    const entries: [string, string][] = [];
    for (let i = 0; i < 20; i++) {
      if (i % 4 === 3)
        entries.push([`bad:${i}`, i % 8 === 3 ? 'not base64 arrow!' : good(i, 4).slice(0, 40)]);
      else entries.push([`good:${i}`, good(i, i % 2 === 0 ? 4 : 1)]);
    }
    const pipeline = r.pipeline();
    for (const [uri, data] of entries) pipeline.xadd('bigdl_mix', '*', 'uri', uri, 'data', data);
    await pipeline.exec();
    const out = outputQueue('bigdl_mix');
    await waitFor(async () => (await r.keys('cluster-serving_bigdl_mix:*')).length === entries.length, {
      what: 'every result hash',
    });
    for (const [uri] of entries) {
      const i = Number(uri.split(':')[1]);
      const value = await r.hget(`cluster-serving_bigdl_mix:${uri}`, 'value');
      if (uri.startsWith('good')) {
        const [tensor] = decodeBigdlResult(value ?? '');
        expect(tensor?.shape).toEqual([1, 3]);
        const expected = mlpReference(sample(i), 1);
        Array.from(tensor?.data as Float32Array).forEach((v, k) =>
          expect(Math.abs(v - (expected[k] as number))).toBeLessThan(1e-5),
        );
        const result = await out.query(uri);
        expect(result.status).toBe('tensors');
      } else {
        expect(value).toBe('NaN');
        const error = await r.hget(`cluster-serving_bigdl_mix:${uri}`, 'error');
        expect(error).toMatch(/decode|base64|Arrow|arrow/);
        const result = await out.query(uri);
        expect(result).toMatchObject({ status: 'error', code: 'CS_ERR_INPUT_DECODE' });
      }
    }
    // Acknowledged and removed: nothing pending, nothing left in the stream.
    expect(await r.xlen('bigdl_mix')).toBe(0);
    // dequeue keeps uris whole (they contain ':') and removes what it read.
    const all = await out.dequeue();
    expect([...all.keys()].sort()).toEqual(entries.map(([u]) => u).sort());
    expect(await r.keys('cluster-serving_bigdl_mix:*')).toEqual([]);
  });

  it('keeps serving after 1000 garbage payloads, answering each with an error', async () => {
    await worker(await config('garbage', { maxBatchSize: 32 }));
    const r = suite.redis.client();
    const pipeline = r.pipeline();
    for (let i = 0; i < 1000; i++) {
      const kind = i % 5;
      if (kind === 0) pipeline.xadd('garbage', '*', 'uri', `g${i}`, 'data', Buffer.from([i & 255, 0, 1, 2]));
      else if (kind === 1)
        pipeline.xadd('garbage', '*', 'uri', `g${i}`, 'serde', 'tensor', 'data', `CST1${'x'.repeat(i % 50)}`);
      else if (kind === 2)
        pipeline.xadd('garbage', '*', 'uri', `g${i}`, 'serde', 'stream', 'data', `{"instances":[${i}`);
      else if (kind === 3) pipeline.xadd('garbage', '*', 'uri', `g${i}`, 'serde', 'pickle', 'data', 'x');
      else pipeline.xadd('garbage', '*', 'uri', `g${i}`);
    }
    await pipeline.exec();
    await waitFor(async () => (await r.keys('cluster-serving_garbage:*')).length === 1000, {
      what: '1000 error results',
      timeoutMs: 30_000,
    });
    const values = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => r.hmget(`cluster-serving_garbage:g${i}`, 'value', 'error')),
    );
    for (const [value, error] of values) {
      expect(value).toBe('NaN');
      expect(error).toBeTruthy();
    }
    const queue = new InputQueue({ redisUrl: suite.redis.url, name: 'garbage' });
    closers.push(() => queue.close());
    const result = await queue.predict({ input: { data: sample(3), shape: [1, 4] } });
    expect(result.kind).toBe('tensors');
  });

  it('answers serde "stream" JSON entries and applies topN post-processing', async () => {
    await worker(await config('json_topn', { postProcessing: 'topN(2)' }));
    const r = suite.redis.client();
    const body = JSON.stringify({ instances: [{ input: Array.from(sample(2)) }] });
    await r.xadd('json_topn', '*', 'uri', 'json-1', 'serde', 'stream', 'data', body);
    const value = await waitFor(
      async () => (await r.hget('cluster-serving_json_topn:json-1', 'value')) ?? undefined,
      {
        what: 'the topN result',
      },
    );
    const expected = Array.from(mlpReference(sample(2), 1))
      .map((v, i) => [i, v] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 2);
    const parsed = JSON.parse(value) as [number, number][];
    expect(parsed.map(([i]) => i)).toEqual(expected.map(([i]) => i));
  });

  it('two workers in one group answer every entry once, and with a slow model both take entries', async () => {
    const path = await writeConfig({
      modelPath: join(suite.dir, 'slow.onnx'),
      jobName: 'two_workers',
      redisUrl: suite.redis.url,
      maxBatchSize: 2,
    });
    const [a, b] = [await worker(path), await worker(path)];
    const queue = new InputQueue({ redisUrl: suite.redis.url, name: 'two_workers' });
    closers.push(() => queue.close());
    const image = { data: new Float32Array(3 * 64 * 64).fill(0.5), shape: [1, 3, 64, 64] };
    const results = await Promise.all(Array.from({ length: 60 }, () => queue.predict({ image })));
    expect(results.every((res) => res.kind === 'tensors')).toBe(true);
    const counts = await suite.redis.client().xinfo('CONSUMERS', 'two_workers', 'serving');
    expect(Array.isArray(counts)).toBe(true);
    const stats = await suite.redis.client().hgetall('cs:two_workers:stats');
    expect(Number(stats['processed'])).toBe(60);
    // Both consumers have read entries: each appears in the group with a recent activity.
    const names = (counts as unknown[][]).map((c) => String(c[1]));
    expect(names).toContain(a.consumer);
    expect(names).toContain(b.consumer);
    expect(Number(stats[`worker:${a.consumer}`])).toBeGreaterThan(0);
    expect(Number(stats[`worker:${b.consumer}`])).toBeGreaterThan(0);
    expect(Number(stats[`worker:${a.consumer}`]) + Number(stats[`worker:${b.consumer}`])).toBe(60);
  });

  it.each([
    ['its model on the main thread', 'sigterm', { modelParallelism: availableParallelism() }],
    // One worker on a machine of several cores runs its model on an inference thread.
    ['its model on the inference thread', 'sigterm_threaded', { modelParallelism: 1 }],
  ])(
    'SIGTERM under load, %s: every entry the worker took is answered before it exits 0',
    async (_mode, job, extra) => {
      expect(availableParallelism()).toBeGreaterThan(1);
      const path = await config(job, { maxBatchSize: 4, ...extra });
      const w = await worker(path);
      const r = suite.redis.client();
      const pipeline = r.pipeline();
      for (let i = 0; i < 3000; i++) {
        pipeline.xadd(
          job,
          '*',
          'uri',
          `t${i}`,
          'data',
          encodeBigdlInput([{ name: 'input', type: 'FP32', shape: [4], data: sample(i) }]),
        );
      }
      await pipeline.exec();
      await waitFor(async () => Number(await r.hget(`cs:${job}:stats`, 'processed')) > 100, {
        what: 'work under way',
      });
      expect(await w.stop()).toBe(0);
      const answered = (await r.keys(`cluster-serving_${job}:*`)).length;
      const left = await r.xlen(job);
      // Nothing taken and left unanswered: no pending entries; answered + still queued = all.
      const pending = (await r.xpending(job, 'serving')) as unknown[];
      expect(pending[0]).toBe(0);
      expect(answered + left).toBe(3000);
      expect(left).toBeGreaterThan(0);
    },
  );

  it("a killed worker's pending entries are claimed by a live one; a record past maxDeliveries is answered with an error", async () => {
    const path = await config('reclaim', { maxDeliveries: 2 });
    const r = suite.redis.client();
    await r.xgroup('CREATE', 'reclaim', 'serving', '0', 'MKSTREAM');
    const data = encodeBigdlInput([{ name: 'input', type: 'FP32', shape: [4], data: sample(5) }]);
    await r.xadd('reclaim', '*', 'uri', 'lost', 'data', data);
    await r.xadd('reclaim', '*', 'uri', 'poison', 'data', data);
    // A consumer that read both entries and died without a heartbeat.
    await r.xreadgroup('GROUP', 'serving', 'ghost', 'COUNT', 1, 'STREAMS', 'reclaim', '>');
    await r.xreadgroup('GROUP', 'serving', 'ghost2', 'COUNT', 1, 'STREAMS', 'reclaim', '>');
    // The second one already killed two workers.
    const [poisonId] = ((await r.xrange('reclaim', '-', '+')) as [string, string[]][])
      .map(([id]) => id)
      .slice(1);
    await r.xclaim('reclaim', 'serving', 'ghost2', 0, poisonId as string);
    await worker(path);
    const lost = await waitFor(
      async () => (await r.hget('cluster-serving_reclaim:lost', 'value')) ?? undefined,
      {
        what: 'the lost entry answered',
        timeoutMs: 20_000,
      },
    );
    expect(decodeBigdlResult(lost)[0]?.shape).toEqual([1, 3]);
    const poison = await waitFor(async () => (await r.hgetall('cluster-serving_reclaim:poison'))['error'], {
      what: 'the poison record answered',
      timeoutMs: 20_000,
    });
    expect(poison).toMatch(/delivered 3 times/);
    // Dead consumers are removed once empty.
    await waitFor(
      async () => {
        const consumers = (await r.xinfo('CONSUMERS', 'reclaim', 'serving')) as unknown[][];
        return consumers.every((c) => !['ghost', 'ghost2'].includes(String(c[1])));
      },
      { what: 'dead consumers removed', timeoutMs: 20_000 },
    );
  });
});
