import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../../src/redis/keys.js';
import { mlpReference, writeModel } from '../../fixtures/onnx-models.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { startWorker, writeConfig, type WorkerProcess } from '../../helpers/worker-process.js';
import { sendRaw } from '../../helpers/raw-http.js';
import { getJson, seeded, startFrontend, type RunningFrontend } from './frontend-harness.js';

/**
 * Triton's HTTP client against the real frontend, a real worker and a real Redis: the bytes are
 * those tritonclient.http writes (rapidjson, no spaces; binary outputs unless told otherwise).
 */
describe("Triton's client forms against a real worker", () => {
  let redis: TestRedis;
  const workers: WorkerProcess[] = [];
  let mlp: RunningFrontend;
  let ids: RunningFrontend;

  beforeAll(async () => {
    redis = await startRedis();
    const dir = await mkdtemp(join(tmpdir(), 'cs-triton-'));
    const mlpPath = await writeModel(dir, 'mlp');
    const idsPath = await writeModel(dir, 'identity', { datatype: 'INT64', fileName: 'ids.onnx' });
    for (const [jobName, modelPath] of [
      ['triton_mlp', mlpPath],
      ['triton_ids', idsPath],
    ] as const) {
      const config = await writeConfig({
        modelPath,
        jobName,
        redisUrl: redis.url,
        modelParallelism: 1,
        maxBatchSize: 8,
        maxBatchDelayMs: 3,
      });
      workers.push(await startWorker(config));
    }
    mlp = await startFrontend(redis.url, 'triton_mlp');
    ids = await startFrontend(redis.url, 'triton_ids');
  });

  afterAll(async () => {
    await mlp?.close();
    await ids?.close();
    for (const w of workers) await w.kill();
    await redis?.stop();
  });

  it('serves the model config from what the worker published (the frontend has no model config)', async () => {
    const res = await getJson(`${mlp.url}/v2/models/triton_mlp/versions/1/config`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: 'triton_mlp',
      platform: 'onnxruntime_onnx',
      max_batch_size: 8,
      input: [{ name: 'input', data_type: 'TYPE_FP32', dims: [4] }],
      output: [{ name: 'output', data_type: 'TYPE_FP32', dims: [3] }],
      dynamic_batching: { max_queue_delay_microseconds: 3000 },
    });
  });

  it('indexes the jobs of the Redis, ready or not', async () => {
    await redis.client().sadd(keys.jobs(), 'triton_gone');
    const res = await sendRaw(`${mlp.url}/v2/repository/index`, 'POST', {});
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual([
      { name: 'triton_gone', version: '1', state: 'UNAVAILABLE', reason: 'no live worker serves the job' },
      { name: 'triton_ids', version: '1', state: 'READY' },
      { name: 'triton_mlp', version: '1', state: 'READY' },
    ]);
  });

  it('round-trips INT64 values beyond 2^53 exactly, digits in and digits out', async () => {
    const body = Buffer.from(
      '{"inputs":[{"name":"x","shape":[1,3],"datatype":"INT64","data":[9007199254740993,-9007199254740993,9223372036854775807]}],' +
        '"outputs":[{"name":"y","parameters":{"binary_data":false}}]}',
    );
    const res = await sendRaw(`${ids.url}/v2/models/triton_ids/infer`, 'POST', {}, body);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toContain('"data":[9007199254740993,-9007199254740993,9223372036854775807]');
  });

  it('takes gzip and deflate requests and answers gzip when asked, binary tensors included', async () => {
    const row = seeded(7, 4);
    const header = Buffer.from(
      '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}],' +
        '"parameters":{"binary_data_output":true}}',
    );
    const plain = Buffer.concat([header, Buffer.from(row.buffer, row.byteOffset, row.byteLength)]);
    for (const [encoding, compressed] of [
      ['gzip', gzipSync(plain)],
      ['deflate', deflateSync(plain)],
    ] as const) {
      const res = await sendRaw(
        `${mlp.url}/v2/models/triton_mlp/infer`,
        'POST',
        {
          'content-type': 'application/octet-stream',
          'content-encoding': encoding,
          'inference-header-content-length': String(header.length),
          'accept-encoding': 'gzip',
        },
        compressed,
      );
      expect(res.status, encoding).toBe(200);
      expect(res.headers['content-encoding']).toBe('gzip');
      const raw = gunzipSync(res.body);
      const length = Number(res.headers['inference-header-content-length']);
      const values = new Float32Array(Uint8Array.from(raw.subarray(length)).buffer);
      const expected = mlpReference(row, 1);
      values.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 5));
    }
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20));
    const res = await sendRaw(
      `${mlp.url}/v2/models/triton_mlp/infer`,
      'POST',
      { 'content-encoding': 'gzip' },
      bomb,
    );
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body.toString()).error).toContain('inflates past the limit');
  });

  it('answers classification of the real output as Triton does', async () => {
    const rows = [seeded(11, 4), seeded(12, 4)];
    const input = Float32Array.from([...rows[0]!, ...rows[1]!]);
    const request = (parameters: Record<string, unknown>): Buffer =>
      Buffer.from(
        JSON.stringify({
          inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', data: Array.from(input) }],
          outputs: [{ name: 'output', parameters: { binary_data: false, ...parameters } }],
        }),
      );
    const url = `${mlp.url}/v2/models/triton_mlp/versions/1/infer`;
    const plain = await sendRaw(url, 'POST', {}, request({}));
    const scores =
      (JSON.parse(plain.body.toString()) as { outputs: { data: number[] }[] }).outputs[0]?.data ?? [];
    expect(scores).toHaveLength(6);
    const reference = mlpReference(input, 2);
    scores.forEach((v, i) => expect(v).toBeCloseTo(reference[i] as number, 5));
    const res = await sendRaw(url, 'POST', {}, request({ classification: 2 }));
    expect(res.status).toBe(200);
    const expected: string[] = [];
    for (let r = 0; r < 2; r++) {
      const row = scores.slice(r * 3, r * 3 + 3);
      const order = [0, 1, 2].sort((a, b) => (row[b] as number) - (row[a] as number));
      for (const i of order.slice(0, 2)) expected.push(`${Math.fround(row[i] as number).toFixed(6)}:${i}`);
    }
    expect(JSON.parse(res.body.toString()).outputs).toEqual([
      { name: 'output', datatype: 'BYTES', shape: [2, 2], data: expected },
    ]);
  });
});
