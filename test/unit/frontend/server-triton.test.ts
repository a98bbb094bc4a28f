import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { CsError } from '../../../src/errors/registry.js';
import { buildServer } from '../../../src/frontend/server.js';
import type { NamedTensor } from '../../../src/protocol/tensor.js';
import { FakeBackend, JOB, MLP, TWO_IO, httpOptions } from './fake-backend.js';

let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

function serve(backend: FakeBackend): FastifyInstance {
  app = buildServer({ backend, http: httpOptions() });
  return app;
}

/** Body bytes as tritonclient.http writes them (rapidjson.dumps: no spaces). */
const tritonBody = (request: unknown): string => JSON.stringify(request);

const post = (url: string, payload = ''): { method: 'POST'; url: string; payload: string } => ({
  method: 'POST',
  url,
  payload,
});

describe('GET /v2/models/{m}[/versions/{v}]/config (Triton model configuration)', () => {
  it('states a batching job with dims without the batch dimension and dynamic batching', async () => {
    const backend = new FakeBackend();
    backend.jobStatus = { liveWorkers: 1, model: { ...TWO_IO, maxBatchSize: 16, maxBatchDelayMs: 5 } };
    const server = serve(backend);
    for (const url of [`/v2/models/${JOB}/config`, `/v2/models/${JOB}/versions/1/config`]) {
      const res = await server.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.json()).toEqual({
        name: JOB,
        platform: 'onnxruntime_onnx',
        backend: 'onnxruntime',
        version_policy: { latest: { num_versions: 1 } },
        max_batch_size: 16,
        input: [
          { name: 'a', data_type: 'TYPE_FP32', dims: [4] },
          { name: 'b', data_type: 'TYPE_INT64', dims: [2] },
        ],
        output: [
          { name: 'sum', data_type: 'TYPE_FP32', dims: [4] },
          { name: 'score', data_type: 'TYPE_FP32', dims: [1] },
        ],
        dynamic_batching: { preferred_batch_size: [], max_queue_delay_microseconds: 5000 },
      });
    }
  });

  it('states a job whose records are batches already with max_batch_size 0 and full dims', async () => {
    const backend = new FakeBackend();
    backend.jobStatus = {
      liveWorkers: 1,
      model: {
        ...MLP,
        inputAlreadyBatched: true,
        inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
        outputs: [{ name: 'mask', datatype: 'BOOL', shape: [2, -1] }],
      },
    };
    const config = (await serve(backend).inject({ url: `/v2/models/${JOB}/config` })).json();
    expect(config).toMatchObject({
      max_batch_size: 0,
      input: [{ name: 'text', data_type: 'TYPE_STRING', dims: [-1] }],
      output: [{ name: 'mask', data_type: 'TYPE_BOOL', dims: [2, -1] }],
    });
    expect(config).not.toHaveProperty('dynamic_batching');
  });

  it('takes a queue delay of 0 from a worker that published none', async () => {
    const config = (await serve(new FakeBackend()).inject({ url: `/v2/models/${JOB}/config` })).json();
    expect(config.dynamic_batching).toEqual({ preferred_batch_size: [], max_queue_delay_microseconds: 0 });
  });

  it('answers 404 for another model or version, 503 before any worker published the model', async () => {
    const backend = new FakeBackend();
    const server = serve(backend);
    for (const url of ['/v2/models/other/config', `/v2/models/${JOB}/versions/2/config`]) {
      const res = await server.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error).toMatch(/unknown model "other"|no version "2"/);
    }
    backend.jobStatus = { liveWorkers: 0, model: undefined };
    const res = await server.inject({ url: `/v2/models/${JOB}/config` });
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toContain('no worker has loaded the model');
  });
});

