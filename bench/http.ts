/**
 * npm run bench:http — the HTTP frontend against a naive server, in one run.
 *
 * Paths, each on the tiny MLP (4→3), the recommendation-shaped model of bench/rec-model.ts
 * (int64 ids, a 20-item history, 10 dense features; no binary row: its inputs are not all
 * float32) and the generated CNN ([1,3,32,32], ~1 ms per batch-1 run):
 *   raw            session.run in this process, batch 1, one intra-op thread (no HTTP)
 *   oip / predict  autocannon → frontend process (dist/frontend/main.js) → Redis → workers (as
 *                  many as cores, the default modelParallelism; `--workers n` to change)
 *   oip ×2         the same with two frontend processes sharing the port (http.processes: 2)
 *   oip binary     the OIP request with KServe's binary tensor extension (JSON header + raw
 *                  float32 bytes), one frontend process
 *   naive ×1 / ×2  autocannon → fastify that parses the body and calls session.run in its handler,
 *                  one process, and two sharing the port through node:cluster
 * at concurrency (connections) 1 and 64. Latencies are taken per response (fractional ms),
 * not from autocannon's integer-ms histogram.
 *
 * Cores: everything shares the machine's cores (2 on the reference machine): autocannon and
 * this script, the frontend process(es), redis-server and the workers; the naive server's
 * processes share them with autocannon.
 */
import './plain-runtime.js';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import * as ort from 'onnxruntime-node';
import { ortFeeds } from './ort-feeds.js';
import { readStats, type JobStats } from '../src/redis/job-state.js';
import { writeModel } from '../test/fixtures/onnx-models.js';
import { freePort, startRedis } from '../test/helpers/redis-server.js';
import { startWorker, writeConfig, type WorkerProcess } from '../test/helpers/worker-process.js';
import { drive, printTable, summarise, type Figures } from './stats.js';
import { recSample, REC_DENSE, writeRecModel } from './rec-model.js';
import { SERVING_NODE_FLAGS } from '../src/supervisor/node-flags.js';

const QUICK = process.argv.includes('--quick');
const SECONDS = QUICK ? 3 : 8;
const ROOT = resolve(import.meta.dirname, '..');
const WORKERS_AT = process.argv.indexOf('--workers');
const WORKERS = WORKERS_AT === -1 ? cpus().length : Number(process.argv[WORKERS_AT + 1]);

interface CaseInput {
  readonly name: string;
  readonly datatype: 'FP32' | 'INT64';
  /** With the batch dimension (1). */
  readonly shape: number[];
  readonly data: number[];
}

interface ModelCase {
  readonly kind: 'mlp' | 'cnn' | 'rec';
  readonly inputs: CaseInput[];
  write(dir: string): Promise<string>;
}

const BATCH_AT = process.argv.indexOf('--max-batch');
const MAX_BATCH = BATCH_AT === -1 ? 32 : Number(process.argv[BATCH_AT + 1]);
const ONLY_AT = process.argv.indexOf('--only');

function floatCase(kind: 'mlp' | 'cnn', input: string, shape: number[]): ModelCase {
  return {
    kind,
    inputs: [{ name: input, datatype: 'FP32', shape, data: Array.from(sampleData(shape)) }],
    write: (dir) => writeModel(dir, kind),
  };
}

function recCase(): ModelCase {
  const sample = recSample();
  const int64 = (name: string, data: number[]): CaseInput => ({
    name,
    datatype: 'INT64',
    shape: [1, data.length],
    data,
  });
  return {
    kind: 'rec',
    inputs: [
      int64('user_id', sample.user_id),
      int64('item_id', sample.item_id),
      int64('history', sample.history),
      { name: 'dense', datatype: 'FP32', shape: [1, REC_DENSE], data: sample.dense },
    ],
    write: writeRecModel,
  };
}

const CASES: ModelCase[] = [
  floatCase('mlp', 'input', [1, 4]),
  recCase(),
  floatCase('cnn', 'image', [1, 3, 32, 32]),
].filter((c) => ONLY_AT === -1 || c.kind === process.argv[ONLY_AT + 1]);

function sampleData(shape: readonly number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i) * 0.5;
  return data;
}

function oipBody(c: ModelCase): string {
  return JSON.stringify({
    inputs: c.inputs.map((i) => ({ name: i.name, shape: i.shape, datatype: i.datatype, data: i.data })),
  });
}

