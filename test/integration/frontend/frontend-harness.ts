import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Producer } from '../../../src/client/producer.js';
import type { HttpOptions } from '../../../src/config/types.js';
import { ProducerBackend } from '../../../src/frontend/producer-backend.js';
import { buildServer } from '../../../src/frontend/server.js';
import { forkEntry, type ForkedProcess } from '../../helpers/child-process.js';
import { httpOptions } from '../../unit/frontend/fake-backend.js';

export interface RunningFrontend {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly producer: Producer;
  /** When the server (and its token bucket) was built, epoch ms. */
  readonly builtAt: number;
  close(): Promise<void>;
}

/** The real frontend (Producer → Redis → worker) listening on a free loopback port. */
export async function startFrontend(
  redisUrl: string,
  job: string,
  over: Partial<HttpOptions> = {},
): Promise<RunningFrontend> {
  const http = httpOptions({
    ...over,
    redisInputQueue: job,
    redisOutputQueue: `cluster-serving_${job}:`,
    redisUrl,
  });
  const producer = new Producer({
    redisUrl,
    job,
    countWindow: http.countWindow,
    timeWindow: http.timeWindow,
  });
  await producer.start();
  const backend = new ProducerBackend(producer, { job });
  const builtAt = Date.now();
  const app = buildServer({ backend, http });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    producer,
    builtAt,
    async close(): Promise<void> {
      await app.close();
      await producer.stop();
    },
  };
}

export interface JsonAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

export async function postJson(url: string, body: unknown): Promise<JsonAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

export async function getJson(url: string): Promise<JsonAnswer> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

/** One metric's value (first sample whose line matches `labels`) from /metrics. */
export async function metricValue(baseUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  if (line === undefined) throw new Error(`metric ${name} ${labels} not found`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Values that differ per request, so answers cannot be mixed up unnoticed. */
export function seeded(seed: number, n: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 4 - 2;
  }
  return out;
}

export function expectClose(actual: readonly number[], expected: Float32Array, what: string): void {
  if (actual.length !== expected.length)
    throw new Error(`${what}: ${actual.length} values, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number;
    if (Math.abs((actual[i] as number) - e) > 1e-5 * Math.max(1, Math.abs(e))) {
      throw new Error(`${what}: value ${i} is ${actual[i]}, expected ${e}`);
    }
  }
}

const FRONTEND_ENTRY = resolve(import.meta.dirname, '../../../dist/frontend/main.js');

/** `node dist/frontend/main.js <args>` with an IPC channel, as the supervisor runs it. */
export function forkFrontend(args: readonly string[]): ForkedProcess {
  return forkEntry(FRONTEND_ENTRY, args);
}