describe('Triton model repository (read-only)', () => {
  it('indexes every job of the Redis with READY or UNAVAILABLE, or only the ready ones', async () => {
    const backend = new FakeBackend();
    backend.otherJobs = [
      { name: 'a_job', ready: true },
      { name: 'z_job', ready: false },
    ];
    const server = serve(backend);
    const all = await server.inject(post('/v2/repository/index'));
    expect(all.statusCode).toBe(200);
    expect(all.json()).toEqual([
      { name: 'a_job', version: '1', state: 'READY' },
      { name: JOB, version: '1', state: 'READY' },
      { name: 'z_job', version: '1', state: 'UNAVAILABLE', reason: 'no live worker serves the job' },
    ]);
    const ready = await server.inject(post('/v2/repository/index', '{"ready":true}'));
    expect(ready.json().map((m: { name: string }) => m.name)).toEqual(['a_job', JOB]);
    const notOnly = await server.inject(post('/v2/repository/index', '{"ready":false}'));
    expect(notOnly.json()).toHaveLength(3);
    backend.jobStatus = { liveWorkers: 0, model: MLP };
    const down = await server.inject(post('/v2/repository/index'));
    expect(down.json()).toContainEqual({
      name: JOB,
      version: '1',
      state: 'UNAVAILABLE',
      reason: 'no live worker serves the job',
    });
  });

  it('answers a bad index body with 400 and Redis trouble with 503', async () => {
    const backend = new FakeBackend();
    const server = serve(backend);
    for (const [body, message] of [
      ['{', 'not valid JSON'],
      ['[]', 'an empty body or {"ready": true|false}'],
      ['{"ready":"yes"}', 'an empty body or {"ready": true|false}'],
    ] as const) {
      const res = await server.inject(post('/v2/repository/index', body));
      expect(res.statusCode, body).toBe(400);
      expect(res.json().error).toContain(message);
    }
    backend.statusError = new CsError('CS_ERR_REDIS_UNAVAILABLE', 'Redis is not reachable');
    const res = await server.inject(post('/v2/repository/index'));
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toBe('Redis is not reachable');
  });

  it('refuses load and unload with a 400 that says to use the CLI', async () => {
    const server = serve(new FakeBackend());
    const load = await server.inject(post(`/v2/repository/models/${JOB}/load`, '{}'));
    expect(load.statusCode).toBe(400);
    expect(load.json().error).toBe(
      'models are not loaded over HTTP: each model is a job; start it with `cluster-serving start -c config.yaml` (jobName: the model name)',
    );
    const unload = await server.inject(post(`/v2/repository/models/${JOB}/unload`));
    expect(unload.statusCode).toBe(400);
    expect(unload.json().error).toBe(
      `models are not unloaded over HTTP: each model is a job; stop it with \`cluster-serving stop ${JOB}\``,
    );
  });
});