/** The same request with the binary tensor extension: a JSON header, then the float32 bytes. */
function oipBinaryBody(input: CaseInput): { body: Buffer; headers: Record<string, string> } {
  const data = Float32Array.from(input.data);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: input.name,
          shape: input.shape,
          datatype: 'FP32',
          parameters: { binary_data_size: data.byteLength },
        },
      ],
    }),
  );
  return {
    body: Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]),
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(header.length),
    },
  };
}

/** BigDL's form: one instance, the sample without its batch dimension, as nested arrays. */
function predictBody(c: ModelCase): string {
  const instance: Record<string, unknown> = {};
  for (const input of c.inputs) {
    const { data } = input;
    const nest = (dims: readonly number[], offset: number): unknown => {
      if (dims.length === 1) return data.slice(offset, offset + (dims[0] as number));
      const stride = dims.slice(1).reduce((a, b) => a * b, 1);
      return Array.from({ length: dims[0] as number }, (_, i) => nest(dims.slice(1), offset + i * stride));
    };
    instance[input.name] = nest(input.shape.slice(1), 0);
  }
  return JSON.stringify({ instances: [instance] });
}

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  stop(): Promise<void>;
}

async function launch(args: string[], execArgv: string[], port: number): Promise<Server> {
  const child = fork(args[0] as string, args.slice(1), {
    execArgv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, CLUSTER_SERVING_LOG_LEVEL: 'warn' },
  });
  await new Promise<void>((done, fail) => {
    child.on('message', (m: { type?: string; message?: string }) => {
      if (m.type === 'ready' || m.type === 'state') done();
      if (m.type === 'fatal') fail(new Error(m.message));
    });
    child.once('exit', (code) => fail(new Error(`${args[0]} exited with ${code}`)));
  });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function frontend(redisUrl: string, job: string, processes: number): Promise<Server> {
  const port = await freePort();
  const flags = [
    '--port',
    String(port),
    '--interface',
    '127.0.0.1',
    '--redisUrl',
    redisUrl,
    '--redisInputQueue',
    job,
  ];
  return launch(
    [join(ROOT, 'dist/frontend/main.js'), ...flags, '--processes', String(processes)],
    [...SERVING_NODE_FLAGS],
    port,
  );
}

async function naive(modelPath: string, processes: number): Promise<Server> {
  const port = await freePort();
  return launch(
    [
      join(ROOT, 'bench/http-naive.ts'),
      '--model',
      modelPath,
      '--port',
      String(port),
      '--processes',
      String(processes),
    ],
    ['--import', 'tsx'],
    port,
  );
}

interface LoadResult {
  readonly figures: Figures;
  readonly failed: number;
}

function load(
  label: string,
  url: string,
  request: string | { body: Buffer; headers: Record<string, string> },
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const { body, headers } =
    typeof request === 'string'
      ? { body: request, headers: { 'content-type': 'application/json' } }
      : request;
  return new Promise((done, fail) => {
    const latencies: number[] = [];
    let failed = 0;
    const instance = autocannon(
      {
        url,
        method: 'POST',
        headers,
        body,
        connections,
        duration: seconds,
      },
      (error, result) => {
        if (error !== null && error !== undefined) {
          fail(error);
          return;
        }
        failed += result.errors + result.timeouts;
        done({ figures: summarise(label, connections, latencies, result.duration), failed });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      else failed += 1;
    });
  });
}

/** Warm-up windows at concurrency 64: at least this many, then until two in a row agree. */
const WARM_WINDOWS = { least: 3, most: 10, agree: 0.05 } as const;

/**
 * JIT, connection pools and the workers' read loops settle before anything is measured, the
 * naive server's as the frontend's: one-second windows at concurrency 64 until two in a row
 * are within 5% of each other (a frontend and its workers take 2-4 s to reach steady speed on
 * the reference machine, the naive server 1-2 s), then one second at concurrency 1.
 */
async function warmUp(url: string, request: Parameters<typeof load>[2]): Promise<void> {
  let last = 0;
  for (let window = 1; window <= WARM_WINDOWS.most; window++) {
    const rate = (await load('warm-up', url, request, 64, 1)).figures.perSecond;
    const steady = last > 0 && Math.abs(rate - last) <= WARM_WINDOWS.agree * Math.max(rate, last);
    if (window >= WARM_WINDOWS.least && steady) break;
    last = rate;
  }
  await load('warm-up', url, request, 1, 1);
}

