/**
 * npm run bench:floor — the least any path through Redis can add at concurrency 1 on this
 * machine, measured with no serving work at all.
 *
 *   naive     autocannon → fastify that parses the body and calls session.run in its handler
 *             (bench/http-naive.ts, the baseline of bench:http)
 *   relay     autocannon → fastify that parses the body, XADDs it to a stream and answers when
 *             an echo process, blocked in XREADGROUP, PUBLISHes it back: the hand-offs of
 *             frontend → Redis → worker → Redis → frontend, without a model, a Lua script,
 *             decoding, batching or statistics
 *   client    this process XADDs and waits for the echo's PUBLISH (the TypeScript client's
 *             hand-offs), one request at a time
 *   raw       session.run of the MLP in this process
 *
 * Paths are measured in three interleaved rounds (this machine's speed drifts over minutes);
 * each figure is the median of the rounds' p50s. What it prints is the floor under bench:http's
 * and bench:core's "added p50 at concurrency 1" rows: no implementation of the queue path can
 * go below it here.
 */
import './plain-runtime.js';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import * as ort from 'onnxruntime-node';
import { writeModel } from '../test/fixtures/onnx-models.js';
import { freePort, startRedis } from '../test/helpers/redis-server.js';
import { drive, median, percentile } from './stats.js';
import { ortFeeds } from './ort-feeds.js';

const STREAM = 'floor:stream';
const GROUP = 'floor';
const CHANNEL = 'floor:replies';
const ROUNDS = 3;
const SECONDS = 3;
const CLIENT_REQUESTS = 3000;
const INPUT = { name: 'input', shape: [1, 4], datatype: 'FP32', data: [0, 0.42, 0.45, 0.07] };
const BODY = JSON.stringify({ inputs: [INPUT] });

const { values } = parseArgs({
  options: { role: { type: 'string' }, redis: { type: 'string' }, port: { type: 'string' } },
});

/** Reads entries as a worker does and publishes each body back at once, untouched. */
async function echo(redisUrl: string): Promise<void> {
  const reader = new Redis(redisUrl);
  const writer = new Redis(redisUrl);
  await reader.xgroup('CREATE', STREAM, GROUP, '$', 'MKSTREAM').catch(() => undefined);
  process.send?.({ type: 'ready' });
  for (;;) {
    const reply = (await reader.xreadgroup(
      'GROUP',
      GROUP,
      'echo',
      'COUNT',
      32,
      'BLOCK',
      0,
      'STREAMS',
      STREAM,
      '>',
    )) as [string, [string, string[]][]][] | null;
    const pipeline = writer.pipeline();
    for (const [, fields] of reply?.[0]?.[1] ?? []) pipeline.publish(CHANNEL, `${fields[1]}\n${fields[3]}`);
    await pipeline.exec();
  }
}

/** The frontend's hand-offs alone: XADD the body, answer when its echo comes back. */
async function relay(redisUrl: string, port: number): Promise<void> {
  const commands = new Redis(redisUrl);
  const subscriber = new Redis(redisUrl);
  const waiting = new Map<string, (body: string) => void>();
  subscriber.on('message', (_channel: string, message: string) => {
    const cut = message.indexOf('\n');
    waiting.get(message.slice(0, cut))?.(message.slice(cut + 1));
  });
  await subscriber.subscribe(CHANNEL);
  let sequence = 0;
  const app = Fastify();
  // The body travels as text both ways: no JSON work, only the hand-offs.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
    done(null, body),
  );
  app.post('/v2/models/:name/infer', async (request, reply) => {
    const id = String(sequence++);
    const answered = new Promise<string>((resolve) => waiting.set(id, resolve));
    await commands.xadd(STREAM, '*', 'id', id, 'body', request.body as string);
    const body = await answered;
    waiting.delete(id);
    return reply.type('application/json').send(body);
  });
  await app.listen({ host: '127.0.0.1', port });
  process.send?.({ type: 'ready' });
}

async function start(args: string[], execArgv: string[]): Promise<ChildProcess> {
  const child = fork(args[0] as string, args.slice(1), {
    execArgv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((done, fail) => {
    child.on('message', (m: { type?: string }) => {
      if (m.type === 'ready') done();
    });
    child.once('exit', (code) => fail(new Error(`${args[0] ?? ''} exited with ${code}`)));
  });
  return child;
}

function p50Over(url: string, seconds: number): Promise<number> {
  return new Promise((done, fail) => {
    const latencies: number[] = [];
    const instance = autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: BODY,
        connections: 1,
        duration: seconds,
      },
      (error) => {
        if (error !== null && error !== undefined) fail(error);
        else
          done(
            percentile(
              [...latencies].sort((a, b) => a - b),
              50,
            ),
          );
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status === 200) latencies.push(ms);
    });
  });
}

