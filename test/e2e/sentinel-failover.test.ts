import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InputQueue } from '../../src/client/input-queue.js';
import { OutputQueue } from '../../src/client/output-queue.js';
import { writeModel } from '../fixtures/onnx-models.js';
import { CliHarness } from '../helpers/cli.js';
import { printFigure } from '../helpers/figures.js';
import { HostProcesses } from '../helpers/host-process.js';
import { TestNetwork } from '../helpers/netns.js';
import { freePort } from '../helpers/redis-server.js';
import { SteadyLoad } from '../helpers/steady-load.js';
import { waitFor } from '../helpers/wait-for.js';
import { sample } from './e2e-support.js';

/**
 * A master (r1), its replica r2 and r3 replicating from r2, a Sentinel on each of those hosts,
 * and two worker hosts (w1, w2) that reach Redis only through the Sentinels. Two replicas, so
 * the promoted master still has one and `redisMinReplicas: 1` can confirm entries after it.
 * r3 is chained behind r2 so that r2 is the only replica Sentinel can promote: WAIT counts any
 * replica, and with two directly under the master Sentinel may promote the one that had not
 * received the last confirmed entries yet (its choice is by the offsets it last read).
 */
const PASSWORD = 'failover-pass';
const MASTER = 'mymaster';
/** Outcome code of an accepted request that never got an answer. */
const LOST = 'LOST';
/** Requests the steady load keeps in flight. */
const LOAD_CONCURRENCY = 8;

let network: TestNetwork;
let processes: HostProcesses;
let dir: string;
const closers: (() => Promise<unknown> | void)[] = [];

beforeAll(async () => {
  network = TestNetwork.create(['r1', 'r2', 'r3', 'w1', 'w2']);
  processes = new HostProcesses(network);
  dir = await mkdtemp(join(tmpdir(), 'cs-sentinel-'));
});

afterAll(async () => {
  await processes.killAll();
  network.destroy();
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await Promise.resolve(close()).catch(() => undefined);
  await processes.killAll();
});

interface Replicated {
  readonly sentinelUrl: string;
  readonly masterPid: number;
}

async function startReplicatedRedis(): Promise<Replicated> {
  const port = await freePort();
  const sentinelPort = await freePort();
  const master = network.host('r1').address;
  let masterPid = 0;
  for (const host of ['r1', 'r2', 'r3']) {
    const address = network.host(host).address;
    const child = processes.start(host, 'redis-server', [
      '--port',
      String(port),
      '--bind',
      address,
      '--requirepass',
      PASSWORD,
      '--masterauth',
      PASSWORD,
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
      // Send the first copy to a replica at once (Redis waits 5 s by default for more replicas).
      '--repl-diskless-sync-delay',
      '0',
      // Replicas write the snapshot they receive: into this test's directory, one file each.
      '--dir',
      dir,
      '--dbfilename',
      `${host}-${port}.rdb`,
      ...(host === 'r1'
        ? []
        : ['--replicaof', network.host(host === 'r2' ? 'r1' : 'r2').address, String(port)]),
    ]);
    if (host === 'r1') masterPid = child.pid ?? 0;
  }
  /** A lazy connection to the Redis on `host`, closed with the test. */
  const connectTo = (host: string): Redis => {
    const node = new Redis({ host, port, password: PASSWORD, lazyConnect: true, maxRetriesPerRequest: 0 });
    node.on('error', () => undefined);
    closers.push(() => node.disconnect());
    return node;
  };
  const admin = connectTo(master);
  const r2 = connectTo(network.host('r2').address);
  // Connected is not enough: a replica still waiting for its first copy holds nothing, and
  // Sentinel may promote it (everything written so far would then be gone).
  const online = async (node: Redis): Promise<number> => {
    if (node.status === 'wait') await node.connect();
    return (await node.info('replication')).match(/^slave\d+:.*state=online/gm)?.length ?? 0;
  };
  await waitFor(async () => (await online(admin)) === 1 && (await online(r2)) === 1, {
    what: 'r2 in sync with the master and r3 with r2',
    timeoutMs: 30_000,
  });
  for (const host of ['r1', 'r2', 'r3']) {
    const file = join(dir, `sentinel-${host}-${sentinelPort}.conf`);
    await writeFile(
      file,
      [
        `port ${sentinelPort}`,
        `bind ${network.host(host).address}`,
        'protected-mode no',
        `dir ${dir}`,
        `sentinel monitor ${MASTER} ${master} ${port} 2`,
        `sentinel auth-pass ${MASTER} ${PASSWORD}`,
        `sentinel down-after-milliseconds ${MASTER} 1000`,
        `sentinel failover-timeout ${MASTER} 10000`,
        '',
      ].join('\n'),
    );
    processes.start(host, 'redis-sentinel', [file]);
  }
  const sentinel = new Redis({
    host: network.host('r1').address,
    port: sentinelPort,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
  });
  sentinel.on('error', () => undefined);
  closers.push(() => sentinel.disconnect());
  await waitFor(
    async () => {
      if (sentinel.status === 'wait') await sentinel.connect();
      const others = (await sentinel.call('SENTINEL', 'SENTINELS', MASTER)) as unknown[];
      const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', MASTER)) as unknown[];
      return others.length === 2 && replicas.length === 1;
    },
    { what: 'the Sentinels to know each other and the replica', timeoutMs: 30_000 },
  );
  const hosts = ['r1', 'r2', 'r3'].map((h) => `${network.host(h).address}:${sentinelPort}`).join(',');
  return { sentinelUrl: `redis-sentinel://:${PASSWORD}@${hosts}/${MASTER}`, masterPid };
}

