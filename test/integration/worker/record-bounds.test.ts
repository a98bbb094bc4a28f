import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputQueue } from '../../../src/client/input-queue.js';
import { OutputQueue } from '../../../src/client/output-queue.js';
import { CsError } from '../../../src/errors/registry.js';
import { SERDE } from '../../../src/contracts/stream-entry.js';
import { encodeTensorFrame } from '../../../src/protocol/tensor-frame.js';
import { readStats } from '../../../src/redis/job-state.js';
import { writeModel } from '../../fixtures/onnx-models.js';
import { postJson, startFrontend, type RunningFrontend } from '../frontend/frontend-harness.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startWorker, writeConfig, type WorkerProcess } from '../../helpers/worker-process.js';

const JOB = 'bounded';
const MAX_BATCH = 8;
const MAX_BYTES = 4096;

function rows(n: number, width = 2): { data: Float32Array; shape: number[] } {
  return { data: new Float32Array(n * width).fill(1), shape: [n, width] };
}

async function refusal(attempt: Promise<unknown>): Promise<CsError> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CsError);
  return error as CsError;
}

/** maxRecordBatch and maxRecordBytes at the client, the frontend and the worker, with the job's config. */
describe('record bounds (maxRecordBatch, maxRecordBytes)', () => {
  let redis: TestRedis;
  let worker: WorkerProcess | undefined;
  let frontend: RunningFrontend | undefined;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const dir = await mkdtemp(join(tmpdir(), 'cs-models-'));
    await writeModel(dir, 'identity');
    worker = await startWorker(
      await writeConfig({
        modelPath: join(dir, 'identity.onnx'),
        jobName: JOB,
        redisUrl: redis.url,
        maxRecordBatch: MAX_BATCH,
        maxRecordBytes: MAX_BYTES,
      }),
    );
  });

  afterAll(async () => {
    for (const close of closers) await close();
    await frontend?.close();
    await worker?.kill();
    await redis.stop();
  });

  function queue(options: { maxRecordBatch?: number } = {}): InputQueue {
    const q = new InputQueue({ redisUrl: redis.url, name: JOB, ...options });
    closers.push(() => q.close());
    return q;
  }

  it('the client refuses a request over the bounds its job publishes, before anything reaches Redis', async () => {
    const q = queue();
    const r = redis.client();
    const before = await r.xinfo('STREAM', JOB);
    const tooMany = await refusal(q.predict({ x: rows(MAX_BATCH + 1) }));
    expect(tooMany.code).toBe('CS_ERR_RECORD_TOO_LARGE');
    expect(tooMany.message).toContain(`batch dimension of ${MAX_BATCH + 1}`);
    expect(tooMany.message).toContain('maxRecordBatch');
    const tooBig = await refusal(q.predict({ x: rows(MAX_BATCH, 200) }));
    expect(tooBig.code).toBe('CS_ERR_RECORD_TOO_LARGE');
    expect(tooBig.message).toContain('maxRecordBytes');
    expect((await refusal(q.enqueue('big', { x: rows(MAX_BATCH + 1) }))).code).toBe(
      'CS_ERR_RECORD_TOO_LARGE',
    );
    // Nothing was written: the stream's last id is where it was.
    expect(await r.xinfo('STREAM', JOB)).toEqual(before);
    const fits = await q.predict({ x: rows(MAX_BATCH) });
    expect(fits.kind).toBe('tensors');
    // A bound given to the client wins over the job's.
    const stricter = queue({ maxRecordBatch: 2 });
    expect((await refusal(stricter.predict({ x: rows(3) }))).code).toBe('CS_ERR_RECORD_TOO_LARGE');
  });

  it('the frontend answers 413 with the reason, before anything reaches Redis', async () => {
    frontend = await startFrontend(redis.url, JOB);
    const r = redis.client();
    const before = await r.xinfo('STREAM', JOB);
    const infer = (n: number): Promise<{ status: number; body: Record<string, unknown> }> =>
      postJson(`${frontend?.url ?? ''}/v2/models/${JOB}/infer`, {
        inputs: [{ name: 'x', shape: [n, 2], datatype: 'FP32', data: Array.from(rows(n).data) }],
      });
    const refused = await infer(MAX_BATCH + 1);
    expect(refused.status).toBe(413);
    expect(refused.body['error']).toContain('maxRecordBatch');
    expect(await r.xinfo('STREAM', JOB)).toEqual(before);
    expect((await infer(MAX_BATCH)).status).toBe(200);
  });

  it('the worker answers an over-bound record of another writer with the error, without running it', async () => {
    const r = redis.client();
    const batchesBefore = (await readStats(r, JOB)).batches;
    const frame = (n: number, width = 2): Buffer =>
      Buffer.from(encodeTensorFrame([{ name: 'x', type: 'FP32', ...rows(n, width) }]));
    await r.xadd(JOB, '*', 'uri', 'rows', 'serde', SERDE.tensor, 'data', frame(MAX_BATCH + 1));
    await r.xadd(JOB, '*', 'uri', 'bytes', 'serde', SERDE.tensor, 'data', frame(4, 400));
    // Past 8 x maxRecordBytes it is not even decoded.
    await r.xadd(JOB, '*', 'uri', 'huge', 'serde', SERDE.tensor, 'data', frame(1, 10_000));
    // BigDL's JSON form: each instance is one row of the record.
    const instances = Array.from({ length: MAX_BATCH + 1 }, () => ({ x: [1, 2] }));
    await r.xadd(JOB, '*', 'uri', 'json', 'serde', 'stream', 'data', JSON.stringify({ instances }));
    const out = new OutputQueue({ redisUrl: redis.url, name: JOB });
    closers.push(() => out.close());
    for (const [uri, says] of [
      ['rows', 'maxRecordBatch'],
      ['bytes', 'maxRecordBytes'],
      ['huge', 'not decoded'],
      ['json', 'maxRecordBatch'],
    ] as const) {
      const result = await waitForResult(out, uri);
      expect(result).toMatchObject({ status: 'error', code: 'CS_ERR_RECORD_TOO_LARGE' });
      expect(result.status === 'error' ? result.message : '').toContain(says);
    }
    expect((await readStats(r, JOB)).batches).toBe(batchesBefore);
    expect((await readStats(r, JOB)).errors['CS_ERR_RECORD_TOO_LARGE']).toBe(4);
  });
});

async function waitForResult(
  out: OutputQueue,
  uri: string,
): Promise<Awaited<ReturnType<OutputQueue['query']>>> {
  return waitFor(
    async () => {
      const result = await out.query(uri);
      return result.status === 'pending' ? undefined : result;
    },
    { what: `the answer of ${uri}` },
  );
}