async function raw(path: string, c: ModelCase): Promise<Figures> {
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = ortFeeds(c.inputs);
  for (let i = 0; i < 200; i++) await session.run(feeds);
  const { latencies, seconds } = await drive(1, c.kind === 'cnn' ? 3000 : 20_000, () => session.run(feeds));
  await session.release();
  return summarise(`${c.kind} raw session.run`, 1, latencies, seconds);
}

type Stages = Map<string, { sum: number; count: number }>;

async function stages(url: string): Promise<Stages> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Stages = new Map();
  for (const line of text.split('\n')) {
    const m = /^cs_http_stage_duration_seconds_(sum|count)\{[^}]*stage="(\w+)"[^}]*\} (\S+)$/.exec(line);
    if (m === null) continue;
    const entry = out.get(m[2] as string) ?? { sum: 0, count: 0 };
    if (m[1] === 'sum') entry.sum = Number(m[3]);
    else entry.count = Number(m[3]);
    out.set(m[2] as string, entry);
  }
  return out;
}

function breakdown(label: string, before: Stages, after: Stages, s0: JobStats, s1: JobStats): string {
  const per = (stage: string): string => {
    const a = after.get(stage);
    const b = before.get(stage) ?? { sum: 0, count: 0 };
    if (a === undefined || a.count === b.count) return 'n/a';
    return `${((1000 * (a.sum - b.sum)) / (a.count - b.count)).toFixed(3)} ms`;
  };
  const records = s1.processed - s0.processed;
  const batches = s1.batches - s0.batches;
  const queue = records > 0 ? (s1.queueMsTotal - s0.queueMsTotal) / records : Number.NaN;
  const compute = batches > 0 ? (s1.computeMsTotal - s0.computeMsTotal) / batches : Number.NaN;
  return (
    `${label}: parse ${per('parse')}, validate ${per('validate')}, submit (Redis + queue + inference + reply) ${per('submit')}, ` +
    `encode ${per('encode')}; worker: queue wait ${queue.toFixed(3)} ms/record, inference ${compute.toFixed(3)} ms/batch, ` +
    `mean batch ${(batches > 0 ? records / batches : 0).toFixed(1)}`
  );
}

/** The targets for small models: ratios against the naive server measured in this run. */
function smallModelTargets(kind: string, rawRow: Figures, found: Record<string, Figures>): string[] {
  const out: string[] = [];
  const naive64 = found['naive1-64'];
  const naive1 = found['naive1-1'];
  for (const [key, name] of [
    ['oip1-64', 'oip ×1'],
    ['predict1-64', '/predict ×1'],
    ['oip2-64', 'oip ×2'],
  ] as const) {
    const row = found[key];
    if (row === undefined || naive64 === undefined) continue;
    out.push(
      `${kind} c64 ${name}: ${row.perSecond.toFixed(0)}/s = ${(row.perSecond / naive64.perSecond).toFixed(2)}× naive single-process (target ≥ 0.8×, stretch 1.0×)`,
    );
  }
  const one = found['oip1-64'];
  const two = found['oip2-64'];
  if (one !== undefined && two !== undefined) {
    out.push(
      `${kind} c64 two frontend processes vs one: ${(two.perSecond / one.perSecond).toFixed(2)}× (target ≥ 1.0×)`,
    );
  }
  for (const [key, name] of [
    ['oip1-1', 'oip'],
    ['predict1-1', '/predict'],
  ] as const) {
    const row = found[key];
    if (row === undefined) continue;
    const overNaive =
      naive1 === undefined ? '' : `, ${(row.p50Ms - naive1.p50Ms).toFixed(3)} ms over the naive server`;
    out.push(
      `${kind} ${name} added p50 at concurrency 1: ${(row.p50Ms - rawRow.p50Ms).toFixed(3)} ms over raw session.run (target ≤ 0.4 ms)${overNaive}`,
    );
  }
  return out;
}

