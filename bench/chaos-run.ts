/**
 * The chaos run behind `npm run chaos` and test/e2e/chaos.test.ts: a job of 2 workers and an
 * HTTP frontend on a persistent managed Redis, started with the real CLI, under steady load
 * from the TypeScript client (predict and BigDL-style enqueue, unique uris) and HTTP, while
 * workers, the frontend and Redis are killed with SIGKILL and a worker is stopped (SIGSTOP)
 * for longer than the claim bound. See ChaosReport for what is counted and how.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { InputQueue } from '../src/client/input-queue.js';
import { OutputQueue } from '../src/client/output-queue.js';
import { isCsError, isErrorCode, reasonOf } from '../src/errors/registry.js';
import { keys } from '../src/redis/keys.js';
import { answeredUris } from '../src/contracts/request-pack.js';
import { writeModel } from '../test/fixtures/onnx-models.js';
import { isRunning, type CliHarness } from '../test/helpers/cli.js';
import { freePort } from '../test/helpers/redis-server.js';
import { waitFor } from '../test/helpers/wait-for.js';
import { tally, type Outcome, type Tally } from './chaos-tally.js';

export const CHAOS_JOB = 'chaos';
/** How long a stopped worker stays stopped: longer than the 3 s after which others claim its entries. */
const STOP_MS = 4500;
const REQUEST_TIMEOUT_MS = 8000;
/** Pause between two requests of one load loop: steady load, not a flood on a shared machine. */
const PACE_MS = 15;
const MAX_PER_LOOP = 5000;

export interface ChaosOptions {
  /** Length of the load and fault phase. */
  readonly seconds: number;
  /** redisPersistence of the job (default true); false shows what a Redis crash costs without it. */
  readonly redisPersistence?: boolean;
  readonly log?: (line: string) => void;
}

/** The tally of every request (chaos-tally.ts), and what the run itself saw. */
export interface ChaosReport extends Tally {
  readonly seconds: number;
  readonly redisPersistence: boolean;
  /** Entries still in the stream after the drain. */
  readonly stranded: number;
  readonly rss: readonly { readonly slot: number; readonly baselineMb: number; readonly endMb: number }[];
  readonly actions: readonly string[];
}

interface StateFile {
  readonly jobs: readonly {
    readonly name: string;
    readonly processes: readonly {
      role: 'worker' | 'frontend';
      slot: number;
      pid: number | null;
      state: string;
    }[];
  }[];
  readonly redis: readonly { pid: number | null }[];
}

