import type { ErrorCode } from '../errors/registry.js';
import { connectRedis, createRedis } from '../redis/connection.js';
import { resultPrefix } from '../contracts/job-names.js';
import { keys } from '../redis/keys.js';
import type { Redis } from 'ioredis';
import type { Tensor } from '../protocol/tensor.js';
import { redisUrlOf, type RedisLocation } from './connection-options.js';
import { readFailure } from './redis-failure.js';
import { predictionFromHash } from './result-hash.js';
import { byName } from './tensor-input.js';

export interface OutputQueueOptions extends RedisLocation {
  readonly name?: string;
}

/** A result told apart by its type, not by the strings "[]" and "NaN" as BigDL's client did. */
export type QueryResult =
  | { readonly status: 'pending' }
  | { readonly status: 'tensors'; readonly outputs: Record<string, Tensor> }
  | { readonly status: 'text'; readonly text: string }
  | { readonly status: 'error'; readonly code: ErrorCode; readonly message: string };

const SCAN_COUNT = 500;

/** Reads results of entries written with enqueue() (or by BigDL's Python client). */
export class OutputQueue {
  readonly name: string;
  private readonly redis: Redis;
  private readonly url: string;

  constructor(options: OutputQueueOptions = {}) {
    this.name = options.name ?? 'serving_stream';
    this.url = redisUrlOf(options);
    this.redis = createRedis({
      url: this.url,
      role: 'producer',
      caFile: options.caFile,
      name: 'cs-output-queue',
      coalesceWrites: true,
    });
    this.redis.on('error', () => undefined);
  }

  /** The result of one uri, leaving it in place. */
  async query(uri: string): Promise<QueryResult> {
    try {
      await connectRedis(this.redis, this.url);
      return toQueryResult(await this.redis.hgetallBuffer(keys.result(this.name, uri)));
    } catch (error) {
      throw readFailure(error);
    }
  }

  /** Every result of the job, removed as it is read; uris kept whole (they may contain ':'). */
  async dequeue(): Promise<Map<string, QueryResult>> {
    try {
      return await this.dequeueAll();
    } catch (error) {
      throw readFailure(error);
    }
  }

  private async dequeueAll(): Promise<Map<string, QueryResult>> {
    await connectRedis(this.redis, this.url);
    const prefix = resultPrefix(this.name);
    const results = new Map<string, QueryResult>();
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(
        cursor,
        'MATCH',
        `${escapeGlob(prefix)}*`,
        'COUNT',
        SCAN_COUNT,
      );
      cursor = next;
      for (const key of found) {
        const [[, hash] = [null, null], [, deleted] = [null, 0]] =
          (await this.redis.multi().hgetallBuffer(key).del(key).exec()) ?? [];
        if (deleted === 0 || hash === null) continue;
        const result = toQueryResult(hash as Record<string, Buffer>);
        if (result.status !== 'pending') results.set(key.slice(prefix.length), result);
      }
    } while (cursor !== '0');
    return results;
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

function toQueryResult(hash: Record<string, Buffer>): QueryResult {
  const prediction = predictionFromHash(hash);
  if (prediction === undefined) return { status: 'pending' };
  switch (prediction.kind) {
    case 'tensors':
      return { status: 'tensors', outputs: byName(prediction.outputs) };
    case 'text':
      return { status: 'text', text: prediction.text };
    case 'error':
      return { status: 'error', code: prediction.code, message: prediction.message };
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
