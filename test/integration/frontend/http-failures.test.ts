import type { ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../../src/redis/keys.js';
import { mlpReference, writeModel } from '../../fixtures/onnx-models.js';
import { freePort, startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startWorker, writeConfig, type WorkerProcess } from '../../helpers/worker-process.js';
import {
  expectClose,
  getJson,
  postJson,
  forkFrontend,
  seeded,
  startFrontend,
  type RunningFrontend,
} from './frontend-harness.js';

/** A redis-server on a chosen port, so it can be stopped and started again at the same address. */
async function redisAt(port: number): Promise<ChildProcess> {
  return (await startRedis({ port })).process;
}

async function stopProcess(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill(signal);
  await exited;
}

const infer = (x: Float32Array): unknown => ({
  inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: Array.from(x) }],
});

describe('HTTP frontend when things go wrong', () => {
  let redis: TestRedis;
  let dir: string;
  let mlpPath: string;
  const workers: WorkerProcess[] = [];
  const frontends: RunningFrontend[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'cs-http-fail-'));
    mlpPath = await writeModel(dir, 'mlp');
  });

  afterEach(async () => {
    for (const f of frontends.splice(0)) await f.close();
  });

  afterAll(async () => {
    for (const w of workers) {
      w.child.kill('SIGCONT');
      await w.kill();
    }
    for (const c of children) await stopProcess(c);
    await redis?.stop();
  });

  async function frontend(
    job: string,
    over: Parameters<typeof startFrontend>[2] = {},
  ): Promise<RunningFrontend> {
    const f = await startFrontend(redis.url, job, over);
    frontends.push(f);
    return f;
  }

  it('answers 503 with no worker for the job', async () => {
    const f = await frontend('nobody_job');
    const inferred = await postJson(`${f.url}/v2/models/nobody_job/infer`, infer(seeded(1, 4)));
    expect(inferred.status).toBe(503);
    expect(inferred.headers.get('retry-after')).toBe('1');
    expect(inferred.body['error']).toContain('no live worker serves job "nobody_job"');
    expect((await postJson(`${f.url}/predict`, { instances: [{ input: [1, 2, 3, 4] }] })).status).toBe(503);
    expect((await getJson(`${f.url}/v2/health/ready`)).status).toBe(503);
    expect((await getJson(`${f.url}/v2/models/nobody_job`)).status).toBe(503);
  });

  it('answers 504 at the deadline when the worker is stuck, and serves again once it resumes', async () => {
    const config = await writeConfig({ modelPath: mlpPath, jobName: 'stuck_job', redisUrl: redis.url });
    const worker = await startWorker(config);
    workers.push(worker);
    const f = await frontend('stuck_job', { requestTimeout: 300 });
    const client = redis.client();
    worker.child.kill('SIGSTOP');
    // A stuck worker still looks alive: keep its heartbeat fresh so the frontend submits.
    const beat = setInterval(
      () => void client.zadd(keys.workers('stuck_job'), Date.now(), worker.consumer),
      200,
    );
    try {
      await client.zadd(keys.workers('stuck_job'), Date.now(), worker.consumer);
      const res = await postJson(`${f.url}/v2/models/stuck_job/infer`, infer(seeded(2, 4)));
      expect(res.status).toBe(504);
      expect(res.body['error']).toContain('no result');
    } finally {
      clearInterval(beat);
      worker.child.kill('SIGCONT');
    }
    const x = seeded(3, 4);
    const again = await waitFor(async () => {
      const r = await postJson(`${f.url}/v2/models/stuck_job/infer`, infer(x));
      return r.status === 200 ? r : undefined;
    });
    expectClose(
      (again.body['outputs'] as { data: number[] }[])[0]?.data ?? [],
      mlpReference(x, 1),
      'after resume',
    );
  });

  it('answers 503 while Redis is down and resumes by itself when Redis is back', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    let server = await redisAt(port);
    children.push(server);
    const config = await writeConfig({ modelPath: mlpPath, jobName: 'flaky_job', redisUrl: url });
    const worker = await startWorker(config);
    workers.push(worker);
    const f = await startFrontend(url, 'flaky_job');
    frontends.push(f);
    const x = seeded(4, 4);
    expect((await postJson(`${f.url}/v2/models/flaky_job/infer`, infer(x))).status).toBe(200);

    const live = async (): Promise<Record<string, unknown>> =>
      (await (await fetch(`${f.url}/v2/health/live`)).json()) as Record<string, unknown>;
    expect(await live()).toEqual({ live: true, redis: { state: 'up', lost: 0 } });

    await stopProcess(server);
    // Live still (the process is fine), and it says Redis is down and the link was lost once.
    await waitFor(async () => ((await live())['redis'] as { state: string }).state === 'down', {
      what: 'the health route to show Redis down',
    });
    const ready = await fetch(`${f.url}/v2/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { redis: unknown }).redis).toEqual({ state: 'down', lost: 1 });
    const down = await postJson(`${f.url}/v2/models/flaky_job/infer`, infer(x));
    expect(down.status).toBe(503);
    expect(down.body['error']).toContain('Redis');
    expect((await postJson(`${f.url}/predict`, { instances: [{ input: Array.from(x) }] })).status).toBe(503);
    const metrics = await (await fetch(`${f.url}/metrics`)).text();
    expect(metrics).toMatch(/cs_job_figures_available_boolean\{[^}]*\} 0/);

    server = await redisAt(port);
    children.push(server);
    const back = await waitFor(
      async () => {
        const r = await postJson(`${f.url}/v2/models/flaky_job/infer`, infer(x));
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 30_000, what: 'service after the Redis restart' },
    );
    expectClose(
      (back.body['outputs'] as { data: number[] }[])[0]?.data ?? [],
      mlpReference(x, 1),
      'after restart',
    );
    expect(await live()).toEqual({ live: true, redis: { state: 'up', lost: 1 } });
    // Its reply channel is subscribed again on the new server (answers come pushed, not read late).
    const probe = new Redis(url);
    try {
      const channels = await waitFor(
        async () => {
          const found = (await probe.pubsub('CHANNELS', `${keys.replyChannel('')}*`)) as string[];
          return found.length > 0 ? found : undefined;
        },
        { what: 'the reply channel to be subscribed again' },
      );
      expect(channels).toHaveLength(1);
    } finally {
      probe.disconnect();
    }
  });

  it('runs as its own process: ready message with its url, port in use refused, SIGTERM exits 0', async () => {
    const port = await freePort();
    const first = forkFrontend([
      '--port',
      String(port),
      '--interface',
      '127.0.0.1',
      '--redisUrl',
      redis.url,
      '--redisInputQueue',
      'proc_job',
    ]);
    children.push(first.child);
    const ready = await waitFor(() => first.messages.find((m) => m.type === 'state'), {
      what: 'frontend ready',
    });
    expect(ready).toEqual({ type: 'state', state: 'ready', url: `http://127.0.0.1:${port}` });
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe(
      'welcome to BigDL web serving frontend',
    );

    const second = forkFrontend([
      '--port',
      String(port),
      '--interface',
      '127.0.0.1',
      '--redisUrl',
      redis.url,
    ]);
    children.push(second.child);
    expect(await second.exited).toBe(1);
    const fatal = second.messages.find((m) => m.type === 'fatal');
    expect(fatal?.code).toBe('CS_ERR_PORT_IN_USE');
    expect(fatal?.message).toContain(`port ${port}`);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });

  it('on SIGTERM answers the requests in flight, then exits 0', async () => {
    const config = await writeConfig({ modelPath: mlpPath, jobName: 'drain_job', redisUrl: redis.url });
    const worker = await startWorker(config);
    workers.push(worker);
    const port = await freePort();
    const proc = forkFrontend([
      '--port',
      String(port),
      '--interface',
      '127.0.0.1',
      '--redisUrl',
      redis.url,
      '--redisInputQueue',
      'drain_job',
    ]);
    children.push(proc.child);
    await waitFor(() => proc.messages.find((m) => m.type === 'state'), { what: 'frontend ready' });
    const client = redis.client();
    const x = seeded(5, 4);
    worker.child.kill('SIGSTOP');
    let pending: Promise<Awaited<ReturnType<typeof postJson>>>;
    try {
      pending = postJson(`http://127.0.0.1:${port}/v2/models/drain_job/infer`, infer(x));
      await waitFor(async () => (await client.xlen(keys.stream('drain_job'))) >= 1, {
        what: 'the request in the stream',
      });
      proc.child.kill('SIGTERM');
    } finally {
      worker.child.kill('SIGCONT');
    }
    const answer = await pending;
    expect(answer.status).toBe(200);
    expectClose(
      (answer.body['outputs'] as { data: number[] }[])[0]?.data ?? [],
      mlpReference(x, 1),
      'in flight at SIGTERM',
    );
    expect(await proc.exited).toBe(0);
  });

  it('reads its options from a config http: section, inheriting redisUrl and jobName', async () => {
    const port = await freePort();
    const config = await writeConfig({
      modelPath: mlpPath,
      jobName: 'cfg_job',
      redisUrl: redis.url,
      http: { port, interface: '127.0.0.1', parallelism: 7 },
    });
    const proc = forkFrontend(['--config', config]);
    children.push(proc.child);
    const ready = await waitFor(() => proc.messages.find((m) => m.type === 'state'), {
      what: 'frontend ready',
    });
    expect(ready.url).toBe(`http://127.0.0.1:${port}`);
    const model = await getJson(`http://127.0.0.1:${port}/v2/models/cfg_job`);
    expect(model.status).toBe(503);
    expect((await getJson(`http://127.0.0.1:${port}/v2/models/serving_stream`)).status).toBe(404);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('refuses invalid options with exit 2 and a message naming them', async () => {
    const proc = forkFrontend(['--port', 'abc', '--colour', 'red']);
    children.push(proc.child);
    expect(await proc.exited).toBe(2);
    const fatal = proc.messages.find((m) => m.type === 'fatal');
    expect(fatal?.code).toBe('CS_ERR_CONFIG_INVALID');
    expect(fatal?.message).toContain('port');
    expect(fatal?.message).toContain('colour');
  });
});
