import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InputQueue } from '../../src/client/input-queue.js';
import { CONSUMER_GROUP, keys } from '../../src/redis/keys.js';
import { AnswerCounter } from '../helpers/answer-counter.js';
import { isRunning } from '../helpers/cli.js';
import { printFigure } from '../helpers/figures.js';
import { TestNetwork } from '../helpers/netns.js';
import { SteadyLoad } from '../helpers/steady-load.js';
import { waitFor } from '../helpers/wait-for.js';
import { expectMlpAnswer } from './e2e-support.js';
import { hostsListed, TwoHostJob } from './hosts-support.js';

let network: TestNetwork;
let hosts: TwoHostJob;
const closers: (() => Promise<unknown> | void)[] = [];

beforeAll(() => {
  network = TestNetwork.create(['ha', 'hb']);
  hosts = new TwoHostJob(network);
});

afterAll(async () => {
  await hosts.cleanup();
  network.destroy();
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await Promise.resolve(close()).catch(() => undefined);
  await hosts.cleanup();
});

/** Entries pending for consumers of host `host` (consumer names start with the host name). */
async function pendingOf(admin: Redis, host: string): Promise<number> {
  const summary = (await admin.xpending('shared', CONSUMER_GROUP)) as [
    number,
    unknown,
    unknown,
    [string, string][] | null,
  ];
  return (summary[3] ?? [])
    .filter(([consumer]) => consumer.startsWith(`${host}-`))
    .reduce((sum, [, count]) => sum + Number(count), 0);
}

interface Setup {
  readonly admin: Redis;
  readonly load: SteadyLoad;
  readonly answers: AnswerCounter;
  readonly b: Awaited<ReturnType<TwoHostJob['start']>>['b'];
}

/** Both hosts serve `shared`; a steady load from the test's namespace; B holds entries. */
async function loadThroughTwoHosts(): Promise<Setup> {
  const { a, b, redisUrl } = await hosts.start({ maxBatchSize: 4, maxBatchDelayMs: 50 });
  await hostsListed(a, 'ha', 2);
  const admin = new Redis(redisUrl);
  closers.push(() => admin.disconnect());
  const answers = await AnswerCounter.start(redisUrl);
  closers.push(() => answers.stop());
  const queue = new InputQueue({ redisUrl, name: 'shared' });
  closers.push(() => queue.close());
  const load = new SteadyLoad((seq) => expectMlpAnswer(queue, seq % 97), 24);
  closers.push(() => load.stop());
  load.start();
  await waitFor(async () => load.answered >= 50 && (await pendingOf(admin, 'hb')) > 0, {
    what: 'host hb to hold entries under load',
    intervalMs: 2,
    timeoutMs: 60_000,
  });
  return { admin, load, answers, b };
}

async function expectEveryRequestAnsweredOnce(setup: Setup, after: number): Promise<number> {
  await waitFor(() => setup.load.answeredSince(after) >= 40, {
    what: 'the load to be served after the host came back or was lost',
    timeoutMs: 60_000,
  });
  const outcomes = await setup.load.stop();
  expect(outcomes.filter((o) => !o.ok)).toEqual([]);
  expect(setup.answers.doubled()).toEqual([]);
  await waitFor(() => setup.answers.answered >= outcomes.length, { what: 'every answer seen' });
  expect(setup.answers.answered).toBe(outcomes.length);
  return outcomes.length;
}

describe('losing a host', { timeout: 300_000 }, () => {
  it('SIGKILL every process of one host: the other host claims its entries, each request answered once', async () => {
    const setup = await loadThroughTwoHosts();
    const pids = [...new Set([...(await setup.b.recordedPids()), ...setup.b.processesOfHome()])];
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    const held = await pendingOf(setup.admin, 'hb');
    await waitFor(() => pids.every((pid) => !isRunning(pid)), { what: 'host hb processes to die' });
    await waitFor(async () => (await pendingOf(setup.admin, 'hb')) === 0, {
      what: 'host ha to claim what hb held',
      timeoutMs: 60_000,
    });
    const claimMs = Date.now() - killedAt;
    const requests = await expectEveryRequestAnsweredOnce(setup, Date.now());
    printFigure(
      `host lost (SIGKILL): hb held ${held} entries; ha claimed them ${claimMs} ms after the kill; ${requests} requests, each answered once`,
    );
    expect(held).toBeGreaterThan(0);
  });

  it('a host cut off for 10 s: its entries are claimed, and its workers rejoin by themselves', async () => {
    const setup = await loadThroughTwoHosts();
    closers.push(() => network.linkUp('hb'));
    network.linkDown('hb');
    const cutAt = Date.now();
    const held = await pendingOf(setup.admin, 'hb');
    await waitFor(async () => (await pendingOf(setup.admin, 'hb')) === 0, {
      what: 'host ha to claim what the cut-off hb held',
      timeoutMs: 60_000,
    });
    const claimMs = Date.now() - cutAt;
    // The cut lasts 10 s whatever the claim took: the heartbeats' expiry is part of what is tested.
    await waitFor(() => Date.now() - cutAt >= 10_000, {
      what: '10 s of cut',
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    network.linkUp('hb');
    const upAt = Date.now();
    const admin = setup.admin;
    await waitFor(
      async () => {
        const beats = await admin.zrangebyscore(keys.workers('shared'), upAt, '+inf');
        return beats.some((consumer) => consumer.startsWith('hb-'));
      },
      { what: 'host hb workers to heartbeat again', timeoutMs: 60_000 },
    );
    const rejoinMs = Date.now() - upAt;
    const requests = await expectEveryRequestAnsweredOnce(setup, Date.now());
    printFigure(
      `host cut off 10 s: hb held ${held} entries; ha claimed them ${claimMs} ms after the cut; hb's workers beat again ${rejoinMs} ms after the link came back; ${requests} requests, each answered once`,
    );
  });
});
