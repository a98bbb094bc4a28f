import { gunzipSync, gzipSync, deflateRawSync, deflateSync, inflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { answerEncoding } from '../../../src/frontend/http-compression.js';
import { buildServer } from '../../../src/frontend/server.js';
import { FakeBackend, JOB, httpOptions } from './fake-backend.js';

let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

function serve(backend = new FakeBackend(), bodyLimit = 1024 * 1024): FastifyInstance {
  app = buildServer({ backend, http: httpOptions({ bodyLimit }) });
  return app;
}

const BODY = JSON.stringify({
  inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }],
});
const ANSWER = {
  model_name: JOB,
  model_version: '1',
  outputs: [{ name: 'output', datatype: 'FP32', shape: [1, 3], data: [10, 20, -10] }],
};

const post = (
  payload: Buffer | string,
  headers: Record<string, string>,
): { method: 'POST'; url: string; payload: Buffer | string; headers: Record<string, string> } => ({
  method: 'POST',
  url: `/v2/models/${JOB}/infer`,
  payload,
  headers: { 'content-type': 'application/json', ...headers },
});

/** A binary-tensor body as Triton's client builds it: JSON header, then the FP32 bytes. */
function binaryBody(): { body: Buffer; headerLength: number } {
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }],
      outputs: [{ name: 'output', parameters: { binary_data: true } }],
    }),
  );
  const tensor = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);
  return { body: Buffer.concat([header, tensor]), headerLength: header.length };
}

describe('compressed requests (Content-Encoding)', () => {
  it('takes gzip, deflate (zlib, as Triton writes it) and raw deflate JSON bodies', async () => {
    const backend = new FakeBackend();
    const server = serve(backend);
    const bodies: [string, Buffer][] = [
      ['gzip', gzipSync(BODY)],
      ['deflate', deflateSync(BODY)],
      ['deflate', deflateRawSync(BODY)],
      ['GZIP', gzipSync(BODY)],
    ];
    for (const [encoding, body] of bodies) {
      const res = await server.inject(post(body, { 'content-encoding': encoding }));
      expect(res.statusCode, encoding).toBe(200);
      expect(res.json()).toEqual(ANSWER);
    }
    expect(backend.submitted).toHaveLength(4);
  });

  it('takes a compressed binary body whose Inference-Header-Content-Length counts the plain JSON header', async () => {
    const server = serve();
    const { body, headerLength } = binaryBody();
    for (const [encoding, compressed] of [
      ['gzip', gzipSync(body)],
      ['deflate', deflateSync(body)],
    ] as const) {
      const res = await server.inject(
        post(compressed, {
          'content-type': 'application/octet-stream',
          'content-encoding': encoding,
          'inference-header-content-length': String(headerLength),
        }),
      );
      expect(res.statusCode, encoding).toBe(200);
      const answerHeader = Number(res.headers['inference-header-content-length']);
      const raw = res.rawPayload;
      expect(JSON.parse(raw.subarray(0, answerHeader).toString())).toMatchObject({
        outputs: [{ name: 'output', parameters: { binary_data_size: 12 } }],
      });
      const values = new Float32Array(Uint8Array.from(raw.subarray(answerHeader)).buffer);
      expect(Array.from(values)).toEqual([10, 20, -10]);
    }
  });

  it('answers bad compressed data with a 400 that says what was wrong, and keeps serving', async () => {
    const server = serve();
    const gz = gzipSync(BODY);
    const cases: [string, Buffer, string][] = [
      ['gzip', Buffer.from(BODY), 'not valid gzip data'],
      ['gzip', gz.subarray(0, gz.length - 10), 'not valid gzip data'],
      ['deflate', Buffer.from('not deflate at all'), 'not valid deflate data'],
    ];
    for (const [encoding, body, message] of cases) {
      const res = await server.inject(post(body, { 'content-encoding': encoding }));
      expect(res.statusCode, message).toBe(400);
      expect(res.json().error).toContain(message);
    }
    expect((await server.inject(post(BODY, {}))).statusCode).toBe(200);
  });

  it('refuses an encoding it does not know with a 415', async () => {
    const server = serve();
    for (const encoding of ['br', 'gzip, gzip', 'compress']) {
      const res = await server.inject(post(gzipSync(BODY), { 'content-encoding': encoding }));
      expect(res.statusCode, encoding).toBe(415);
      expect(res.json().error).toContain('is not supported; send the body as is, gzip or deflate');
    }
  });

  it('stops inflating at bodyLimit: a small body that inflates past it is a 413', async () => {
    const limit = 64 * 1024;
    const server = serve(new FakeBackend(), limit);
    // 16 MB of zeros gzip to about 16 KB: well under the limit, far past it inflated.
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(limit);
    for (const [encoding, body] of [
      ['gzip', bomb],
      ['deflate', deflateSync(Buffer.alloc(16 * 1024 * 1024))],
    ] as const) {
      const res = await server.inject(post(body, { 'content-encoding': encoding }));
      expect(res.statusCode, encoding).toBe(413);
      expect(res.json().error).toBe(`the request body inflates past the limit of ${limit} bytes (bodyLimit)`);
    }
    // Exactly the limit still inflates.
    const padded = BODY + ' '.repeat(limit - BODY.length);
    const res = await server.inject(post(gzipSync(padded), { 'content-encoding': 'gzip' }));
    expect(res.statusCode).toBe(200);
  });
});

