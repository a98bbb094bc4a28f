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

function serve(backend: FakeBackend, over: Parameters<typeof httpOptions>[0] = {}): FastifyInstance {
  app = buildServer({ backend, http: httpOptions(over) });
  return app;
}

const infer = (
  body: unknown,
  model = JOB,
): { method: 'POST'; url: string; payload: string; headers: Record<string, string> } => ({
  method: 'POST',
  url: `/v2/models/${model}/infer`,
  payload: typeof body === 'string' ? body : JSON.stringify(body),
  headers: { 'content-type': 'application/json' },
});

const mlpInput = {
  name: 'input',
  shape: [2, 4],
  datatype: 'FP32',
  data: [
    [1, 2, 3, 4],
    [0.5, 0.5, 0.5, 0.5],
  ],
};

describe('OIP metadata and health', () => {
  it('answers /v2, live, ready and the model metadata', async () => {
    const backend = new FakeBackend();
    const server = serve(backend);
    expect((await server.inject({ url: '/v2' })).json()).toMatchObject({
      name: 'cluster-serving',
      extensions: ['binary_tensor_data', 'classification', 'model_configuration', 'statistics'],
    });
    expect((await server.inject({ url: '/v2/health/live' })).json()).toEqual({ live: true });
    const ready = await server.inject({ url: '/v2/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ ready: true });
    const model = await server.inject({ url: `/v2/models/${JOB}` });
    expect(model.statusCode).toBe(200);
    expect(model.json()).toEqual({
      name: JOB,
      versions: ['1'],
      platform: 'onnx_onnxv1',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 3] }],
    });
    expect((await server.inject({ url: `/v2/models/${JOB}/ready` })).json()).toEqual({
      name: JOB,
      ready: true,
    });
  });

  it('is not ready (503) without a live worker, and 404 for another model name', async () => {
    const backend = new FakeBackend();
    backend.jobStatus = { liveWorkers: 0, model: TWO_IO };
    const server = serve(backend);
    const ready = await server.inject({ url: '/v2/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.headers['retry-after']).toBe('1');
    expect(ready.json()).toMatchObject({ ready: false, error: expect.stringContaining('no live worker') });
    expect((await server.inject({ url: `/v2/models/${JOB}/ready` })).statusCode).toBe(503);
    // Metadata stays readable from what the last worker published.
    expect((await server.inject({ url: `/v2/models/${JOB}` })).statusCode).toBe(200);
    for (const url of ['/v2/models/other', '/v2/models/other/ready']) {
      const res = await server.inject({ url });
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toContain('unknown model "other"');
    }
    expect((await server.inject(infer({ inputs: [mlpInput] }, 'other'))).statusCode).toBe(404);
    backend.jobStatus = { liveWorkers: 0, model: undefined };
    expect((await server.inject({ url: `/v2/models/${JOB}` })).statusCode).toBe(503);
  });
});

describe('versioned model routes', () => {
  it('serves version "1" under /versions/{version} and 404s any other version', async () => {
    const backend = new FakeBackend();
    const server = serve(backend);
    expect((await server.inject({ url: `/v2/models/${JOB}/versions/1` })).json()).toMatchObject({
      name: JOB,
    });
    expect((await server.inject({ url: `/v2/models/${JOB}/versions/1/ready` })).statusCode).toBe(200);
    const res = await server.inject({
      ...infer({ inputs: [mlpInput] }),
      url: `/v2/models/${JOB}/versions/1/infer`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().model_version).toBe('1');
    const other = await server.inject({
      ...infer({ inputs: [mlpInput] }),
      url: `/v2/models/${JOB}/versions/2/infer`,
    });
    expect(other.statusCode).toBe(404);
    expect(other.json().error).toContain('no version "2"');
    expect(backend.submitted).toHaveLength(1);
  });
});

describe('POST /v2/models/{job}/infer', () => {
  it('submits the tensors and answers the outputs with id echoed', async () => {
    const backend = new FakeBackend();
    const server = serve(backend);
    const res = await server.inject(infer({ id: 'req-7', inputs: [mlpInput] }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      model_name: JOB,
      model_version: '1',
      id: 'req-7',
      outputs: [{ name: 'output', datatype: 'FP32', shape: [2, 3], data: [10, 20, -10, 2, 4, -2] }],
    });
    expect(backend.submitted).toHaveLength(1);
    expect(backend.submitted[0]?.[0]?.shape).toEqual([2, 4]);
  });

  it('honours the outputs filter, in the order asked', async () => {
    const backend = new FakeBackend();
    backend.jobStatus = { liveWorkers: 1, model: TWO_IO };
    backend.answer = () => ({
      kind: 'tensors',
      outputs: [
        { name: 'sum', type: 'FP32', shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) },
        { name: 'score', type: 'FP32', shape: [1, 1], data: new Float32Array([9]) },
      ],
    });
    const server = serve(backend);
    const inputs = [
      { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
      { name: 'b', shape: [1, 2], datatype: 'INT64', data: [1, '9007199254740993'] },
    ];
    const res = await server.inject(infer({ inputs, outputs: [{ name: 'score' }] }));
    expect(res.statusCode).toBe(200);
    expect(res.json().outputs).toEqual([{ name: 'score', datatype: 'FP32', shape: [1, 1], data: [9] }]);
    const b = backend.submitted[0]?.find((t) => t.name === 'b') as NamedTensor;
    expect(Array.from(b.data as BigInt64Array)).toEqual([1n, 9007199254740993n]);
  });

  it('answers a postProcessing text as a BYTES output', async () => {
    const backend = new FakeBackend();
    backend.answer = () => ({ kind: 'text', text: '[[1,0.5]]' });
    const res = await serve(backend).inject(infer({ inputs: [mlpInput] }));
    expect(res.json().outputs).toEqual([
      { name: 'postprocessing', datatype: 'BYTES', shape: [1], data: ['[[1,0.5]]'] },
    ]);
  });

  it('refuses bad input with 400 naming the input, before anything is submitted', async () => {
    const backend = new FakeBackend();
    const server = serve(backend);
    const cases: [unknown, string][] = [
      ['{not json', 'not valid JSON'],
      ['', 'the request body is empty'],
      [{ inputs: [{ ...mlpInput, name: 'nope' }] }, 'input "nope" is not an input of model'],
      [{ inputs: [{ ...mlpInput, datatype: 'FP64' }] }, 'input "input": datatype FP64 does not match'],
      [{ inputs: [{ ...mlpInput, shape: [4, 2] }] }, 'input "input": shape [4,2] does not fit'],
      [{ inputs: [{ ...mlpInput, shape: [3, 4] }] }, '"data" holds 8 elements, the shape needs 12'],
      [{ inputs: [mlpInput], outputs: [{ name: 'logits' }] }, 'output "logits" is not an output'],
    ];
    for (const [body, text] of cases) {
      const res = await server.inject(infer(body));
      expect(res.statusCode, text).toBe(400);
      expect(res.headers['content-type']).toContain('application/json');
      expect(res.json().error).toContain(text);
    }
    expect(backend.submitted).toHaveLength(0);
  });

  it('maps every failure to its status: 503 no worker / Redis down / queue full, 504 timeout, worker errors', async () => {
    const backend = new FakeBackend();
    const server = serve(backend);
    const statusFor = async (): Promise<{ status: number; error: string; retry: unknown }> => {
      const res = await server.inject(infer({ inputs: [mlpInput] }));
      return { status: res.statusCode, error: res.json().error as string, retry: res.headers['retry-after'] };
    };
    backend.jobStatus = { liveWorkers: 0, model: undefined };
    expect(await statusFor()).toMatchObject({
      status: 503,
      retry: '1',
      error: expect.stringContaining('no live worker'),
    });
    backend.jobStatus = { liveWorkers: 1, model: MLP };
    backend.statusError = new CsError('CS_ERR_REDIS_UNAVAILABLE', 'Redis is not reachable');
    expect(await statusFor()).toMatchObject({ status: 503, error: 'Redis is not reachable' });
    backend.statusError = undefined;
    const failures: [() => never, number][] = [
      [
        () => {
          throw new CsError('CS_ERR_QUEUE_FULL', 'queue full');
        },
        503,
      ],
      [
        () => {
          throw new CsError('CS_ERR_TIMEOUT', 'no result');
        },
        504,
      ],
      [
        () => {
          throw new Error('boom');
        },
        500,
      ],
    ];
    for (const [answer, status] of failures) {
      backend.answer = answer;
      expect((await statusFor()).status).toBe(status);
    }
    // Written, but fewer replicas than redisMinReplicas confirmed it: accepted, outcome unknown.
    backend.answer = () => {
      throw new CsError('CS_ERR_REDIS_REPLICAS', 'WAIT: 0 of 1 replicas');
    };
    expect(await statusFor()).toMatchObject({ status: 504, retry: undefined });
    backend.answer = () => ({
      kind: 'error',
      code: 'CS_ERR_DEADLINE_EXCEEDED',
      message: 'skipped: past its deadline',
    });
    expect(await statusFor()).toMatchObject({ status: 504, error: 'skipped: past its deadline' });
    backend.answer = () => ({
      kind: 'error',
      code: 'CS_ERR_INFERENCE_FAILED',
      message: 'onnxruntime said no',
    });
    expect(await statusFor()).toMatchObject({ status: 500, error: 'onnxruntime said no' });
  });
});
