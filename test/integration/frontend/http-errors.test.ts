import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isErrorCode } from '../../../src/errors/registry.js';
import { keys } from '../../../src/redis/keys.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';
import { MLP } from '../../unit/frontend/fake-backend.js';
import { postJson, seeded, startFrontend, type RunningFrontend } from './frontend-harness.js';

interface RawAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Sends `request` as raw bytes (what fetch would refuse to send) and reads the answer until the server closes. */
function rawRequest(url: string, request: string): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
      const bodyAt = text.indexOf('\r\n\r\n');
      if (status === null || bodyAt === -1) {
        reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      resolve({
        status: Number(status[1]),
        body: JSON.parse(text.slice(bodyAt + 4)) as Record<string, unknown>,
      });
    });
  });
}

function expectOurBody(answer: RawAnswer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(Object.keys(answer.body).sort()).toEqual(['code', 'error']);
  expect(answer.body['code']).toBe(code);
  expect(isErrorCode(String(answer.body['code']))).toBe(true);
}

describe('HTTP frontend: every error answer has our body and a registry code', () => {
  let redis: TestRedis;
  let frontend: RunningFrontend;

  beforeAll(async () => {
    redis = await startRedis();
    frontend = await startFrontend(redis.url, 'errors_job');
  });

  afterAll(async () => {
    await frontend?.close();
    await redis?.stop();
  });

  it('a URL over what the server reads is 414 CS_ERR_HTTP_URI_TOO_LONG', async () => {
    const answer = await rawRequest(
      frontend.url,
      `GET /v2/models/${'x'.repeat(20_000)} HTTP/1.1\r\nHost: t\r\n\r\n`,
    );
    expectOurBody(answer, 414, 'CS_ERR_HTTP_URI_TOO_LONG');
  });

  it('headers over what the server reads are 431 CS_ERR_HTTP_HEADERS_TOO_LARGE', async () => {
    const answer = await rawRequest(
      frontend.url,
      `GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`,
    );
    expectOurBody(answer, 431, 'CS_ERR_HTTP_HEADERS_TOO_LARGE');
  });

  it('bytes that are not HTTP are 400 CS_ERR_HTTP_BAD_REQUEST', async () => {
    const answer = await rawRequest(frontend.url, 'NOT HTTP AT ALL\r\n\r\n');
    expectOurBody(answer, 400, 'CS_ERR_HTTP_BAD_REQUEST');
  });

  it('Content-Length together with chunked encoding (a request-smuggling pattern) is 400 in our body', async () => {
    const answer = await rawRequest(
      frontend.url,
      'POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    expectOurBody(answer, 400, 'CS_ERR_HTTP_BAD_REQUEST');
  });

  it('a request Redis added whose answer is lost with Redis is 504 CS_ERR_OUTCOME_UNKNOWN, not a 503 to retry', async () => {
    const admin = redis.client();
    // A worker that looks alive but never reads: the entry stays in the stream.
    await admin.set(keys.model('errors_job'), JSON.stringify({ ...MLP, name: 'errors_job' }));
    await admin.zadd(keys.workers('errors_job'), Date.now() + 60_000, 'idle-worker');
    const x = seeded(7, 4);
    const answer = postJson(`${frontend.url}/v2/models/errors_job/infer`, {
      inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: Array.from(x) }],
    });
    await waitFor(async () => (await admin.xlen(keys.stream('errors_job'))) === 1, {
      what: 'the entry added',
    });
    await redis.stop();
    const res = await answer;
    expect(res.status).toBe(504);
    expect(res.body['code']).toBe('CS_ERR_OUTCOME_UNKNOWN');
    expect(res.headers.get('retry-after')).toBeNull();
  });
});
