import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InputQueue } from '../../src/client/input-queue.js';
import { writeModel } from '../fixtures/onnx-models.js';
import { CliHarness } from '../helpers/cli.js';
import { TestNetwork } from '../helpers/netns.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { expectMlpAnswer } from './e2e-support.js';

/** Two test hosts: `ha` runs the managed Redis, `hb` only workers that join it. */
let network: TestNetwork;
const harnesses: CliHarness[] = [];

beforeAll(() => {
  network = TestNetwork.create(['ha', 'hb']);
});

afterAll(() => {
  network.destroy();
});

afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((cli) => cli.cleanup()));
});

async function hostCli(host: string): Promise<CliHarness> {
  const cli = await CliHarness.create({ wrap: network.wrap(host) });
  harnesses.push(cli);
  return cli;
}

interface Listed {
  jobs: {
    name: string;
    workers: { ready: number; remote: number; hosts: { host: string; workers: number }[] };
  }[];
}

async function listed(cli: CliHarness, host: string): Promise<Listed['jobs']> {
  const result = await cli.run(['list', '--json'], { env: { CLUSTER_SERVING_HOSTNAME: host } });
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as Listed).jobs;
}

interface TwoHosts {
  readonly a: CliHarness;
  readonly b: CliHarness;
  readonly redisUrl: string;
  readonly pathB: string;
}

/** The job `shared` on both hosts, the Redis on ha's address with a password. */
async function startOnBoth(): Promise<TwoHosts> {
  const a = await hostCli('ha');
  const b = await hostCli('hb');
  const port = await freePort();
  const redisUrl = `redis://:hostpass@${network.host('ha').address}:${port}`;
  const model = await writeModel(join(a.root, 'models'), 'mlp');
  const config = { jobName: 'shared', modelParallelism: 1, redisUrl, redisMaxmemory: '64mb' };
  const pathA = await a.project('p', config, model);
  const pathB = await b.project('p', config, model);
  const startA = await a.run(['start', '-c', pathA, '--timeout', '120'], {
    env: { CLUSTER_SERVING_HOSTNAME: 'ha' },
  });
  expect(startA.code, startA.stderr).toBe(0);
  expect(startA.stdout).toContain('started by cluster-serving');
  const startB = await b.run(['start', '-c', pathB, '--timeout', '120'], {
    env: { CLUSTER_SERVING_HOSTNAME: 'hb' },
  });
  expect(startB.code, startB.stderr).toBe(0);
  expect(startB.stdout).not.toContain('started by cluster-serving');
  return { a, b, redisUrl, pathB };
}

async function hostsListed(cli: CliHarness, host: string, count: number): Promise<Listed['jobs']> {
  return waitFor(
    async () => {
      const seen = await listed(cli, host);
      return seen[0]?.workers.hosts.length === count ? seen : undefined;
    },
    { what: `list on ${host} to show ${count} host(s)` },
  );
}

describe('one job served from several hosts', { timeout: 240_000 }, () => {
  it('a second host joins the job through the first host Redis, and list shows workers per host', async () => {
    const { a, b, redisUrl } = await startOnBoth();
    for (const [cli, host] of [
      [a, 'ha'],
      [b, 'hb'],
    ] as const) {
      const jobs = await hostsListed(cli, host, 2);
      expect(jobs[0]?.workers.hosts).toEqual([
        { host: 'ha', workers: 1 },
        { host: 'hb', workers: 1 },
      ]);
      expect(jobs[0]?.workers.remote).toBe(1);
    }

    // The test's own namespace is a third host: it reaches the Redis on ha's address.
    const queue = new InputQueue({ redisUrl, name: 'shared' });
    try {
      for (let seed = 0; seed < 4; seed += 1) await expectMlpAnswer(queue, seed);
    } finally {
      await queue.close();
    }
  });

  it('refuses to start a Redis other hosts reach when redisUrl has no password', async () => {
    const a = await hostCli('ha');
    const port = await freePort();
    const model = await writeModel(join(a.root, 'models'), 'mlp');
    const path = await a.project(
      'p',
      { jobName: 'open', modelParallelism: 1, redisUrl: `${network.host('ha').address}:${port}` },
      model,
    );
    const result = await a.run(['start', '-c', path, '--timeout', '60']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CS_ERR_CONFIG_REDIS_PASSWORD');
    expect(result.stderr).toContain(`redis://:<password>@${network.host('ha').address}:${port}`);
    const jobs = await listed(a, 'ha');
    expect(jobs).toEqual([]);
  });

  it('stop without --all-hosts ends only this host; cancel --all-hosts ends the job on every host', async () => {
    const { a, b, pathB } = await startOnBoth();
    await hostsListed(a, 'ha', 2);

    const stopB = await b.run(['stop', 'shared'], { env: { CLUSTER_SERVING_HOSTNAME: 'hb' } });
    expect(stopB.code, stopB.stderr).toBe(0);
    const afterStop = await hostsListed(a, 'ha', 1);
    expect(afterStop[0]?.workers.hosts).toEqual([{ host: 'ha', workers: 1 }]);

    const again = await b.run(['start', '-c', pathB, '--timeout', '120'], {
      env: { CLUSTER_SERVING_HOSTNAME: 'hb' },
    });
    expect(again.code, again.stderr).toBe(0);
    await hostsListed(a, 'ha', 2);

    const cancel = await a.run(['cancel', 'shared', '--all-hosts', '--json']);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(JSON.parse(cancel.stdout)).toMatchObject({ otherHosts: 1, stillRunningOn: [] });
    for (const [cli, host] of [
      [a, 'ha'],
      [b, 'hb'],
    ] as const) {
      expect(await listed(cli, host)).toEqual([]);
    }
  });
});
