import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InputQueue } from '../../src/client/input-queue.js';
import { writeModel } from '../fixtures/onnx-models.js';
import { TestNetwork } from '../helpers/netns.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { expectMlpAnswer } from './e2e-support.js';
import { hostsListed, listed, TwoHostJob } from './hosts-support.js';

let network: TestNetwork;
let hosts: TwoHostJob;

beforeAll(() => {
  network = TestNetwork.create(['ha', 'hb']);
  hosts = new TwoHostJob(network);
});

afterAll(() => {
  network.destroy();
});

afterEach(async () => {
  await hosts.cleanup();
});

describe('one job served from several hosts', { timeout: 240_000 }, () => {
  it('a second host joins the job through the first host Redis, and list shows workers per host', async () => {
    const { a, b, redisUrl } = await hosts.start();
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
    const a = await hosts.hostCli('ha');
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
    const { a, b, pathB } = await hosts.start();
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

  it("the dashboard's Cancel ends a job that runs on several hosts on every host", async () => {
    const dashboard = `${network.host('ha').address}:${await freePort()}`;
    const { a, b } = await hosts.start({}, { CLUSTER_SERVING_DASHBOARD: dashboard });
    const [job] = await hostsListed(a, 'ha', 2);
    const id = (job as unknown as { id: string }).id;
    // The test's namespace reaches ha's address: read the page's token as a browser would.
    const page = await (await fetch(`http://${dashboard}/jobs/${id}`)).text();
    const token = /name="token" value="([^"]+)"/.exec(page)?.[1];
    expect(token, 'the job page carries the action token').toBeDefined();
    const answer = await fetch(`http://${dashboard}/jobs/${id}/cancel`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: `http://${dashboard}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${encodeURIComponent(token ?? '')}`,
    });
    expect(answer.status).toBe(303);
    for (const [cli, host] of [
      [a, 'ha'],
      [b, 'hb'],
    ] as const) {
      await waitFor(async () => (await listed(cli, host)).length === 0, {
        what: `the job to be gone from list on ${host}`,
        timeoutMs: 30_000,
      });
    }
  });
});
