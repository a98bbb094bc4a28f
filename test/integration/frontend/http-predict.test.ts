import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queuedRequests } from '../../helpers/queued-requests.js';
import { keys } from '../../../src/redis/keys.js';
import { mlpReference, writeModel } from '../../fixtures/onnx-models.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startWorker, writeConfig, type WorkerProcess } from '../../helpers/worker-process.js';
import {
  expectClose,
  getJson,
  metricValue,
  postJson,
  seeded,
  startFrontend,
  type RunningFrontend,
} from './frontend-harness.js';

function bigdlValues(element: unknown): { data: number[]; shape: number[] }[] {
  const value = (JSON.parse(element as string) as { value: string }).value;
  // Several outputs are concatenated objects: split them back.
  return JSON.parse(`[${value.replace(/\}\{/g, '},{')}]`) as { data: number[]; shape: number[] }[];
}

describe('HTTP frontend with a real worker', () => {
  let redis: TestRedis;
  let dir: string;
  let mlpPath: string;
  let twoIoPath: string;
  let cnnPath: string;
  const workers: WorkerProcess[] = [];
  const frontends: RunningFrontend[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'cs-http-'));
    mlpPath = await writeModel(dir, 'mlp');
    twoIoPath = await writeModel(dir, 'two-io');
    cnnPath = await writeModel(dir, 'cnn');
    for (const [jobName, modelPath] of [
      ['mlp_job', mlpPath],
      ['twoio_job', twoIoPath],
      ['par_job', mlpPath],
      ['cnn_job', cnnPath],
    ] as const) {
      const config = await writeConfig({ modelPath, jobName, redisUrl: redis.url, modelParallelism: 1 });
      workers.push(await startWorker(config));
    }
  });

  afterAll(async () => {
    for (const f of frontends) await f.close();
    for (const w of workers) await w.kill();
    await redis?.stop();
  });

  async function frontend(
    job: string,
    over: Parameters<typeof startFrontend>[2] = {},
  ): Promise<RunningFrontend> {
    const f = await startFrontend(redis.url, job, over);
    frontends.push(f);
    return f;
  }

  it('answers BigDL /predict for one and several instances, in request order', async () => {
    const f = await frontend('mlp_job');
    const rows = [0, 1, 2, 3, 4].map((i) => seeded(100 + i, 4));
    const one = await postJson(`${f.url}/predict`, {
      instances: [{ input: Array.from(rows[0] as Float32Array) }],
    });
    expect(one.status).toBe(200);
    const [single] = bigdlValues((one.body['predictions'] as unknown[])[0]);
    expect(single?.shape).toEqual([3]);
    expectClose(single?.data ?? [], mlpReference(rows[0] as Float32Array, 1), 'single instance');

    const many = await postJson(`${f.url}/predict`, {
      instances: rows.map((r) => ({ input: Array.from(r) })),
    });
    expect(many.status).toBe(200);
    const predictions = many.body['predictions'] as unknown[];
    expect(predictions).toHaveLength(rows.length);
    predictions.forEach((p, i) => {
      expectClose(bigdlValues(p)[0]?.data ?? [], mlpReference(rows[i] as Float32Array, 1), `instance ${i}`);
    });
  });

  it('answers /predict with a base64 PNG image as the worker decodes it (BGR, CHW, 0..255)', async () => {
    const f = await frontend('cnn_job');
    const [width, height] = [32, 32];
    const rgb = Buffer.alloc(width * height * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37) % 256;
    const png = await sharp(rgb, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();
    const chw = new Float32Array(3 * width * height);
    for (let p = 0; p < width * height; p++) {
      for (let c = 0; c < 3; c++) chw[c * width * height + p] = rgb[p * 3 + (2 - c)] as number;
    }
    const session = await ort.InferenceSession.create(cnnPath);
    const direct = await session.run({ image: new ort.Tensor('float32', chw, [1, 3, height, width]) });
    await session.release();
    const res = await postJson(`${f.url}/predict`, { instances: [{ image: png.toString('base64') }] });
    expect(res.status).toBe(200);
    const [logits] = bigdlValues((res.body['predictions'] as unknown[])[0]);
    expect(logits?.shape).toEqual([10]);
    expectClose(logits?.data ?? [], direct['logits']?.data as Float32Array, 'image logits');
  });

  it('answers OIP infer on a two-input, two-output model as a direct session.run does', async () => {
    const f = await frontend('twoio_job');
    const meta = await getJson(`${f.url}/v2/models/twoio_job`);
    expect(meta.status).toBe(200);
    expect(meta.body).toMatchObject({
      name: 'twoio_job',
      platform: 'onnx_onnxv1',
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [-1, 4] },
        { name: 'b', datatype: 'FP32', shape: [-1, 4] },
      ],
      outputs: [
        { name: 'sum', datatype: 'FP32', shape: [-1, 4] },
        { name: 'score', datatype: 'FP32', shape: [-1, 1] },
      ],
    });
    const a = seeded(7, 12);
    const b = seeded(8, 12);
    const session = await ort.InferenceSession.create(twoIoPath);
    const direct = await session.run({
      a: new ort.Tensor('float32', a, [3, 4]),
      b: new ort.Tensor('float32', b, [3, 4]),
    });
    await session.release();
    const res = await postJson(`${f.url}/v2/models/twoio_job/infer`, {
      id: 'two-io-1',
      inputs: [
        { name: 'a', shape: [3, 4], datatype: 'FP32', data: Array.from(a) },
        {
          name: 'b',
          shape: [3, 4],
          datatype: 'FP32',
          data: [[...b.slice(0, 4)], [...b.slice(4, 8)], [...b.slice(8)]],
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body['id']).toBe('two-io-1');
    const outputs = res.body['outputs'] as {
      name: string;
      datatype: string;
      shape: number[];
      data: number[];
    }[];
    expect(outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['sum', 'FP32', [3, 4]],
      ['score', 'FP32', [3, 1]],
    ]);
    for (const o of outputs) expectClose(o.data, direct[o.name]?.data as Float32Array, o.name);

    const filtered = await postJson(`${f.url}/v2/models/twoio_job/infer`, {
      inputs: [
        { name: 'a', shape: [1, 4], datatype: 'FP32', data: Array.from(a.slice(0, 4)) },
        { name: 'b', shape: [1, 4], datatype: 'FP32', data: Array.from(b.slice(0, 4)) },
      ],
      outputs: [{ name: 'score' }],
    });
    expect((filtered.body['outputs'] as { name: string }[]).map((o) => o.name)).toEqual(['score']);

    // The binary tensor extension, as Triton's clients send it: same numbers, in binary.
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          { name: 'a', shape: [3, 4], datatype: 'FP32', parameters: { binary_data_size: 48 } },
          { name: 'b', shape: [3, 4], datatype: 'FP32', parameters: { binary_data_size: 48 } },
        ],
        outputs: [{ name: 'sum', parameters: { binary_data: true } }, { name: 'score' }],
      }),
    );
    const binary = await fetch(`${f.url}/v2/models/twoio_job/infer`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(header.length),
      },
      body: Buffer.concat([header, Buffer.from(a.buffer), Buffer.from(b.buffer)]),
    });
    expect(binary.status).toBe(200);
    const answer = Buffer.from(await binary.arrayBuffer());
    const headerLength = Number(binary.headers.get('inference-header-content-length'));
    const answered = JSON.parse(answer.subarray(0, headerLength).toString()) as {
      outputs: { name: string; parameters?: { binary_data_size: number }; data?: number[] }[];
    };
    expect(answered.outputs[0]).toMatchObject({ name: 'sum', parameters: { binary_data_size: 48 } });
    const tail = answer.subarray(headerLength);
    const sum = new Float32Array(tail.buffer.slice(tail.byteOffset, tail.byteOffset + tail.length));
    expect(Array.from(sum)).toEqual(Array.from(direct['sum']?.data as Float32Array));
    expectClose(answered.outputs[1]?.data ?? [], direct['score']?.data as Float32Array, 'score');

    const wrong = await postJson(`${f.url}/v2/models/twoio_job/infer`, {
      inputs: [{ name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }],
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body['error']).toContain('missing input "b"');
  });

  it('answers 1000 concurrent requests, each with its own correct result', async () => {
    const f = await frontend('mlp_job');
    const inputs = Array.from({ length: 1000 }, (_, i) => seeded(5000 + i, 4));
    const answers = await Promise.all(
      inputs.map((x) =>
        postJson(`${f.url}/v2/models/mlp_job/infer`, {
          inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: Array.from(x) }],
        }),
      ),
    );
    const statuses = new Map<number, number>();
    for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    expect(Object.fromEntries(statuses)).toEqual({ 200: 1000 });
    answers.forEach((a, i) => {
      const [output] = a.body['outputs'] as { data: number[] }[];
      expectClose(output?.data ?? [], mlpReference(inputs[i] as Float32Array, 1), `request ${i}`);
    });
  });

  it('writes entries in groups: countWindow per round trip, counted by a metric', async () => {
    const f = await frontend('mlp_job', { countWindow: 3, timeWindow: 0 });
    const before = await metricValue(f.url, 'cs_http_producer_flushes_total');
    const instances = Array.from({ length: 7 }, (_, i) => ({ input: Array.from(seeded(i, 4)) }));
    expect((await postJson(`${f.url}/predict`, { instances })).status).toBe(200);
    // 7 entries submitted in the same turn, at most 3 per round trip: 3 round trips, not 7.
    expect((await metricValue(f.url, 'cs_http_producer_flushes_total')) - before).toBe(3);

    const wide = await frontend('mlp_job', { countWindow: 56, timeWindow: 0 });
    const start = await metricValue(wide.url, 'cs_http_producer_flushes_total');
    expect((await postJson(`${wide.url}/predict`, { instances })).status).toBe(200);
    expect((await metricValue(wide.url, 'cs_http_producer_flushes_total')) - start).toBe(1);
  });

  it('timeWindow holds entries of separate requests to share a round trip', async () => {
    const f = await frontend('mlp_job', { countWindow: 56, timeWindow: 15_000, requestTimeout: 30_000 });
    const before = await metricValue(f.url, 'cs_http_producer_flushes_total');
    const body = (i: number): unknown => ({ instances: [{ input: Array.from(seeded(900 + i, 4)) }] });
    // A 15 s window is cut short once countWindow entries are there: send exactly countWindow requests.
    const answers = await Promise.all(
      Array.from({ length: 56 }, (_, i) => postJson(`${f.url}/predict`, body(i))),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect((await metricValue(f.url, 'cs_http_producer_flushes_total')) - before).toBe(1);
  });

  it('token bucket: accepted ≤ burst + rate × elapsed, 429 beyond', async () => {
    const rate = 20;
    const f = await frontend('mlp_job', {
      tokenBucketEnabled: true,
      tokensPerSecond: rate,
      tokenAcquireTimeout: 50,
    });
    const body = { instances: [{ input: [1, 2, 3, 4] }] };
    const answers = await Promise.all(Array.from({ length: 200 }, () => postJson(`${f.url}/predict`, body)));
    const elapsedS = (Date.now() - f.builtAt) / 1000;
    const accepted = answers.filter((a) => a.status === 200).length;
    const limited = answers.filter((a) => a.status === 429);
    expect(accepted + limited.length).toBe(200);
    expect(accepted).toBeGreaterThanOrEqual(1);
    expect(accepted).toBeLessThanOrEqual(rate + rate * elapsedS);
    expect(limited.length).toBeGreaterThanOrEqual(200 - (rate + rate * elapsedS));
    expect(limited[0]?.body['error']).toContain('rate limited');
    expect(limited[0]?.headers.get('retry-after')).toBe('1');
  });

  it('parallelism: 503 at once beyond the bound, none lost below it', async () => {
    const parallelism = 4;
    const f = await frontend('par_job', { parallelism });
    const worker = workers[2] as WorkerProcess;
    const client = redis.client();
    const xs = Array.from({ length: parallelism }, (_, i) => seeded(300 + i, 4));
    worker.child.kill('SIGSTOP');
    try {
      const held = xs.map((x) => postJson(`${f.url}/predict`, { instances: [{ input: Array.from(x) }] }));
      await waitFor(async () => (await queuedRequests(client, keys.stream('par_job'))) >= parallelism, {
        what: 'the held requests in the stream',
      });
      const beyond = await Promise.all(
        [0, 1, 2].map(() => postJson(`${f.url}/predict`, { instances: [{ input: [1, 2, 3, 4] }] })),
      );
      expect(beyond.map((a) => a.status)).toEqual([503, 503, 503]);
      expect(beyond[0]?.body['error']).toContain('parallelism');
      worker.child.kill('SIGCONT');
      const answers = await Promise.all(held);
      answers.forEach((a, i) => {
        expect(a.status).toBe(200);
        const [out] = bigdlValues((a.body['predictions'] as unknown[])[0]);
        expectClose(out?.data ?? [], mlpReference(xs[i] as Float32Array, 1), `held ${i}`);
      });
    } finally {
      worker.child.kill('SIGCONT');
    }
  });
});
