/**
 * npm run bench:core — the serving core against raw onnxruntime, in one run.
 *
 * Paths measured, each on a tiny MLP (4→3) and a generated CNN (~1 ms per batch-1 run):
 *   raw        session.run in this process, batch 1, one intra-op thread
 *   serving    InputQueue.predict → Redis → worker process → reply channel → InputQueue
 * at concurrency 1 and 64, with one worker and with two.
 *   BigDL form the MLP as BigDL's Python client sends it, one worker: one XADD per record in
 *              BigDL's Arrow form (InputQueue with serde 'bigdl', enqueue), the result read
 *              from its hash (OutputQueue.query, one HGETALL, again every millisecond until
 *              it is there).
 *   replicas   the MLP serving path with a replica attached, without and with
 *              `redisMinReplicas: 1` (a WAIT after each write): the cost of confirming
 *              entries on a replica. `--replicas` runs only these rows.
 *
 * Cores (2 on the reference machine): with one worker, the worker has one core and this
 * process (the client) and redis-server share the other; with two workers all four
 * processes share both cores.
 *
 * The cost of a managed Redis's persistence (redisPersistence, default true: an append-only
 * file, fsync every second) is measured in the same run: the MLP through one worker against
 * a Redis without and then with that file.
 */
import './plain-runtime.js';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { InputQueue } from '../src/client/input-queue.js';
import { OutputQueue } from '../src/client/output-queue.js';
import { writeModel } from '../test/fixtures/onnx-models.js';
import { startRedis } from '../test/helpers/redis-server.js';
import { startWorker, writeConfig, type WorkerProcess } from '../test/helpers/worker-process.js';
import { drive, printTable, summarise, type Figures } from './stats.js';

const QUICK = process.argv.includes('--quick');
const ONLY_REPLICAS = process.argv.includes('--replicas');
const N1 = QUICK ? 500 : 3000;
const N64 = QUICK ? 5000 : 30000;
const BIGDL_WARM_UP = 5000;
const RAW_MLP_RUNS = 40_000;
/** The MLP at concurrency 64: about a second of requests, in every mode. */
const MLP_N64 = QUICK ? 20_000 : 30_000;
const BIGDL_N64 = QUICK ? 10_000 : 15_000;

interface ModelCase {
  readonly kind: 'mlp' | 'cnn';
  readonly input: string;
  readonly shape: number[];
}

const CASES: ModelCase[] = [
  { kind: 'mlp', input: 'input', shape: [1, 4] },
  { kind: 'cnn', input: 'image', shape: [1, 3, 32, 32] },
];

function sampleData(shape: readonly number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i) * 0.5;
  return data;
}

async function raw(path: string, c: ModelCase): Promise<Figures> {
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const data = sampleData(c.shape);
  const feeds = { [c.input]: new ort.Tensor('float32', data, c.shape) };
  for (let i = 0; i < 200; i++) await session.run(feeds);
  // Long enough (about a second) that the baseline is not a moment's speed of a shared machine.
  const total = c.kind === 'mlp' ? RAW_MLP_RUNS : Math.min(N64, 5000);
  const { latencies, seconds } = await drive(1, total, () => session.run(feeds));
  await session.release();
  return summarise(`${c.kind} raw session.run (1 process)`, 1, latencies, seconds);
}

async function serving(
  redisUrl: string,
  job: string,
  c: ModelCase,
  workers: number,
  minReplicas = 0,
  label = `${c.kind} serving, ${workers} worker(s)`,
): Promise<Figures[]> {
  const queue = new InputQueue({ redisUrl, name: job, timeoutMs: 60_000, minReplicas });
  const input = { [c.input]: { data: sampleData(c.shape), shape: c.shape } };
  // Warm both paths (batch 1 and batched) in the worker and the client before measuring: the
  // MLP at concurrency 64 keeps getting faster for its first ~10,000 requests.
  const small = c.kind === 'mlp';
  await drive(small ? 64 : 8, small ? 10_000 : 1000, () => queue.predict(input));
  await drive(1, 1000, () => queue.predict(input));
  const rows: Figures[] = [];
  const one = await drive(1, N1, () => queue.predict(input));
  rows.push(summarise(label, 1, one.latencies, one.seconds));
  const many = await drive(64, small ? MLP_N64 : Math.min(N64, 10000), () => queue.predict(input));
  rows.push(summarise(label, 64, many.latencies, many.seconds));
  await queue.close();
  return rows;
}

