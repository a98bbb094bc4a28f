/**
 * npm run bench:redis-cost — what one prediction costs Redis, per way of sending it.
 *
 * Paths, each on the tiny MLP (4→3) with one worker, all on loopback:
 *   client   InputQueue.predict: XADD with a reply channel, the answer arrives by PUBLISH
 *   bigdl    what BigDL's Python client does: one XADD per record, then HGETALL on the result
 *            hash until it is there (polled every POLL_MS, as its query loop does)
 *   http     POST /predict, one instance per request, through one frontend process
 * For each: CONFIG RESETSTAT, N predictions at concurrency C, then INFO commandstats
 * (commands per prediction, by command), INFO stats (bytes into and out of Redis) and INFO cpu
 * (Redis CPU seconds). Predictions per second that one Redis core carries = 1 / (Redis CPU
 * seconds per prediction): Redis runs commands on one thread, so that thread's core is the
 * limit. The worker's heartbeat and this script's INFO calls are inside the counts (a few
 * commands per second, next to thousands).
 *
 * Bounded: N predictions per path (--quick: fewer), a deadline per prediction.
 */
import './plain-runtime.js';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { InputQueue } from '../src/client/input-queue.js';
import { encodeBigdlInput } from '../src/protocol/bigdl-input.js';
import { keys } from '../src/redis/keys.js';
import { writeModel } from '../test/fixtures/onnx-models.js';
import { freePort, startRedis } from '../test/helpers/redis-server.js';
import { startWorker, writeConfig, type WorkerProcess } from '../test/helpers/worker-process.js';
import { drive } from './stats.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const QUICK = process.argv.includes('--quick');
const N = QUICK ? 1000 : 5000;
const CONCURRENCY = 16;
const POLL_MS = 5;
const DEADLINE_MS = 30_000;
/** Commands this script sends itself to measure, left out of the per-prediction counts. */
const OWN_COMMANDS = new Set(['info', 'config|resetstat', 'config', 'client|setinfo', 'client', 'hello']);

interface Cost {
  readonly path: string;
  readonly predictions: number;
  readonly commands: Map<string, number>;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
}

function infoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

async function measure(admin: Redis, path: string, task: (i: number) => Promise<unknown>): Promise<Cost> {
  process.stderr.write(`measuring ${path}...\n`);
  // Warm the path (model, connections, JIT) before the counters start.
  await drive(CONCURRENCY, 200, task);
  await admin.config('RESETSTAT');
  const cpuBefore = infoFields(await admin.info('cpu'));
  const { seconds } = await drive(CONCURRENCY, N, (i) => task(i + 1000));
  const stats = infoFields(await admin.info('stats'));
  const cpuAfter = infoFields(await admin.info('cpu'));
  const commandStats = infoFields(await admin.info('commandstats'));
  const commands = new Map<string, number>();
  for (const [key, value] of commandStats) {
    const name = key.replace(/^cmdstat_/, '');
    if (OWN_COMMANDS.has(name)) continue;
    const calls = Number(/calls=(\d+)/.exec(value)?.[1] ?? 0);
    if (calls > 0) commands.set(name, calls);
  }
  const cpu = (fields: Map<string, string>): number =>
    Number(fields.get('used_cpu_user') ?? 0) + Number(fields.get('used_cpu_sys') ?? 0);
  return {
    path,
    predictions: N,
    commands,
    bytesIn: Number(stats.get('total_net_input_bytes') ?? 0),
    bytesOut: Number(stats.get('total_net_output_bytes') ?? 0),
    cpuSeconds: cpu(cpuAfter) - cpu(cpuBefore),
    wallSeconds: seconds,
  };
}

interface Frontend {
  readonly port: number;
  readonly child: ChildProcess;
}

async function startFrontend(redisUrl: string, job: string): Promise<Frontend> {
  const port = await freePort();
  const child = fork(
    join(ROOT, 'dist/frontend/main.js'),
    ['--port', String(port), '--interface', '127.0.0.1', '--redisUrl', redisUrl, '--redisInputQueue', job],
    {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, CLUSTER_SERVING_LOG_LEVEL: 'warn' },
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type?: string; state?: string; message?: string }) => {
      if (m.type === 'state' && m.state === 'ready') resolve();
      if (m.type === 'fatal') reject(new Error(m.message));
    });
    child.once('exit', (code) => reject(new Error(`frontend exited with ${code}`)));
  });
  return { port, child };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