describe('Triton classification extension', () => {
  const scores = (rows: number[][]): NamedTensor => ({
    name: 'output',
    type: 'FP32',
    shape: [rows.length, rows[0]?.length ?? 0],
    data: new Float32Array(rows.flat()),
  });
  const input = { name: 'input', shape: [2, 4], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8] };

  it('answers "value:index" strings of shape [batch, k], highest first, as Triton writes them', async () => {
    const backend = new FakeBackend();
    backend.answer = () => ({
      kind: 'tensors',
      outputs: [
        scores([
          [1.1, 3.3, 0.5, 2.4],
          [0.25, -1, 0.25, 7],
        ]),
      ],
    });
    const server = serve(backend);
    const res = await server.inject(
      post(
        `/v2/models/${JOB}/infer`,
        tritonBody({ inputs: [input], outputs: [{ name: 'output', parameters: { classification: 2 } }] }),
      ),
    );
    expect(res.statusCode).toBe(200);
    expect(res.json().outputs).toEqual([
      {
        name: 'output',
        datatype: 'BYTES',
        shape: [2, 2],
        data: ['3.300000:1', '2.400000:3', '7.000000:3', '0.250000:0'],
      },
    ]);
  });

  it('gives every class when k is above their count, and binary BYTES when asked (Triton client default)', async () => {
    const backend = new FakeBackend();
    backend.answer = () => ({ kind: 'tensors', outputs: [scores([[0.5, 0.75, 0.125]])] });
    const server = serve(backend);
    const body = tritonBody({
      inputs: [{ ...input, shape: [1, 4], data: [1, 2, 3, 4] }],
      outputs: [{ name: 'output', parameters: { classification: 10, binary_data: true } }],
    });
    const res = await server.inject(post(`/v2/models/${JOB}/infer`, body));
    expect(res.statusCode).toBe(200);
    const headerLength = Number(res.headers['inference-header-content-length']);
    const raw = res.rawPayload;
    const header = JSON.parse(raw.subarray(0, headerLength).toString());
    expect(header.outputs).toEqual([
      { name: 'output', datatype: 'BYTES', shape: [1, 3], parameters: { binary_data_size: 42 } },
    ]);
    const strings: string[] = [];
    for (let at = headerLength; at < raw.length;) {
      const length = raw.readUInt32LE(at);
      strings.push(raw.toString('utf8', at + 4, at + 4 + length));
      at += 4 + length;
    }
    expect(strings).toEqual(['0.750000:1', '0.500000:0', '0.125000:2']);
  });

  it('classifies integer outputs exactly and a job whose records are batches as one tensor', async () => {
    const backend = new FakeBackend();
    backend.jobStatus = {
      liveWorkers: 1,
      model: {
        ...MLP,
        inputAlreadyBatched: true,
        outputs: [{ name: 'output', datatype: 'INT64', shape: [2, 2] }],
      },
    };
    backend.answer = () => ({
      kind: 'tensors',
      outputs: [
        {
          name: 'output',
          type: 'INT64',
          shape: [2, 2],
          data: BigInt64Array.of(5n, 9007199254740993n, -2n, 9007199254740992n),
        },
      ],
    });
    const res = await serve(backend).inject(
      post(
        `/v2/models/${JOB}/infer`,
        tritonBody({ inputs: [input], outputs: [{ name: 'output', parameters: { classification: 3 } }] }),
      ),
    );
    expect(res.json().outputs[0]).toEqual({
      name: 'output',
      datatype: 'BYTES',
      shape: [3],
      data: ['9007199254740993:1', '9007199254740992:3', '5:0'],
    });
  });

  it('leaves other outputs alone and takes 0 as a plain output', async () => {
    const backend = new FakeBackend();
    backend.jobStatus = { liveWorkers: 1, model: TWO_IO };
    backend.answer = () => ({
      kind: 'tensors',
      outputs: [
        { name: 'sum', type: 'FP32', shape: [1, 4], data: new Float32Array([1, 4, 2, 3]) },
        { name: 'score', type: 'FP32', shape: [1, 1], data: new Float32Array([9]) },
      ],
    });
    const inputs = [
      { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
      { name: 'b', shape: [1, 2], datatype: 'INT64', data: [1, 2] },
    ];
    const res = await serve(backend).inject(
      post(
        `/v2/models/${JOB}/infer`,
        tritonBody({
          inputs,
          outputs: [
            { name: 'score', parameters: { classification: 0 } },
            { name: 'sum', parameters: { classification: 1 } },
          ],
        }),
      ),
    );
    expect(res.json().outputs).toEqual([
      { name: 'score', datatype: 'FP32', shape: [1, 1], data: [9] },
      { name: 'sum', datatype: 'BYTES', shape: [1, 1], data: ['4.000000:1'] },
    ]);
  });

  it('refuses a bad classification count or an output that cannot be classified, before any work', async () => {
    const backend = new FakeBackend();
    const server = serve(backend);
    for (const count of [-1, 1.5, '2', true, null, 2 ** 32]) {
      const res = await server.inject(
        post(
          `/v2/models/${JOB}/infer`,
          tritonBody({
            inputs: [input],
            outputs: [{ name: 'output', parameters: { classification: count } }],
          }),
        ),
      );
      expect(res.statusCode, String(count)).toBe(400);
      expect(res.json().error).toContain(
        'output "output": parameters.classification must be the number of classes to return',
      );
    }
    backend.jobStatus = {
      liveWorkers: 1,
      model: { ...MLP, outputs: [{ name: 'output', datatype: 'BYTES', shape: [-1] }] },
    };
    const res = await server.inject(
      post(
        `/v2/models/${JOB}/infer`,
        tritonBody({ inputs: [input], outputs: [{ name: 'output', parameters: { classification: 1 } }] }),
      ),
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('output "output": classification is not available for BYTES outputs');
    expect(backend.submitted).toEqual([]);
  });
});

describe('requests exactly as tritonclient.http sends them', () => {
  it('reads an INT64 input beyond 2^53 under /versions/1/infer, answering binary outputs', async () => {
    const backend = new FakeBackend();
    backend.jobStatus = { liveWorkers: 1, model: TWO_IO };
    backend.answer = (inputs) => ({
      kind: 'tensors',
      outputs: [
        { name: 'sum', type: 'FP32', shape: [1, 4], data: new Float32Array(4) },
        { name: 'score', type: 'FP32', shape: [1, 1], data: new Float32Array([inputs.length]) },
      ],
    });
    const server = serve(backend);
    // InferInput.set_data_from_numpy(..., binary_data=False) writes the values as JSON numbers;
    // no outputs named: parameters.binary_data_output.
    const body =
      '{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP32","data":[1.0,2.0,3.0,4.0]},' +
      '{"name":"b","shape":[1,2],"datatype":"INT64","data":[9007199254740993,-9223372036854775808]}],' +
      '"parameters":{"binary_data_output":true}}';
    const res = await server.inject({
      method: 'POST',
      url: `/v2/models/${JOB}/versions/1/infer`,
      payload: body,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['inference-header-content-length']).toBeDefined();
    const b = backend.submitted[0]?.[1];
    expect(Array.from(b?.data as BigInt64Array)).toEqual([9007199254740993n, -(2n ** 63n)]);
  });

  it('names the input when an INT64 value is out of range', async () => {
    const backend = new FakeBackend();
    backend.jobStatus = { liveWorkers: 1, model: TWO_IO };
    const body =
      '{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP32","data":[1.0,2.0,3.0,4.0]},' +
      '{"name":"b","shape":[1,2],"datatype":"INT64","data":[1,9223372036854775808]}]}';
    const res = await serve(backend).inject(post(`/v2/models/${JOB}/infer`, body));
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('input "b": data[1] = 9223372036854775808 is out of range for INT64');
  });
});
