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
 * Every server of a model runs at once (idle ones cost nothing): each path is warmed, measured
 * once at concurrency 1, then at 64 in three rounds that visit every path in turn. A row at 64
 * merges its three windows; a ratio is the median of the three within-round ratios, so that the
 * two sides of a ratio are always measured seconds apart, not minutes (this machine's speed
 * drifts by a third over minutes).
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
import { readStats } from '../src/redis/job-state.js';
import { writeModel } from '../test/fixtures/onnx-models.js';
import { freePort, startRedis } from '../test/helpers/redis-server.js';
import { startWorker, writeConfig, type WorkerProcess } from '../test/helpers/worker-process.js';
import { drive, median, printTable, summarise, type Figures } from './stats.js';
import { recSample, REC_DENSE, writeRecModel } from './rec-model.js';
import { SERVING_NODE_FLAGS } from '../src/supervisor/node-flags.js';

const QUICK = process.argv.includes('--quick');
const SECONDS = QUICK ? 3 : 8;
/** Rounds at concurrency 64: each path measured once per round, ratios taken within a round. */
const ROUNDS = 3;
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
  /** Each 2xx response's latency (ms), so that windows of the same path can be merged. */
  readonly latencies: number[];
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
        done({ figures: summarise(label, connections, latencies, result.duration), failed, latencies });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      else failed += 1;
    });
  });
}

