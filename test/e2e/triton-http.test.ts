import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mlpReference, writeModel } from '../fixtures/onnx-models.js';
import { CliHarness } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';
import { sendRaw } from '../helpers/raw-http.js';

let cli: CliHarness;

beforeEach(async () => {
  cli = await CliHarness.create();
});

afterEach(async () => {
  await cli.cleanup();
});

describe("Triton's HTTP client forms on a started job", { timeout: 180_000 }, () => {
  it('serves the model config, the repository index and compressed inference, and survives an inflation bomb', async () => {
    const redisPort = await freePort();
    const httpPort = await freePort();
    const model = await writeModel(join(cli.root, 'models'), 'mlp');
    const path = await cli.project(
      'triton',
      {
        jobName: 'triton_job',
        modelParallelism: 1,
        maxBatchSize: 4,
        maxBatchDelayMs: 5,
        redisUrl: `localhost:${redisPort}`,
        redisMaxmemory: '64mb',
      },
      model,
      `http:\n  interface: 127.0.0.1\n  port: ${httpPort}\n  bodyLimit: 65536\n`,
    );
    const started = await cli.run(['start', '-c', path, '--timeout', '120']);
    expect(started.code, started.stderr).toBe(0);
    const base = `http://127.0.0.1:${httpPort}`;

    const config = await sendRaw(`${base}/v2/models/triton_job/versions/1/config`, 'GET', {});
    expect(config.status).toBe(200);
    expect(JSON.parse(config.body.toString())).toMatchObject({
      platform: 'onnxruntime_onnx',
      max_batch_size: 4,
      input: [{ name: 'input', data_type: 'TYPE_FP32', dims: [4] }],
      dynamic_batching: { max_queue_delay_microseconds: 5000 },
    });

    const index = await sendRaw(`${base}/v2/repository/index`, 'POST', {}, Buffer.from('{"ready":true}'));
    expect(JSON.parse(index.body.toString())).toEqual([{ name: 'triton_job', version: '1', state: 'READY' }]);

    const row = Float32Array.of(0.5, -1, 2, 0.25);
    const body = gzipSync(
      JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: Array.from(row) }] }),
    );
    const infer = await sendRaw(
      `${base}/v2/models/triton_job/infer`,
      'POST',
      { 'content-type': 'application/json', 'content-encoding': 'gzip', 'accept-encoding': 'gzip' },
      body,
    );
    expect(infer.status).toBe(200);
    expect(infer.headers['content-encoding']).toBe('gzip');
    const answer = JSON.parse(gunzipSync(infer.body).toString()) as { outputs: { data: number[] }[] };
    const expected = mlpReference(row, 1);
    answer.outputs[0]?.data.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 5));

    const bomb = await sendRaw(
      `${base}/v2/models/triton_job/infer`,
      'POST',
      { 'content-encoding': 'gzip' },
      gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x20)),
    );
    expect(bomb.status).toBe(413);
    expect(JSON.parse(bomb.body.toString()).error).toBe(
      'the request body inflates past the limit of 65536 bytes (bodyLimit)',
    );
    const after = await sendRaw(`${base}/v2/models/triton_job/ready`, 'GET', {});
    expect(after.status).toBe(200);

    const pids = await cli.recordedPids();
    expect((await cli.run(['shutdown'])).code).toBe(0);
    await cli.assertNothingLeft(pids, [redisPort, httpPort]);
  });
});