/** Runs the whole chaos scenario in `cli`'s home; the caller cleans the harness up. */
export async function runChaos(cli: CliHarness, options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? ((): void => undefined);
  const redisPort = await freePort();
  const httpPort = await freePort();
  const model = await writeModel(join(cli.root, 'models'), 'mlp');
  const config = await cli.project(
    'chaos',
    {
      jobName: CHAOS_JOB,
      modelParallelism: 2,
      redisUrl: `localhost:${redisPort}`,
      redisMaxmemory: '128mb',
      redisPersistence: options.redisPersistence ?? true,
    },
    model,
    `http:\n  interface: 127.0.0.1\n  port: ${httpPort}\n  requestTimeout: ${REQUEST_TIMEOUT_MS}\n`,
  );
  const started = await cli.run(['start', '-c', config, '--timeout', '120'], { timeoutMs: 150_000 });
  if (started.code !== 0) throw new Error(`start failed (${started.code}): ${started.stderr}`);
  log(`job started: Redis ${redisPort}, HTTP ${httpPort}`);

  const state = async (): Promise<StateFile> =>
    JSON.parse(await readFile(join(cli.home, 'state.json'), 'utf8')) as StateFile;
  /** The pid in a slot now (the supervisor gives a restarted process the same slot); any slot of the role when undefined. */
  const pidOf = async (role: 'worker' | 'frontend', slot?: number): Promise<number | undefined> =>
    (await state()).jobs
      .find((j) => j.name === CHAOS_JOB)
      ?.processes.find((p) => p.role === role && (slot === undefined || p.slot === slot))?.pid ?? undefined;
  /** A live pid in the slot, waiting (bounded) while the supervisor restarts it; undefined if none comes. */
  const livePid = (role: 'worker' | 'frontend', slot?: number): Promise<number | undefined> =>
    waitFor(
      async () => {
        const pid = await pidOf(role, slot);
        return pid !== undefined && isRunning(pid) ? pid : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: `a live ${role}` },
    ).catch(() => undefined);
  const workerSlots = ((await state()).jobs.find((j) => j.name === CHAOS_JOB)?.processes ?? [])
    .filter((p) => p.role === 'worker')
    .map((p) => p.slot);
  const baseline = await Promise.all(workerSlots.map(async (slot) => rssMb(await pidOf('worker', slot))));

  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const publishes = new Map<string, number>();
  // Reconnects at once after a Redis restart: a result published before it subscribes again goes uncounted.
  const monitor = new Redis(redisUrl, { lazyConnect: true, retryStrategy: () => 20 });
  monitor.on('error', () => undefined);
  monitor.on('pmessageBuffer', (_pattern: Buffer, _channel: Buffer, message: Buffer) => {
    try {
      for (const uri of answeredUris(message)) publishes.set(uri, (publishes.get(uri) ?? 0) + 1);
    } catch {
      // not a reply of ours
    }
  });
  await monitor.connect();
  await monitor.psubscribe(`${keys.replyChannel('')}*`);

  const client = new InputQueue({ redisUrl, name: CHAOS_JOB, timeoutMs: REQUEST_TIMEOUT_MS });
  const enqueuer = new InputQueue({ redisUrl, name: CHAOS_JOB });
  const output = new OutputQueue({ redisUrl, name: CHAOS_JOB });
  const outcomes: Outcome[] = [];
  const stopLoad = new AbortController();
  const actions: string[] = [];
  const act = (line: string): void => {
    actions.push(line);
    log(line);
  };

  const x = Float32Array.from([0.5, -1, 2, 0.25]);
  const loops: Promise<void>[] = [];
  const loop = (count: number, once: (n: number) => Promise<Outcome>): void => {
    for (let lane = 0; lane < count; lane++) {
      loops.push(
        (async (): Promise<void> => {
          for (let i = 0; i < MAX_PER_LOOP && !stopLoad.signal.aborted; i++) {
            outcomes.push(await once(lane * MAX_PER_LOOP + i));
            await sleep(PACE_MS, undefined, { signal: stopLoad.signal }).catch(() => undefined);
          }
        })(),
      );
    }
  };
  loop(4, async (n) => {
    const uri = `cl-${n}`;
    try {
      await client.predict({ input: { data: x, shape: [1, 4] } }, { uri });
      return { path: 'client', uri, result: 'answered' };
    } catch (error) {
      return { path: 'client', uri, result: failureCode(error) };
    }
  });
  loop(2, async (n) => {
    const uri = `eq-${n}`;
    try {
      await enqueuer.enqueue(uri, { input: { data: x, shape: [1, 4] } });
      return { path: 'enqueue', uri, result: 'accepted' };
    } catch (error) {
      return { path: 'enqueue', uri, result: failureCode(error) };
    }
  });
  loop(4, async () => ({ path: 'http', uri: '', result: await httpOnce(httpPort, x) }));

  // The faults, spread over the run.
  const at = (fraction: number): Promise<void> =>
    sleep(Math.max(0, startedAt + fraction * options.seconds * 1000 - Date.now()));
  const startedAt = Date.now();
  const killWorker = async (slot: number): Promise<void> => {
    const pid = await livePid('worker', slot);
    if (pid !== undefined) signal(pid, 'SIGKILL');
    act(`${elapsed(startedAt)} kill -9 worker ${slot} (pid ${pid ?? 'none'})`);
  };
  await at(0.15);
  const [firstSlot = 0, secondSlot = 1] = workerSlots;
  await killWorker(firstSlot);
  await at(0.3);
  const stopped = await livePid('worker', secondSlot);
  if (stopped !== undefined) {
    signal(stopped, 'SIGSTOP');
    act(`${elapsed(startedAt)} SIGSTOP worker ${secondSlot} (pid ${stopped}) for ${STOP_MS} ms`);
    try {
      await sleep(STOP_MS);
    } finally {
      signal(stopped, 'SIGCONT');
    }
    act(`${elapsed(startedAt)} SIGCONT worker ${secondSlot}`);
  } else {
    act(`${elapsed(startedAt)} SIGSTOP worker ${secondSlot} skipped (pid none)`);
  }
  await at(0.5);
  const frontend = await livePid('frontend');
  if (frontend !== undefined) signal(frontend, 'SIGKILL');
  act(`${elapsed(startedAt)} kill -9 frontend (pid ${frontend ?? 'none'})`);
  await at(0.65);
  const redisPid = (await state()).redis[0]?.pid ?? undefined;
  if (redisPid !== undefined) signal(redisPid, 'SIGKILL');
  act(`${elapsed(startedAt)} kill -9 managed Redis (pid ${redisPid ?? 'none'})`);
  await at(0.8);
  await killWorker(secondSlot);
  await at(1);
  stopLoad.abort();
  await Promise.all(loops);
  act(`${elapsed(startedAt)} load stopped; draining`);

  // Everything accepted should be answered within a request timeout once processes are back.
  const admin = new Redis(redisUrl, { lazyConnect: true });
  admin.on('error', () => undefined);
  const streamLength = (): Promise<number> => admin.xlen(keys.stream(CHAOS_JOB));
  const stranded = await waitFor(async () => ((await streamLength()) === 0 ? 0 : undefined), {
    timeoutMs: 2 * REQUEST_TIMEOUT_MS,
    intervalMs: 250,
    what: 'the stream to drain',
  }).catch(() => streamLength().catch(() => -1));

  const ran = async (uri: string): Promise<boolean> =>
    (publishes.get(uri) ?? 0) > 0 ||
    (await output.query(uri).then(
      (r) => r.status !== 'pending',
      () => false,
    ));
  const counted = await tally(outcomes, publishes, ran);
  const rss = await Promise.all(
    workerSlots.map(async (slot, i) => ({
      slot,
      baselineMb: baseline[i] ?? 0,
      endMb: await rssMb(await pidOf('worker', slot)),
    })),
  );
  await Promise.allSettled([client.close(), enqueuer.close(), output.close()]);
  monitor.disconnect();
  admin.disconnect();
  return {
    seconds: options.seconds,
    redisPersistence: options.redisPersistence ?? true,
    ...counted,
    stranded,
    rss,
    actions,
  };
}

async function httpOnce(port: number, x: Float32Array): Promise<string> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v2/models/${CHAOS_JOB}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: Array.from(x) }],
      }),
      signal: AbortSignal.timeout(2 * REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    if (res.ok) return 'answered';
    try {
      const code = (JSON.parse(text) as { code?: unknown }).code;
      return typeof code === 'string' && isErrorCode(code) ? code : `uncoded:${res.status}`;
    } catch {
      return `uncoded:${res.status}`;
    }
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } }).cause?.code;
    return `transport:${typeof cause === 'string' ? cause : reasonOf(error)}`;
  }
}

function failureCode(error: unknown): string {
  if (isCsError(error) && isErrorCode(error.code)) return error.code;
  return `uncoded:${reasonOf(error).slice(0, 60)}`;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone: the fault it stood for happened anyway
  }
}

function elapsed(since: number): string {
  return `t+${((Date.now() - since) / 1000).toFixed(1)}s`;
}

/** Resident memory of a process, MB (0 when it is gone). */
async function rssMb(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? 0 : Math.round(Number(kb) / 1024);
  } catch {
    return 0;
  }
}