/** Starts the job on a worker host, with its HTTP frontend on `httpPort` when given. */
async function workerHost(
  host: string,
  redisUrl: string,
  minReplicas: number,
  httpPort?: number,
): Promise<void> {
  const cli = await CliHarness.create({ wrap: network.wrap(host) });
  closers.push(() => cli.cleanup());
  const model = await writeModel(join(cli.root, 'models'), 'mlp');
  const path = await cli.project(
    'p',
    { jobName: 'fo', modelParallelism: 1, redisUrl, redisMinReplicas: minReplicas, redisTimeout: 2000 },
    model,
    httpPort === undefined ? '' : `http:\n  port: ${httpPort}\n`,
  );
  const started = await cli.run(['start', '-c', path, '--timeout', '120'], {
    env: { CLUSTER_SERVING_HOSTNAME: host },
  });
  expect(started.code, started.stderr).toBe(0);
}

interface FailoverFigures {
  /** Where w1's HTTP frontend listens. */
  readonly httpUrl: string;
  readonly gapMs: number;
  readonly accepted: number;
  readonly lost: number;
  readonly errors: Record<string, number>;
}

/** Steady load through the Sentinels; SIGKILL the master; measure the gap and what was lost. */
async function killMasterUnderLoad(minReplicas: number): Promise<FailoverFigures> {
  const { sentinelUrl, masterPid } = await startReplicatedRedis();
  const httpPort = await freePort();
  await Promise.all([
    workerHost('w1', sentinelUrl, minReplicas, httpPort),
    workerHost('w2', sentinelUrl, minReplicas),
  ]);
  const queue = new InputQueue({ redisUrl: sentinelUrl, name: 'fo', minReplicas, redisTimeoutMs: 2000 });
  closers.push(() => queue.close());
  const results = new OutputQueue({ redisUrl: sentinelUrl, name: 'fo' });
  closers.push(() => results.close());
  const accepted = new Set<string>();
  const load = new SteadyLoad(async (seq) => {
    const uri = `req-${minReplicas}-${seq}`;
    try {
      await queue.enqueue(uri, { input: { data: sample(seq % 97), shape: [1, 4] } });
    } catch (error) {
      // Pace the retries while Redis is away: refused requests come back at once.
      await delay(50);
      throw error;
    }
    accepted.add(uri);
    const answer = await waitFor(
      async () => {
        const seen = await results.query(uri).catch(() => undefined);
        return seen !== undefined && seen.status !== 'pending' ? seen : undefined;
      },
      { what: `the answer to ${uri}`, timeoutMs: 30_000, intervalMs: 20 },
    ).catch(() => {
      // Confirmed by a master that died before a replica had it: counted as lost below
      // (asynchronous replication allows it without redisMinReplicas), not as an uncoded error.
      throw Object.assign(new Error(`no answer to ${uri}`), { code: LOST });
    });
    if (answer.status === 'error') throw Object.assign(new Error(answer.message), { code: answer.code });
  }, LOAD_CONCURRENCY);
  closers.push(() => load.stop());
  load.start();
  await waitFor(() => load.answered >= 50, { what: 'the load to be served', timeoutMs: 60_000 });

  process.kill(masterPid, 'SIGKILL');
  const killedAt = Date.now();
  await waitFor(() => load.answeredSince(killedAt) >= 30, {
    what: 'service to resume after the failover',
    timeoutMs: 120_000,
    intervalMs: 50,
  });
  const outcomes = await load.stop();
  const resumed = outcomes.filter((o) => o.ok && o.startedAt >= killedAt).map((o) => o.endedAt);
  const errors: Record<string, number> = {};
  for (const outcome of outcomes.filter((o) => !o.ok)) {
    // Every failure is a coded error, never a hang (stop() returned) or an uncoded throw.
    expect(`${outcome.code ?? 'uncoded'}: ${outcome.message ?? ''}`).toMatch(/^(CS_ERR_|LOST)/);
    const code = outcome.code ?? 'none';
    errors[code] = (errors[code] ?? 0) + 1;
  }
  // Lost: accepted (confirmed) entries that never got an answer, even after the failover settled.
  const unanswered = async (): Promise<string[]> => {
    const missing: string[] = [];
    for (const uri of accepted) {
      // The result connection may still be finding the promoted master: ask again until it answers.
      const seen = await waitFor(() => results.query(uri).catch(() => undefined), {
        what: `the result of ${uri} to be readable`,
        timeoutMs: 15_000,
        intervalMs: 100,
      });
      if (seen.status === 'pending') missing.push(uri);
    }
    return missing;
  };
  let missing = await unanswered();
  if (missing.length > 0) {
    missing = await waitFor(
      async () => {
        const now = await unanswered();
        return now.length === 0 ? now : undefined;
      },
      { what: 'late answers', timeoutMs: 15_000, intervalMs: 500 },
    ).catch(() => unanswered());
  }
  return {
    httpUrl: `http://${network.host('w1').address}:${httpPort}`,
    gapMs: Math.min(...resumed) - killedAt,
    accepted: accepted.size,
    lost: missing.length,
    errors,
  };
}