/** Windows of one path measured at different times, as one row. */
function merged(windows: readonly LoadResult[]): LoadResult {
  const first = windows[0] as LoadResult;
  const latencies = windows.flatMap((w) => w.latencies);
  const seconds = windows.reduce((sum, w) => sum + w.figures.seconds, 0);
  return {
    figures: summarise(first.figures.label, first.figures.concurrency, latencies, seconds),
    failed: windows.reduce((sum, w) => sum + w.failed, 0),
    latencies,
  };
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

/** A frontend's stage figures and the job's worker figures: read before and after each window. */
interface Tally {
  readonly stages: Stages;
  readonly records: number;
  readonly batches: number;
  readonly queueMs: number;
  readonly computeMs: number;
}

async function tallyNow(
  frontendUrl: string,
  stats: Parameters<typeof readStats>[0],
  job: string,
): Promise<Tally> {
  const [s, j] = [await stages(frontendUrl), await readStats(stats, job)];
  return {
    stages: s,
    records: j.processed,
    batches: j.batches,
    queueMs: j.queueMsTotal,
    computeMs: j.computeMsTotal,
  };
}

function combine(a: Tally, b: Tally, sign: 1 | -1): Tally {
  const out: Stages = new Map();
  for (const key of new Set([...a.stages.keys(), ...b.stages.keys()])) {
    const x = a.stages.get(key) ?? { sum: 0, count: 0 };
    const y = b.stages.get(key) ?? { sum: 0, count: 0 };
    out.set(key, { sum: x.sum + sign * y.sum, count: x.count + sign * y.count });
  }
  return {
    stages: out,
    records: a.records + sign * b.records,
    batches: a.batches + sign * b.batches,
    queueMs: a.queueMs + sign * b.queueMs,
    computeMs: a.computeMs + sign * b.computeMs,
  };
}

const since = (before: Tally, after: Tally): Tally => combine(after, before, -1);
const added = (a: Tally, b: Tally): Tally => combine(a, b, 1);

function breakdown(label: string, t: Tally): string {
  const per = (stage: string): string => {
    const s = t.stages.get(stage);
    if (s === undefined || s.count === 0) return 'n/a';
    return `${((1000 * s.sum) / s.count).toFixed(3)} ms`;
  };
  const queue = t.records > 0 ? t.queueMs / t.records : Number.NaN;
  const compute = t.batches > 0 ? t.computeMs / t.batches : Number.NaN;
  return (
    `${label}: parse ${per('parse')}, validate ${per('validate')}, submit (Redis + queue + inference + reply) ${per('submit')}, ` +
    `encode ${per('encode')}; worker: queue wait ${queue.toFixed(3)} ms/record, inference ${compute.toFixed(3)} ms/batch, ` +
    `mean batch ${(t.batches > 0 ? t.records / t.batches : 0).toFixed(1)}`
  );
}

/** A path measured in the rounds: its row's key and label, and the frontend whose stages it reads. */
interface MeasuredPath {
  readonly key: string;
  readonly label: string;
  readonly url: string;
  readonly request: Parameters<typeof load>[2];
  readonly stagesOf?: Server;
}

/** "0.87× (rounds 0.85, 0.87, 0.90)": the median of per-round ratios, then each round's. */
function roundsText(ratios: readonly number[]): string {
  return `${median(ratios).toFixed(2)}× (rounds ${ratios.map((r) => r.toFixed(2)).join(', ')})`;
}

/** The targets for small models: ratios against the naive server measured in the same rounds. */
function smallModelTargets(
  kind: string,
  rawRow: Figures,
  found: Record<string, Figures>,
  ratios: Record<string, number[]>,
): string[] {
  const out: string[] = [];
  const naive1 = found['naive1-1'];
  for (const [key, name] of [
    ['oip1', 'oip ×1'],
    ['predict1', '/predict ×1'],
    ['oip2', 'oip ×2'],
  ] as const) {
    const row = found[`${key}-64`];
    const ratio = ratios[`${key}/naive1`] ?? [];
    if (row === undefined || ratio.length === 0) continue;
    out.push(
      `${kind} c64 ${name}: ${row.perSecond.toFixed(0)}/s = ${roundsText(ratio)} naive single-process (target ≥ 0.8×, stretch 1.0×)`,
    );
  }
  const twoVsOne = ratios['oip2/oip1'] ?? [];
  if (twoVsOne.length > 0) {
    out.push(`${kind} c64 two frontend processes vs one: ${roundsText(twoVsOne)} (target ≥ 1.0×)`);
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
      const found: Record<string, Figures> = {};
      const ratios: Record<string, number[]> = {};
      const oip = oipBody(c);
      const predict = predictBody(c);
      console.log(
        `${c.kind}: OIP body ${(oip.length / 1024).toFixed(1)} KB, /predict body ${(predict.length / 1024).toFixed(1)} KB`,
      );
      const workers: WorkerProcess[] = [];
      const servers: Server[] = [];
      try {
        for (let i = 0; i < WORKERS; i++) workers.push(await startWorker(config));
        for (const start of [
          () => frontend(redis.url, job, 1),
          () => frontend(redis.url, job, 2),
          () => naive(path, 1),
          () => naive(path, 2),
        ])
          servers.push(await start());
        const [one, two, naive1, naive2] = servers as [Server, Server, Server, Server];
        const infer = (s: Server): string => `${s.url}/v2/models/${job}/infer`;
        const binaryInput = c.inputs.length === 1 ? c.inputs[0] : undefined;
        const paths: MeasuredPath[] = [
          { key: 'naive1', label: `${c.kind} naive session.run ×1`, url: infer(naive1), request: oip },
          { key: 'oip1', label: `${c.kind} frontend oip ×1`, url: infer(one), request: oip, stagesOf: one },
          {
            key: 'predict1',
            label: `${c.kind} frontend /predict ×1`,
            url: `${one.url}/predict`,
            request: predict,
            stagesOf: one,
          },
          ...(binaryInput === undefined
            ? []
            : [
                {
                  key: 'binary1',
                  label: `${c.kind} frontend oip binary ×1`,
                  url: infer(one),
                  request: oipBinaryBody(binaryInput),
                  stagesOf: one,
                },
              ]),
          { key: 'oip2', label: `${c.kind} frontend oip ×2`, url: infer(two), request: oip },
          { key: 'naive2', label: `${c.kind} naive session.run ×2`, url: infer(naive2), request: oip },
        ];
        // Each path warms its own parsing and encoding code first.
        for (const p of paths) await warmUp(p.url, p.request);
        const tallies = new Map<string, Tally>();
        const measure = async (p: MeasuredPath, connections: number): Promise<LoadResult> => {
          const before = p.stagesOf === undefined ? undefined : await tallyNow(p.stagesOf.url, stats, job);
          const result = await load(p.label, p.url, p.request, connections, SECONDS);
          if (before !== undefined && p.stagesOf !== undefined) {
            const key = `${p.key}-${connections}`;
            const delta = since(before, await tallyNow(p.stagesOf.url, stats, job));
            const sum = tallies.get(key);
            tallies.set(key, sum === undefined ? delta : added(sum, delta));
          }
          return result;
        };
        for (const p of paths) found[`${p.key}-1`] = record(await measure(p, 1));
        // Concurrency 64 in rounds, each path once per round, so that every ratio compares
        // windows a few seconds apart: this machine's speed drifts by a third over minutes.
        const windows = new Map<string, LoadResult[]>(paths.map((p) => [p.key, []]));
        for (let round = 0; round < ROUNDS; round++) {
          for (const p of paths) windows.get(p.key)?.push(await measure(p, 64));
        }
        for (const p of paths) {
          const rounds = windows.get(p.key) ?? [];
          found[`${p.key}-64`] = record(merged(rounds));
          notes.push(
            `${p.label} c64 by round: ${rounds.map((w) => w.figures.perSecond.toFixed(0)).join(', ')}/s`,
          );
        }
        const rates = (key: string): number[] => (windows.get(key) ?? []).map((w) => w.figures.perSecond);
        const perRound = (key: string, baseline: string): number[] => {
          const base = rates(baseline);
          return rates(key).map((rate, i) => rate / (base[i] as number));
        };
        for (const key of ['oip1', 'predict1', 'binary1', 'oip2'])
          ratios[`${key}/naive1`] = perRound(key, 'naive1');
        ratios['oip2/oip1'] = perRound('oip2', 'oip1');
        for (const [key, tally] of tallies) {
          const p = paths.find((x) => key.startsWith(`${x.key}-`));
          if (p !== undefined) notes.push(breakdown(`${p.label} c${key.split('-')[1] ?? ''}`, tally));
        }
      } finally {
        for (const s of servers) await s.stop();
        for (const w of workers) await w.stop();
      }
      if (c.kind !== 'cnn') notes.push(...smallModelTargets(c.kind, rawRow, found, ratios));
      const naive64 = found['naive1-64'];
      for (const [key, name] of [
        ['oip1', 'oip ×1'],
        ['predict1', '/predict ×1'],
        ['binary1', 'oip binary ×1'],
        ['oip2', 'oip ×2'],
      ] as const) {
        const f64 = found[`${key}-64`];
        const ratio = ratios[`${key}/naive1`] ?? [];
        if (c.kind !== 'cnn' || f64 === undefined || naive64 === undefined || ratio.length === 0) continue;
        notes.push(
          `cnn c64 ${name}: ${f64.perSecond.toFixed(0)}/s = ${roundsText(ratio)} naive single-process, p99 ${f64.p99Ms.toFixed(2)} ms vs naive ${naive64.p99Ms.toFixed(2)} ms`,
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
