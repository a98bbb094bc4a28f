import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { CsError } from '../../../src/errors/registry.js';
import type { Prediction } from '../../../src/frontend/backend.js';
import { WELCOME_TEXT, buildServer } from '../../../src/frontend/server.js';
import { createFrontendMetrics } from '../../../src/metrics/frontend-metrics.js';
import { waitFor } from '../../helpers/wait-for.js';
import { FakeBackend, JOB, MLP, httpOptions, rowSums } from './fake-backend.js';

let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

function serve(
  backend: FakeBackend,
  over: Parameters<typeof httpOptions>[0] = {},
  now?: () => number,
): FastifyInstance {
  app = buildServer({ backend, http: httpOptions(over), ...(now === undefined ? {} : { now }) });
  return app;
}

const predict = (
  body: unknown,
  contentType = 'application/json',
): { method: 'POST'; url: string; payload: string; headers: Record<string, string> } => ({
  method: 'POST',
  url: '/predict',
  payload: typeof body === 'string' ? body : JSON.stringify(body),
  headers: { 'content-type': contentType },
});

function values(element: string): { data: number[]; shape: number[] } {
  const outer = JSON.parse(element) as { value: string };
  return JSON.parse(outer.value) as { data: number[]; shape: number[] };
}

describe('GET /', () => {
  it("answers BigDL's welcome text that scripts check", async () => {
    const res = await serve(new FakeBackend()).inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(WELCOME_TEXT);
    expect(res.body).toBe('welcome to BigDL web serving frontend');
  });
});

describe('POST /predict', () => {
  it('answers one instance in BigDL element form, batch dimension added for the worker and removed again', async () => {
    const backend = new FakeBackend();
    const res = await serve(backend).inject(predict({ instances: [{ input: [1, 2, 3, 4] }] }));
    expect(res.statusCode).toBe(200);
    const predictions = res.json().predictions as string[];
    expect(predictions).toHaveLength(1);
    expect(values(predictions[0] as string)).toEqual({ data: [10, 20, -10], shape: [3] });
    expect(backend.submitted[0]?.[0]?.shape).toEqual([1, 4]);
  });

  it('keeps request order across several instances, and accepts curl -d form content type', async () => {
    const backend = new FakeBackend();
    const order: number[] = [];
    // Answers arrive in reverse order of submission.
    backend.answer = (inputs, index) =>
      new Promise<Prediction>((resolve) =>
        setTimeout(
          () => {
            order.push(index);
            resolve(rowSums(inputs, index) as Prediction);
          },
          30 - index * 10,
        ),
      );
    const instances = [0, 1, 2].map((i) => ({ input: [i, i, i, i] }));
    const res = await serve(backend).inject(predict({ instances }, 'application/x-www-form-urlencoded'));
    expect(res.statusCode).toBe(200);
    expect(order).toEqual([2, 1, 0]);
    const predictions = (res.json().predictions as string[]).map(values);
    expect(predictions.map((p) => p.data[0])).toEqual([0, 4, 8]);
  });

  it('sends instances holding strings (images) as BigDL JSON for the worker to decode', async () => {
    const backend = new FakeBackend();
    backend.jobStatus = {
      liveWorkers: 1,
      model: {
        ...MLP,
        inputs: [
          { name: 'image', datatype: 'FP32', shape: [-1, 3, 2, 2] },
          { name: 'scale', datatype: 'FP32', shape: [-1, 2] },
        ],
      },
    };
    const res = await serve(backend).inject(predict({ instances: [{ image: 'aGVsbG8=', scale: [1, 2] }] }));
    expect(res.statusCode).toBe(200);
    expect(backend.submitted).toHaveLength(0);
    expect(backend.submittedJson.map((b) => JSON.parse(b))).toEqual([
      { instances: [{ image: 'aGVsbG8=', scale: [1, 2] }] },
    ]);
    expect(values((res.json().predictions as string[])[0] as string)).toEqual({
      data: [0.5, 0.25],
      shape: [2],
    });
  });

  it('answers postProcessing text as the value', async () => {
    const backend = new FakeBackend();
    backend.answer = () => ({ kind: 'text', text: '[[2,0.75],[0,0.25]]' });
    const res = await serve(backend).inject(predict({ instances: [{ input: [1, 2, 3, 4] }] }));
    expect(res.json()).toEqual({ predictions: [JSON.stringify({ value: '[[2,0.75],[0,0.25]]' })] });
  });

  it('says what is wrong with a missing or misspelled "instances" and with bad values', async () => {
    const backend = new FakeBackend();
    const server = serve(backend);
    const cases: [string, string][] = [
      ['', 'the request body is empty'],
      ['{"instance":[{"input":[1,2,3,4]}]}', 'instances'],
      ['{"data":[1]}', 'instances'],
      ['{"instances":[{"input":[1,2,3]}]}', 'instances[0].input'],
      ['{"instances":[{"input":[[1,2],[3]]}]}', 'instances[0].input'],
      ['not json', ''],
    ];
    for (const [body, text] of cases) {
      const res = await server.inject(predict(body));
      expect(res.statusCode, body).toBe(400);
      expect(res.json().error, body).toContain(text);
    }
    expect(backend.submitted).toHaveLength(0);
  });

  it('fails the request with the failing instance named', async () => {
    const backend = new FakeBackend();
    backend.answer = (inputs, index) =>
      index === 1
        ? { kind: 'error', code: 'CS_ERR_INFERENCE_FAILED', message: 'bad record' }
        : rowSums(inputs, index);
    const res = await serve(backend).inject(
      predict({ instances: [{ input: [1, 1, 1, 1] }, { input: [2, 2, 2, 2] }] }),
    );
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'instances[1]: bad record', code: 'CS_ERR_INFERENCE_FAILED' });
  });

  it('refuses a body over bodyLimit with 413', async () => {
    const backend = new FakeBackend();
    const big = JSON.stringify({ instances: [{ input: Array(4000).fill(1.2345) }] });
    const res = await serve(backend, { bodyLimit: 1024 }).inject(predict(big));
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toContain('1024 bytes');
    expect(backend.submitted).toHaveLength(0);
  });

  it('answers 429 when no token comes within tokenAcquireTimeout', async () => {
    const backend = new FakeBackend();
    const t = 5_000;
    const server = serve(
      backend,
      { tokenBucketEnabled: true, tokensPerSecond: 2, tokenAcquireTimeout: 0 },
      () => t,
    );
    const body = predict({ instances: [{ input: [1, 2, 3, 4] }] });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await server.inject(body)).statusCode);
    expect(statuses).toEqual([200, 200, 429, 429]);
    const limited = await server.inject(body);
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json().error).toContain('rate limited');
    expect(backend.submitted).toHaveLength(2);
  });

  it('answers 503 at once beyond parallelism and loses nothing below it', async () => {
    const backend = new FakeBackend();
    const pending: (() => void)[] = [];
    backend.answer = (inputs, index) =>
      new Promise<Prediction>((resolve) => pending.push(() => resolve(rowSums(inputs, index) as Prediction)));
    const server = serve(backend, { parallelism: 2 });
    const body = predict({ instances: [{ input: [1, 2, 3, 4] }] });
    const first = server.inject(body);
    const second = server.inject(body);
    await waitFor(() => backend.submitted.length === 2, { what: 'two requests in flight' });
    const third = await server.inject(body);
    expect(third.statusCode).toBe(503);
    expect(third.json().error).toContain('parallelism');
    for (const release of pending) release();
    backend.answer = rowSums;
    expect((await first).statusCode).toBe(200);
    expect((await second).statusCode).toBe(200);
    expect((await server.inject(body)).statusCode).toBe(200);
  });

  it('answers 503 when Redis is down and when no worker is alive', async () => {
    const backend = new FakeBackend();
    const server = serve(backend);
    const body = predict({ instances: [{ input: [1, 2, 3, 4] }] });
    backend.statusError = new CsError('CS_ERR_REDIS_UNAVAILABLE', 'Redis is not reachable');
    const down = await server.inject(body);
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ error: 'Redis is not reachable', code: 'CS_ERR_REDIS_UNAVAILABLE' });
    backend.statusError = undefined;
    backend.jobStatus = { liveWorkers: 0, model: undefined };
    const none = await server.inject(body);
    expect(none.statusCode).toBe(503);
    expect(none.json().error).toContain(`no live worker serves job "${JOB}"`);
  });
});