/** BigDL's own client pattern: enqueue, then query the result hash until it is there. */
async function bigdlForm(redisUrl: string, job: string, c: ModelCase): Promise<Figures[]> {
  const input = new InputQueue({ redisUrl, name: job, serde: 'bigdl', timeoutMs: 60_000 });
  const output = new OutputQueue({ redisUrl, name: job });
  // BigDL's form carries samples: the worker adds the batch dimension.
  const sample = { [c.input]: { data: sampleData(c.shape), shape: c.shape.slice(1) } };
  let next = 0;
  const once = async (): Promise<void> => {
    const uri = `bigdl-${next++}`;
    await input.enqueue(uri, sample);
    for (;;) {
      const result = await output.query(uri);
      if (result.status === 'error') throw new Error(`${uri}: ${result.code} ${result.message}`);
      if (result.status !== 'pending') return;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  const label = `${c.kind} BigDL form (XADD + result hash), 1 worker`;
  // Warmed at the concurrency it is measured at: the producer's and the worker's BigDL code
  // paths (Arrow, base64, result hashes) take a few thousand records to reach steady speed.
  await drive(64, BIGDL_WARM_UP, once);
  const rows: Figures[] = [];
  const one = await drive(1, N1, once);
  rows.push(summarise(label, 1, one.latencies, one.seconds));
  const many = await drive(64, BIGDL_N64, once);
  rows.push(summarise(label, 64, many.latencies, many.seconds));
  await input.close();
  await output.close();
  return rows;
}

/** The MLP through one worker, against a Redis that keeps nothing and one that keeps an append-only file. */
async function persistenceCost(dir: string, notes: string[]): Promise<Figures[]> {
  const path = await writeModel(dir, 'mlp');
  const rows: Figures[] = [];
  const byMode: Figures[][] = [];
  for (const persistent of [false, true]) {
    const dataDir = join(dir, `aof-${String(persistent)}`);
    await mkdir(dataDir, { recursive: true });
    // The arguments the supervisor gives a managed Redis with redisPersistence: true.
    const redis = await startRedis({
      args: persistent ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dataDir] : [],
    });
    try {
      const job = `bench_persist_${String(persistent)}`;
      const worker = await startWorker(await jobConfig(path, job, redis.url));
      try {
        const figures = await serving(redis.url, job, CASES[0] as ModelCase, 1);
        const label = persistent ? 'Redis append-only everysec' : 'Redis nothing on disk';
        const labelled = figures.map((row) => ({ ...row, label: `mlp, 1 worker, ${label}` }));
        rows.push(...labelled);
        byMode.push(labelled);
      } finally {
        await worker.stop();
      }
    } finally {
      await redis.stop();
    }
  }
  const [off, on] = byMode;
  for (const [i, concurrency] of [1, 64].entries()) {
    const a = off?.[i];
    const b = on?.[i];
    if (a === undefined || b === undefined) continue;
    notes.push(
      `persistence cost at concurrency ${concurrency}: ${b.perSecond.toFixed(0)}/s vs ${a.perSecond.toFixed(0)}/s (${((100 * (b.perSecond - a.perSecond)) / a.perSecond).toFixed(1)}%), p50 ${b.p50Ms.toFixed(3)} vs ${a.p50Ms.toFixed(3)} ms`,
    );
  }
  return rows;
}

async function main(): Promise<void> {
  console.log(
    `bench:core on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), node ${process.version}`,
  );
  console.log(
    'one worker: worker on one core, client + redis-server share the other; two workers: all share both\n',
  );
  const dir = await mkdtemp(join(tmpdir(), 'cs-bench-'));
  const redis = await startRedis();
  const rows: Figures[] = [];
  const notes: string[] = [];
  try {
    if (ONLY_REPLICAS) await replicaRows(dir, rows, notes);
    else await allRows(dir, redis.url, rows, notes);
  } finally {
    await redis.stop();
  }
  try {
    rows.push(...(await persistenceCost(dir, notes)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  printTable(rows);
  console.log('');
  for (const n of notes) console.log(n);
}

/** The MLP with one worker against a Redis with one replica: redisMinReplicas 0, then 1. */
async function replicaRows(dir: string, rows: Figures[], notes: string[]): Promise<void> {
  const master = await startRedis();
  const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
  try {
    const info = replica.client();
    for (let i = 0; i < 200 && !/master_link_status:up/.test(await info.info('replication')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const c = CASES[0]!;
    const path = await writeModel(dir, c.kind);
    const job = 'bench_replicas';
    const worker = await startWorker(await jobConfig(path, job, master.url));
    try {
      const off = await serving(master.url, job, c, 1, 0, 'mlp, 1 replica, redisMinReplicas 0');
      const on = await serving(master.url, job, c, 1, 1, 'mlp, 1 replica, redisMinReplicas 1');
      rows.push(...off, ...on);
      const [off1, off64] = off;
      const [on1, on64] = on;
      if (off1 !== undefined && on1 !== undefined && off64 !== undefined && on64 !== undefined) {
        notes.push(
          `redisMinReplicas 1 costs ${(on1.p50Ms - off1.p50Ms).toFixed(3)} ms p50 at concurrency 1; throughput at 64: ${on64.perSecond.toFixed(0)}/s against ${off64.perSecond.toFixed(0)}/s`,
        );
      }
    } finally {
      await worker.stop();
    }
  } finally {
    await replica.stop();
    await master.stop();
  }
}

/** The config of a benchmark job on the model at `path`: batches of up to 32. */
function jobConfig(path: string, job: string, redisUrl: string): Promise<string> {
  return writeConfig({ modelPath: path, jobName: job, redisUrl, maxBatchSize: 32 });
}

async function allRows(dir: string, redisUrl: string, rows: Figures[], notes: string[]): Promise<void> {
  for (const c of CASES) {
    const path = await writeModel(dir, c.kind);
    const rawRow = await raw(path, c);
    rows.push(rawRow);
    for (const count of [1, 2]) {
      const job = `bench_${c.kind}_${count}`;
      const config = await jobConfig(path, job, redisUrl);
      const started: WorkerProcess[] = [];
      for (let i = 0; i < count; i++) started.push(await startWorker(config));
      const [c1, c64] = await serving(redisUrl, job, c, count);
      const bigdl = count === 1 && c.kind === 'mlp' ? await bigdlForm(redisUrl, job, c) : [];
      for (const w of started) await w.stop();
      if (c1 === undefined || c64 === undefined) continue;
      rows.push(c1, c64, ...bigdl);
      if (count === 1 && c.kind === 'mlp') {
        notes.push(
          `mlp added p50 at concurrency 1: ${(c1.p50Ms - rawRow.p50Ms).toFixed(3)} ms (target ≤ 0.3 ms)`,
        );
        notes.push(
          `mlp TS client at concurrency 64, one worker: ${c64.perSecond.toFixed(0)}/s = ${(c64.perSecond / rawRow.perSecond).toFixed(2)}× raw session.run (target ≥ 0.4×)`,
        );
        const b64 = bigdl[1];
        if (b64 !== undefined) {
          notes.push(
            `mlp BigDL form at concurrency 64, one worker: ${b64.perSecond.toFixed(0)}/s = ${(b64.perSecond / rawRow.perSecond).toFixed(2)}× raw session.run (target ≥ 0.15×)`,
          );
        }
      }
      if (c.kind === 'cnn') {
        notes.push(
          `cnn throughput at concurrency 64, ${count} worker(s): ${c64.perSecond.toFixed(0)}/s = ${((100 * c64.perSecond) / rawRow.perSecond).toFixed(0)}% of raw single-process${count === 1 ? ' (target ≥ 85%)' : ''}`,
        );
      }
    }
  }
  await replicaRows(dir, rows, notes);
}

await main();