describe('Redis failover through Sentinel', { timeout: 400_000 }, () => {
  it('SIGKILL the master under load: service resumes on the promoted replica, every request answered or a coded error', async () => {
    const figures = await killMasterUnderLoad(0);
    printFigure(
      `Sentinel failover, redisMinReplicas 0: gap ${figures.gapMs} ms; ${figures.accepted} accepted, ${figures.lost} lost; errors ${JSON.stringify(figures.errors)}`,
    );
    expect(figures.accepted).toBeGreaterThan(50);
    // Without redisMinReplicas only what the master had not yet sent to its replicas can be
    // lost: at the kill, each request in flight and at most one that just finished before it.
    // (A replica still waiting for its first copy once got promoted here: everything was lost.)
    expect(figures.lost).toBeLessThanOrEqual(2 * LOAD_CONCURRENCY);
    // w1's frontend followed the failover too: it answers through the promoted master.
    const status = await waitFor(
      async () => {
        const answer = await fetch(`${figures.httpUrl}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ instances: [{ input: [1, 2, 3, 4] }] }),
        });
        return answer.status === 200 ? answer.status : undefined;
      },
      { what: "w1's frontend to answer after the failover", timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(status).toBe(200);
  });

  it('with redisMinReplicas: 1 nothing confirmed is lost', async () => {
    const figures = await killMasterUnderLoad(1);
    printFigure(
      `Sentinel failover, redisMinReplicas 1: gap ${figures.gapMs} ms; ${figures.accepted} accepted, ${figures.lost} lost; errors ${JSON.stringify(figures.errors)}`,
    );
    expect(figures.lost).toBe(0);
  });
});