describe('errors and metrics', () => {
  it('answers unknown routes with a JSON 404 listing the routes', async () => {
    const res = await serve(new FakeBackend()).inject({ url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toContain('POST /predict');
  });

  it('exposes request durations, rejections, and the job figures in Prometheus text', async () => {
    const backend = new FakeBackend();
    backend.flushes = 7;
    const metrics = createFrontendMetrics({ job: JOB });
    app = buildServer({ backend, http: httpOptions({ parallelism: 1000 }), metrics });
    await app.inject(predict({ instances: [{ input: [1, 2, 3, 4] }] }));
    await app.inject(predict('{"instance":[]}'));
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    expect(text).toMatch(
      /cs_http_request_duration_seconds_count\{[^}]*route="\/predict"[^}]*status="200"[^}]*\} 1/,
    );
    expect(text).toMatch(
      /cs_http_request_duration_seconds_count\{[^}]*route="\/predict"[^}]*status="400"[^}]*\} 1/,
    );
    expect(text).toMatch(/cs_http_rejections_total\{reason="bad_request"[^}]*\} 1/);
    expect(text).toMatch(/cs_http_requests_in_flight_requests\{[^}]*\} 1/);
    expect(text).toMatch(/cs_http_producer_flushes_total\{[^}]*\} 7/);
    expect(text).toMatch(/cs_job_processed_records_total\{[^}]*\} 42/);
    expect(text).toMatch(/cs_job_errors_total\{reason="CS_ERR_INPUT_MISMATCH"[^}]*\} 2/);
    expect(text).toMatch(/cs_job_batch_size_batches_total\{size="8"[^}]*\} 6/);
    expect(text).toMatch(/cs_job_queue_wait_seconds_total\{[^}]*\} 1.5/);
    expect(text).toMatch(/cs_job_queued_entries\{[^}]*\} 3/);
    expect(text).toMatch(/cs_job_queue_requests\{[^}]*\} 9/);
    expect(text).toMatch(/cs_job_live_workers\{[^}]*\} 2/);
    expect(text).toMatch(/cs_http_stage_duration_seconds_count\{[^}]*stage="submit"[^}]*\} 1/);

    backend.statusError = new CsError('CS_ERR_REDIS_UNAVAILABLE', 'down');
    const without = await app.inject({ url: '/metrics' });
    expect(without.statusCode).toBe(200);
    expect(without.body).toMatch(/cs_job_figures_available_boolean\{[^}]*\} 0/);
  });
});