async function main(): Promise<void> {
  console.log(
    `bench:http on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), node ${process.version}, ${SECONDS} s per run`,
  );
  console.log(
    `all processes share the cores: autocannon + this script, frontend(s), redis-server, ${WORKERS} worker(s); naive server(s) with autocannon`,
  );
  console.log(
    `frontends and workers run with ${SERVING_NODE_FLAGS.join(' ')} as cluster-serving starts them; naive servers with Node's defaults\n`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'cs-bench-http-'));
  const redis = await startRedis();
  const stats = redis.client();
  const rows: Figures[] = [];
  const notes: string[] = [];
  const failures: string[] = [];
  const record = (r: LoadResult): Figures => {
    rows.push(r.figures);
    if (r.failed > 0)
      failures.push(`${r.figures.label} c${r.figures.concurrency}: ${r.failed} non-2xx or errors`);
    return r.figures;
  };
  try {
    for (const c of CASES) {
      const path = await c.write(dir);
      const rawRow = await raw(path, c);
      rows.push(rawRow);
      const job = `bench_http_${c.kind}`;
      const config = await writeConfig({
        modelPath: path,
        jobName: job,
        redisUrl: redis.url,
        maxBatchSize: MAX_BATCH,
      });
      const workers: WorkerProcess[] = [];
      for (let i = 0; i < WORKERS; i++) workers.push(await startWorker(config));
      const oip = oipBody(c);
      const predict = predictBody(c);
      console.log(
        `${c.kind}: OIP body ${(oip.length / 1024).toFixed(1)} KB, /predict body ${(predict.length / 1024).toFixed(1)} KB`,
      );
      const found: Record<string, Figures> = {};
      for (const processes of [1, 2]) {
        const f = await frontend(redis.url, job, processes);
        const infer = `${f.url}/v2/models/${job}/infer`;
        await warmUp(infer, oip);
        for (const connections of [1, 64]) {
          const [b0, s0] = [await stages(f.url), await readStats(stats, job)];
          const name = `${c.kind} frontend oip ×${processes}`;
          found[`oip${processes}-${connections}`] = record(
            await load(name, infer, oip, connections, SECONDS),
          );
          if (processes === 1) {
            notes.push(
              breakdown(`${name} c${connections}`, b0, await stages(f.url), s0, await readStats(stats, job)),
            );
          }
        }
        if (processes === 1) {
          // Each path warms its own parsing and encoding code first.
          await warmUp(`${f.url}/predict`, predict);
          for (const connections of [1, 64]) {
            const [b0, s0] = [await stages(f.url), await readStats(stats, job)];
            const name = `${c.kind} frontend /predict ×1`;
            found[`predict1-${connections}`] = record(
              await load(name, `${f.url}/predict`, predict, connections, SECONDS),
            );
            notes.push(
              breakdown(`${name} c${connections}`, b0, await stages(f.url), s0, await readStats(stats, job)),
            );
          }
          const binaryInput = c.inputs.length === 1 ? c.inputs[0] : undefined;
          if (binaryInput !== undefined) await warmUp(infer, oipBinaryBody(binaryInput));
          for (const connections of binaryInput === undefined ? [] : [1, 64]) {
            const [b0, s0] = [await stages(f.url), await readStats(stats, job)];
            const name = `${c.kind} frontend oip binary ×1`;
            record(await load(name, infer, oipBinaryBody(binaryInput as CaseInput), connections, SECONDS));
            notes.push(
              breakdown(`${name} c${connections}`, b0, await stages(f.url), s0, await readStats(stats, job)),
            );
          }
        }
        await f.stop();
      }
      for (const w of workers) await w.stop();
      for (const processes of [1, 2]) {
        const n = await naive(path, processes);
        const infer = `${n.url}/v2/models/${job}/infer`;
        await warmUp(infer, oip);
        for (const connections of [1, 64]) {
          found[`naive${processes}-${connections}`] = record(
            await load(`${c.kind} naive session.run ×${processes}`, infer, oip, connections, SECONDS),
          );
        }
        await n.stop();
      }
      if (c.kind !== 'cnn') notes.push(...smallModelTargets(c.kind, rawRow, found));
      const naive64 = found['naive1-64'];
      for (const key of ['oip1-64', 'oip2-64']) {
        const f64 = found[key];
        if (c.kind !== 'cnn' || f64 === undefined || naive64 === undefined) continue;
        notes.push(
          `cnn c64 ${key.startsWith('oip2') ? 'two' : 'one'} frontend process(es): ${f64.perSecond.toFixed(0)}/s = ${(f64.perSecond / naive64.perSecond).toFixed(2)}× naive single-process (target ≥ 1.5×), p99 ${f64.p99Ms.toFixed(2)} ms vs naive ${naive64.p99Ms.toFixed(2)} ms (target lower)`,
        );
      }
    }
  } finally {
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log('');
  printTable(rows);
  console.log('');
  for (const n of notes) console.log(n);
  if (failures.length > 0) console.log(`\nnot answered 2xx:\n  ${failures.join('\n  ')}`);
}

await main();
