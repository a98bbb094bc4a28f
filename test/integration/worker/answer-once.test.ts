import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defineAnswerScript,
  DROPPED_NOT_PENDING,
  writeBatch,
  type BatchWrite,
} from '../../../src/worker/answer-script.js';
import { CONSUMER_GROUP, keys } from '../../../src/redis/keys.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';

/**
 * The answer script against a real Redis: an entry is answered only while it is pending for
 * the consumer that writes the answer, so a worker whose entry was claimed by another one
 * (it looked dead) cannot answer it a second time.
 */
describe('answer script: each stream entry answered at most once', () => {
  let redis: TestRedis;
  let client: Redis;
  let replies: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    client = redis.client();
    replies = redis.client();
    defineAnswerScript(client);
  });

  afterAll(async () => {
    await redis.stop();
  });

  function batch(job: string, consumer: string, ids: readonly string[], uris: readonly string[]): BatchWrite {
    return {
      stream: keys.stream(job),
      statsKey: keys.stats(job),
      packedExtraKey: keys.packedExtra(job),
      slot: { key: `${keys.stats(job)}:slot-test`, ttlSeconds: 60, counters: new Map([['ok', ids.length]]) },
      lastInference: undefined,
      group: CONSUMER_GROUP,
      consumer,
      ttlSeconds: 60,
      entries: ids.map((id, i) => ({
        id,
        counters: [],
        answered: 1,
        extra: 0,
        hash: { key: keys.result(job, uris[i] ?? ''), fields: ['value', `answer of ${consumer}`] },
        reply: { channel: `reply-${job}`, message: Buffer.from(`${uris[i] ?? ''} from ${consumer}`) },
      })),
      answeredCounters: ['processed'],
      counters: new Map([['batches', 1]]),
      floatCounters: new Map(),
    };
  }

  it('drops the answer of an entry another consumer claimed, and answers the ones still its own', async () => {
    const job = 'claimed_before_answer';
    await client.xgroup('CREATE', job, CONSUMER_GROUP, '0', 'MKSTREAM');
    // BigDL clients reuse uris: both entries carry the same one, and only the ids tell them apart.
    const first = (await client.xadd(job, '*', 'uri', 'same', 'data', 'x')) ?? '';
    const second = (await client.xadd(job, '*', 'uri', 'same', 'data', 'y')) ?? '';
    await client.xreadgroup('GROUP', CONSUMER_GROUP, 'slow', 'COUNT', 2, 'STREAMS', job, '>');
    // The other worker thought 'slow' was gone and took the first entry over.
    await client.xclaim(job, CONSUMER_GROUP, 'taker', 0, first);

    const heard: string[] = [];
    replies.on('message', (_channel: string, message: string) => heard.push(message));
    await replies.subscribe(`reply-${job}`);

    const dropped = await writeBatch(client, batch(job, 'slow', [first, second], ['same', 'same']));
    expect(dropped).toEqual([first]);
    // The second entry was answered and removed; the first stays pending for the taker, untouched.
    const pending = (await client.xpending(job, CONSUMER_GROUP, '-', '+', 10)) as [string, string][];
    expect(pending.map(([id, consumer]) => [id, consumer])).toEqual([[first, 'taker']]);
    expect((await client.xrange(job, '-', '+')).map(([id]) => id)).toEqual([first]);
    expect(await client.hget(keys.stats(job), 'processed')).toBe('1');
    expect(await client.hget(keys.stats(job), DROPPED_NOT_PENDING)).toBe('1');

    // The taker answers it: the one answer it gets. The slow worker answering again is dropped.
    expect(await writeBatch(client, batch(job, 'taker', [first], ['same']))).toEqual([]);
    expect(await writeBatch(client, batch(job, 'slow', [first], ['same']))).toEqual([first]);
    expect(await client.hget(keys.stats(job), 'processed')).toBe('2');
    expect(await client.hget(keys.stats(job), DROPPED_NOT_PENDING)).toBe('2');
    expect(await client.xlen(job)).toBe(0);
    const all = await waitFor(() => heard.length >= 2 && heard, { what: 'two replies' });
    expect(all.sort()).toEqual(['same from slow', 'same from taker']);
    // One reply per entry: nothing more was published for the dropped answers.
    await client.publish(`reply-${job}`, 'marker');
    await waitFor(() => heard.includes('marker'), { what: 'the marker reply' });
    expect(heard).toHaveLength(3);
  });
});
