import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { InputQueue, PredictionError, type PredictResult } from '../../../src/client/input-queue.js';
import type { Tensor } from '../../../src/protocol/tensor.js';
import { OutputQueue, type QueryResult } from '../../../src/client/output-queue.js';
import { keys } from '../../../src/redis/keys.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startWorker, writeConfig, type WorkerProcess } from '../../helpers/worker-process.js';
import { startFrontend, type RunningFrontend } from '../frontend/frontend-harness.js';

/** One job under test: a worker, our client in both forms, and an HTTP frontend. */
export interface ServedJob {
  readonly name: string;
  /** Our binary tensor form. */
  readonly client: InputQueue;
  /** BigDL's Arrow form, as BigDL's Python client writes it. */
  readonly bigdl: InputQueue;
  readonly results: OutputQueue;
  readonly http: RunningFrontend;
  /** Starts the worker (serve() does it unless told not to). */
  startWorker(): Promise<void>;
  /** Waits for the result of an entry written with enqueue(). */
  result(uri: string): Promise<Exclude<QueryResult, { status: 'pending' }>>;
  /** The job's counters (processed, batch:<rows>, errors:<code>). */
  stats(): Promise<Record<string, string>>;
}

/** A real redis-server, workers and in-process frontends for one test file; close() stops them all. */
export class InputHarness {
  private readonly workers: WorkerProcess[] = [];
  private readonly closers: (() => Promise<void>)[] = [];

  private constructor(
    readonly redis: TestRedis,
    readonly dir: string,
  ) {}

  static async create(): Promise<InputHarness> {
    return new InputHarness(await startRedis(), await mkdtemp(join(tmpdir(), 'cs-inputs-')));
  }

  async serve(
    name: string,
    modelPath: string,
    extra: Record<string, unknown> = {},
    options: { startWorker?: boolean } = {},
  ): Promise<ServedJob> {
    const url = this.redis.url;
    const config = await writeConfig({
      modelPath,
      jobName: name,
      redisUrl: url,
      modelParallelism: 1,
      ...extra,
    });
    const client = new InputQueue({ redisUrl: url, name, timeoutMs: 20_000 });
    const bigdl = new InputQueue({ redisUrl: url, name, serde: 'bigdl', timeoutMs: 20_000 });
    const results = new OutputQueue({ redisUrl: url, name });
    this.closers.push(
      () => client.close(),
      () => bigdl.close(),
      () => results.close(),
    );
    const launch = async (): Promise<void> => {
      this.workers.push(await startWorker(config));
    };
    if (options.startWorker !== false) await launch();
    const http = await startFrontend(url, name, { requestTimeout: 20_000 });
    this.closers.push(() => http.close());
    const redis = this.redis.client();
    return {
      name,
      client,
      bigdl,
      results,
      http,
      startWorker: launch,
      result: (uri) =>
        waitFor(
          async () => {
            const found = await results.query(uri);
            return found.status === 'pending' ? undefined : found;
          },
          { what: `the result of ${uri}` },
        ),
      stats: () => redis.hgetall(keys.stats(name)),
    };
  }

  async close(): Promise<void> {
    for (const close of this.closers) await close().catch(() => undefined);
    for (const worker of this.workers) await worker.kill();
    await this.redis.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export async function post(url: string, body: unknown): Promise<HttpAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The tensors of one `/predict` element: `{"value":"{\"data\":[..],\"shape\":[..]}"}`. */
export function predictionTensors(element: unknown): { data: unknown[]; shape: number[] }[] {
  const value = (JSON.parse(element as string) as { value: string }).value;
  return JSON.parse(`[${value.replace(/\}\{/g, '},{')}]`) as { data: unknown[]; shape: number[] }[];
}

/** `predictions` of a `/predict` answer. */
export function predictions(answer: HttpAnswer): unknown[] {
  return answer.body['predictions'] as unknown[];
}

export interface OipOutput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
  readonly data: unknown[];
}

export function oipOutputs(answer: HttpAnswer): OipOutput[] {
  return answer.body['outputs'] as OipOutput[];
}

/** The outputs of a prediction that must have come back as tensors. */
export function tensors(result: PredictResult): Record<string, Tensor> {
  if (result.kind !== 'tensors') throw new Error(`expected tensors, got ${result.kind}`);
  return result.outputs;
}

/** The PredictionError a prediction must fail with. */
export async function rejection(promise: Promise<unknown>): Promise<PredictionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PredictionError);
  return error as PredictionError;
}
