import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { isErrorCode } from '../../../src/errors/registry.js';
import { buildServer } from '../../../src/frontend/server.js';
import { FakeBackend, JOB, httpOptions } from './fake-backend.js';

let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

function serve(): FastifyInstance {
  app = buildServer({ backend: new FakeBackend(), http: httpOptions() });
  return app;
}

/** Our error body and nothing else: a readable message and a registry code. */
function expectOurBody(payload: string, code: string): void {
  const body = JSON.parse(payload) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['code', 'error']);
  expect(body['code']).toBe(code);
  expect(isErrorCode(String(body['code']))).toBe(true);
  expect(String(body['error']).length).toBeGreaterThan(10);
}

describe('HTTP frontend: answers fastify would write itself carry our error body', () => {
  it('a path parameter over the router limit is 414 CS_ERR_HTTP_URI_TOO_LONG', async () => {
    const res = await serve().inject({
      method: 'POST',
      url: `/v2/models/${'m'.repeat(200)}/infer`,
      payload: '{}',
    });
    expect(res.statusCode).toBe(414);
    expectOurBody(res.payload, 'CS_ERR_HTTP_URI_TOO_LONG');
  });

  it('a URL whose percent-encoding is broken is 400 CS_ERR_HTTP_BAD_REQUEST', async () => {
    const res = await serve().inject({ method: 'GET', url: `/v2/models/%E0%A4%A/ready` });
    expect(res.statusCode).toBe(400);
    expectOurBody(res.payload, 'CS_ERR_HTTP_BAD_REQUEST');
  });

  it('an unknown route is 404 CS_ERR_HTTP_NOT_FOUND naming the routes', async () => {
    const res = await serve().inject({ method: 'GET', url: '/nowhere' });
    expect(res.statusCode).toBe(404);
    expectOurBody(res.payload, 'CS_ERR_HTTP_NOT_FOUND');
    expect(res.json().error).toContain(`POST /v2/models/${JOB}/infer`);
  });

  it('malformed JSON is answered in the same body, with its code', async () => {
    const server = serve();
    const bad = await server.inject({
      method: 'POST',
      url: `/v2/models/${JOB}/infer`,
      payload: '{"inputs": [',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toMatch(/^CS_ERR_/);
    expect(Object.keys(bad.json()).sort()).toEqual(['code', 'error']);
  });
});