/** XADD then wait for the echo, sequentially, from this process: the client's hand-offs. */
async function clientP50(redisUrl: string, requests: number): Promise<number> {
  const commands = new Redis(redisUrl);
  const subscriber = new Redis(redisUrl);
  const waiting = new Map<string, () => void>();
  subscriber.on('message', (_channel: string, message: string) => {
    waiting.get(message.slice(0, message.indexOf('\n')))?.();
  });
  await subscriber.subscribe(CHANNEL);
  let sequence = 0;
  const { latencies } = await drive(1, requests, async () => {
    const id = `c${sequence++}`;
    const answered = new Promise<void>((resolve) => waiting.set(id, resolve));
    await commands.xadd(STREAM, '*', 'id', id, 'body', BODY);
    await answered;
    waiting.delete(id);
  });
  commands.disconnect();
  subscriber.disconnect();
  return percentile(
    [...latencies].sort((a, b) => a - b),
    50,
  );
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cs-bench-floor-'));
  const redis = await startRedis();
  const children: ChildProcess[] = [];
  try {
    const model = await writeModel(dir, 'mlp');
    const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const feeds = ortFeeds([INPUT]);
    const self = import.meta.filename;
    children.push(await start([self, '--role', 'echo', '--redis', redis.url], ['--import', 'tsx']));
    const relayPort = await freePort();
    children.push(
      await start(
        [self, '--role', 'relay', '--redis', redis.url, '--port', String(relayPort)],
        ['--import', 'tsx'],
      ),
    );
    const naivePort = await freePort();
    children.push(
      await start(
        [join(import.meta.dirname, 'http-naive.ts'), '--model', model, '--port', String(naivePort)],
        ['--import', 'tsx'],
      ),
    );
    const naiveUrl = `http://127.0.0.1:${naivePort}/v2/models/mlp/infer`;
    const relayUrl = `http://127.0.0.1:${relayPort}/v2/models/mlp/infer`;
    for (const url of [naiveUrl, relayUrl]) await p50Over(url, 1);
    await clientP50(redis.url, 500);
    const rounds = {
      raw: [] as number[],
      naive: [] as number[],
      relay: [] as number[],
      client: [] as number[],
    };
    for (let round = 0; round < ROUNDS; round++) {
      const { latencies } = await drive(1, 20_000, () => session.run(feeds));
      rounds.raw.push(
        percentile(
          [...latencies].sort((a, b) => a - b),
          50,
        ),
      );
      rounds.naive.push(await p50Over(naiveUrl, SECONDS));
      rounds.relay.push(await p50Over(relayUrl, SECONDS));
      rounds.client.push(await clientP50(redis.url, CLIENT_REQUESTS));
    }
    await session.release();
    const [raw, naive, relayed, client] = [rounds.raw, rounds.naive, rounds.relay, rounds.client].map(
      median,
    ) as [number, number, number, number];
    const list = (xs: number[]): string => xs.map((x) => x.toFixed(3)).join(', ');
    console.log('p50 at concurrency 1, ms (median of rounds; rounds in brackets)');
    console.log(`  raw session.run                     ${raw.toFixed(3)}  (${list(rounds.raw)})`);
    console.log(`  naive server                        ${naive.toFixed(3)}  (${list(rounds.naive)})`);
    console.log(`  relay through Redis, no work        ${relayed.toFixed(3)}  (${list(rounds.relay)})`);
    console.log(`  client hand-offs through Redis      ${client.toFixed(3)}  (${list(rounds.client)})`);
    console.log('');
    console.log(
      `floor of an HTTP path through Redis: ${(relayed - raw).toFixed(3)} ms over raw session.run (bench:http's target ≤ 0.4 ms), ${(relayed - naive).toFixed(3)} ms over the naive server`,
    );
    console.log(
      `floor of a client path through Redis: ${client.toFixed(3)} ms before any model runs (bench:core's target ≤ 0.3 ms over raw)`,
    );
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

// A helper process goes when the bench process does, however that ends.
if (values.role !== undefined) process.once('disconnect', () => process.exit(0));
if (values.role === 'echo' && values.redis !== undefined) await echo(values.redis);
else if (values.role === 'relay' && values.redis !== undefined)
  await relay(values.redis, Number(values.port));
else {
  await main();
  process.exit(0);
}