describe('compressed answers (Accept-Encoding)', () => {
  it('compresses only when asked, with gzip or deflate', async () => {
    const server = serve();
    const plain = await server.inject(post(BODY, {}));
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.json()).toEqual(ANSWER);

    const gz = await server.inject(post(BODY, { 'accept-encoding': 'gzip' }));
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(gz.rawPayload).toString())).toEqual(ANSWER);

    const df = await server.inject(post(BODY, { 'accept-encoding': 'deflate' }));
    expect(df.headers['content-encoding']).toBe('deflate');
    expect(JSON.parse(inflateSync(df.rawPayload).toString())).toEqual(ANSWER);

    const refused = await server.inject(post(BODY, { 'accept-encoding': 'gzip;q=0, identity' }));
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(refused.json()).toEqual(ANSWER);
  });

  it('compresses binary answers whole; the header length counts the plain JSON header', async () => {
    const server = serve();
    const { body, headerLength } = binaryBody();
    const res = await server.inject(
      post(body, {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(headerLength),
        'accept-encoding': 'gzip',
      }),
    );
    expect(res.headers['content-encoding']).toBe('gzip');
    const raw = gunzipSync(res.rawPayload);
    const answerHeader = Number(res.headers['inference-header-content-length']);
    expect(JSON.parse(raw.subarray(0, answerHeader).toString())).toMatchObject({ model_name: JOB });
    expect(raw.length - answerHeader).toBe(12);
  });

  it('compresses error answers and metadata too', async () => {
    const server = serve();
    const error = await server.inject(post('{', { 'accept-encoding': 'gzip' }));
    expect(error.statusCode).toBe(400);
    expect(JSON.parse(gunzipSync(error.rawPayload).toString()).error).toContain('not valid JSON');
    const meta = await server.inject({ url: `/v2/models/${JOB}`, headers: { 'accept-encoding': 'deflate' } });
    expect(JSON.parse(inflateSync(meta.rawPayload).toString())).toMatchObject({ name: JOB });
  });

  it('reads Accept-Encoding as HTTP defines it', () => {
    expect(answerEncoding(undefined)).toBeUndefined();
    expect(answerEncoding('identity')).toBeUndefined();
    expect(answerEncoding('gzip')).toBe('gzip');
    expect(answerEncoding('deflate')).toBe('deflate');
    expect(answerEncoding('deflate, gzip, br')).toBe('gzip');
    expect(answerEncoding('gzip;q=0, deflate;q=0.5')).toBe('deflate');
    expect(answerEncoding('*')).toBe('gzip');
    expect(answerEncoding('*, gzip;q=0')).toBe('deflate');
    expect(answerEncoding('br')).toBeUndefined();
  });
});