function bigdlTask(redis: Redis, job: string, payload: string): (i: number) => Promise<void> {
  return async (i) => {
    const uri = `bigdl-${i}`;
    await redis.xadd(keys.stream(job), '*', 'uri', uri, 'data', payload);
    const deadline = Date.now() + DEADLINE_MS;
    for (;;) {
      const result = await redis.hgetall(keys.result(job, uri));
      if (result['value'] !== undefined) return;
      if (Date.now() > deadline) throw new Error(`no result for ${uri} in ${DEADLINE_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };
}

function httpTask(port: number): (i: number) => Promise<void> {
  const body = JSON.stringify({ instances: [{ input: [0.5, -1, 2, 0.25] }] });
  return async () => {
    const response = await fetch(`http://127.0.0.1:${port}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(DEADLINE_MS),
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`/predict answered ${response.status}`);
  };
}

function print(costs: readonly Cost[]): void {
  const rows = costs.map((c) => {
    const total = [...c.commands.values()].reduce((a, b) => a + b, 0);
    const perCore = c.cpuSeconds > 0 ? c.predictions / c.cpuSeconds : Number.NaN;
    return [
      c.path,
      (total / c.predictions).toFixed(1),
      (c.bytesIn / c.predictions).toFixed(0),
      (c.bytesOut / c.predictions).toFixed(0),
      ((c.cpuSeconds / c.predictions) * 1e6).toFixed(1),
      perCore.toFixed(0),
      (c.predictions / c.wallSeconds).toFixed(0),
    ];
  });
  const header = [
    'path',
    'cmds/pred',
    'bytes in/pred',
    'bytes out/pred',
    'redis µs/pred',
    'pred/s per redis core',
    'pred/s here',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log('\ncommands per prediction, by command:');
  for (const c of costs) {
    const parts = [...c.commands.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, calls]) => `${name} ${(calls / c.predictions).toFixed(2)}`);
    console.log(`  ${c.path}: ${parts.join(', ')}`);
  }
}

async function main(): Promise<void> {
  console.log(
    `bench:redis-cost on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), node ${process.version}; ${N} predictions per path at concurrency ${CONCURRENCY}, MLP 4→3, one worker\n`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'cs-redis-cost-'));
  const redis = await startRedis();
  const admin = redis.client();
  const job = 'redis_cost';
  const workers: WorkerProcess[] = [];
  let frontend: Frontend | undefined;
  let queue: InputQueue | undefined;
  // Interrupted (Ctrl-C, a timeout): leave no worker, frontend or redis-server behind.
  const interrupted = (): void => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    frontend?.child.kill('SIGKILL');
    redis.process.kill('SIGKILL');
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const model = await writeModel(dir, 'mlp');
    workers.push(
      await startWorker(
        await writeConfig({ modelPath: model, jobName: job, redisUrl: redis.url, modelParallelism: 1 }),
      ),
    );
    const costs: Cost[] = [];

    const client = new InputQueue({ redisUrl: redis.url, name: job, timeoutMs: DEADLINE_MS });
    queue = client;
    const input = { input: { data: Float32Array.from([0.5, -1, 2, 0.25]), shape: [1, 4] } };
    costs.push(await measure(admin, 'client (InputQueue)', () => client.predict(input)));
    await client.close();
    queue = undefined;

    const payload = encodeBigdlInput([
      { name: 'input', type: 'FP32', shape: [4], data: Float32Array.from([0.5, -1, 2, 0.25]) },
    ]);
    const producer = redis.client();
    costs.push(
      await measure(admin, `bigdl (XADD + HGETALL every ${POLL_MS} ms)`, bigdlTask(producer, job, payload)),
    );

    frontend = await startFrontend(redis.url, job);
    costs.push(await measure(admin, 'http (/predict, 1 instance)', httpTask(frontend.port)));
    print(costs);
  } finally {
    await queue?.close();
    if (frontend !== undefined) await stopChild(frontend.child);
    for (const worker of workers) await worker.stop();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
