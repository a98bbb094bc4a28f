import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../../../src/frontend/server.js';
import type { NamedTensor } from '../../../src/protocol/tensor.js';
import { FakeBackend, JOB, TWO_IO, httpOptions } from './fake-backend.js';

let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

function serve(backend: FakeBackend): FastifyInstance {
  app = buildServer({ backend, http: httpOptions() });
  return app;
}

/** A body as Triton's clients write it: the JSON header, then each binary input's bytes. */
function binaryRequest(
  header: unknown,
  ...tails: Buffer[]
): {
  method: 'POST';
  url: string;
  payload: Buffer;
  headers: Record<string, string>;
} {
  const json = Buffer.from(JSON.stringify(header));
  return {
    method: 'POST',
    url: `/v2/models/${JOB}/infer`,
    payload: Buffer.concat([json, ...tails]),
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(json.length),
    },
  };
}

const bytesOf = (view: ArrayBufferView): Buffer => Buffer.from(view.buffer, view.byteOffset, view.byteLength);

/** The JSON header and the binary tail of a binary answer. */
function splitAnswer(body: Buffer, headerLength: string | undefined): { header: unknown; tail: Buffer } {
  const length = Number(headerLength);
  return { header: JSON.parse(body.subarray(0, length).toString('utf8')), tail: body.subarray(length) };
}

const mlpValues = Float32Array.of(1, 2, 3, 4, 0.5, 0.5, 0.5, 0.25);

describe('the binary tensor extension', () => {
  it('reads a binary input as its JSON form and answers binary outputs when asked', async () => {
    const backend = new FakeBackend();
    const server = serve(backend);
    const res = await server.inject(
      binaryRequest(
        {
          id: 'b1',
          inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', parameters: { binary_data_size: 32 } }],
          outputs: [{ name: 'output', parameters: { binary_data: true } }],
        },
        bytesOf(mlpValues),
      ),
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(Array.from(backend.submitted[0]?.[0]?.data as Float32Array)).toEqual(Array.from(mlpValues));
    const { header, tail } = splitAnswer(
      res.rawPayload,
      res.headers['inference-header-content-length'] as string,
    );
    expect(header).toEqual({
      model_name: JOB,
      model_version: '1',
      id: 'b1',
      outputs: [{ name: 'output', datatype: 'FP32', shape: [2, 3], parameters: { binary_data_size: 24 } }],
    });
    const sums = new Float32Array(tail.buffer.slice(tail.byteOffset, tail.byteOffset + tail.length));
    expect(Array.from(sums)).toEqual([10, 20, -10, 1.75, 3.5, -1.75]);

    // The same input in JSON, answered in JSON, gives the same numbers.
    const json = await server.inject({
      method: 'POST',
      url: `/v2/models/${JOB}/infer`,
      payload: JSON.stringify({
        inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', data: Array.from(mlpValues) }],
      }),
      headers: { 'content-type': 'application/json' },
    });
    expect((json.json() as { outputs: { data: number[] }[] }).outputs[0]?.data).toEqual(Array.from(sums));
  });

  it('takes each binary input from the tail in order, mixes with JSON inputs, and answers all in binary on binary_data_output', async () => {
    const backend = new FakeBackend();
    backend.jobStatus = { liveWorkers: 1, model: TWO_IO };
    const answer: NamedTensor[] = [
      { name: 'sum', type: 'FP32', shape: [1, 4], data: Float32Array.of(1, 2, 3, 4) },
      { name: 'score', type: 'FP32', shape: [1, 1], data: Float32Array.of(0.5) },
    ];
    backend.answer = () => ({ kind: 'tensors', outputs: answer });
    const server = serve(backend);
    const b = BigInt64Array.of(9007199254740993n, -2n);
    const res = await server.inject(
      binaryRequest(
        {
          inputs: [
            { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
            { name: 'b', shape: [1, 2], datatype: 'INT64', parameters: { binary_data_size: 16 } },
          ],
          parameters: { binary_data_output: true },
        },
        bytesOf(b),
      ),
    );
    expect(res.statusCode).toBe(200);
    const submitted = backend.submitted[0] ?? [];
    expect(Array.from(submitted[1]?.data as BigInt64Array)).toEqual([9007199254740993n, -2n]);
    const { header, tail } = splitAnswer(
      res.rawPayload,
      res.headers['inference-header-content-length'] as string,
    );
    expect((header as { outputs: { parameters: unknown }[] }).outputs.map((o) => o.parameters)).toEqual([
      { binary_data_size: 16 },
      { binary_data_size: 4 },
    ]);
    expect(tail.length).toBe(20);
  });

  it('reads BYTES elements as text, raw images as base64, and BOOL as one byte each', async () => {
    const backend = new FakeBackend();
    backend.jobStatus = {
      liveWorkers: 1,
      model: {
        ...TWO_IO,
        inputs: [
          { name: 'text', datatype: 'BYTES', shape: [-1] },
          { name: 'flag', datatype: 'BOOL', shape: [-1] },
        ],
      },
    };
    const server = serve(backend);
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]);
    const element = (bytes: Buffer): Buffer => {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return Buffer.concat([length, bytes]);
    };
    const texts = Buffer.concat([element(Buffer.from('héllo')), element(jpeg)]);
    const res = await server.inject(
      binaryRequest(
        {
          inputs: [
            { name: 'text', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: texts.length } },
            { name: 'flag', shape: [2], datatype: 'BOOL', parameters: { binary_data_size: 2 } },
          ],
        },
        texts,
        Buffer.from([1, 0]),
      ),
    );
    expect(res.statusCode).toBe(200);
    const [text, flag] = backend.submitted[0] ?? [];
    expect(text?.data).toEqual(['héllo', jpeg.toString('base64')]);
    expect(Array.from(flag?.data as Uint8Array)).toEqual([1, 0]);
  });

  it('refuses a binary body that does not add up, with a 400 that says where, before anything is submitted', async () => {
    const backend = new FakeBackend();
    const server = serve(backend);
    const input = (size: number): unknown => ({
      inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', parameters: { binary_data_size: size } }],
    });
    const cases: [ReturnType<typeof binaryRequest>, string][] = [
      [binaryRequest(input(32), bytesOf(mlpValues).subarray(0, 20)), 'runs past the end of the body'],
      [binaryRequest(input(16), bytesOf(mlpValues).subarray(0, 16)), 'but 8 FP32 values take 32'],
      [binaryRequest(input(32), bytesOf(mlpValues), Buffer.from([1])), 'holds 33 bytes'],
      [
        {
          ...binaryRequest(input(32), bytesOf(mlpValues)),
          headers: { 'inference-header-content-length': '9999' },
        },
        'Inference-Header-Content-Length must be',
      ],
      [
        {
          ...binaryRequest(input(32), bytesOf(mlpValues)),
          headers: { 'inference-header-content-length': '5' },
        },
        'the JSON header is not valid JSON',
      ],
    ];
    for (const [request, text] of cases) {
      const res = await server.inject(request);
      expect(res.statusCode, text).toBe(400);
      expect((res.json() as { error: string }).error, text).toContain(text);
    }
    expect(backend.submitted).toEqual([]);
  });

  it('names the extension in the server metadata', async () => {
    const server = serve(new FakeBackend());
    expect((await server.inject({ url: '/v2' })).json()).toMatchObject({
      extensions: ['binary_tensor_data', 'classification', 'model_configuration', 'statistics'],
    });
  });
});
