import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeModel } from '../fixtures/onnx-models.js';
import { CliHarness } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { expectMlpAnswer, queueFor } from './e2e-support.js';

let cli: CliHarness;
let redisPort: number;

beforeEach(async () => {
  cli = await CliHarness.create();
  redisPort = await freePort();
});

afterEach(async () => {
  await cli.cleanup();
});

interface Jobs {
  jobs: { id: string; name: string; state: string; processed: number | null }[];
}

describe('the supervisor dashboard', { timeout: 120_000 }, () => {
  it('shows the jobs `list` shows, live, and goes away with the supervisor', async () => {
    const dashboardPort = await freePort();
    const env = { CLUSTER_SERVING_DASHBOARD: `127.0.0.1:${dashboardPort}` };
    const url = `http://127.0.0.1:${dashboardPort}`;
    const model = await writeModel(join(cli.root, 'models'), 'mlp');
    const config = await cli.project(
      'p',
      { jobName: 'watched', modelParallelism: 1, redisUrl: `localhost:${redisPort}`, redisMaxmemory: '64mb' },
      model,
    );
    const started = await cli.run(['start', '-c', config, '--timeout', '120'], { env });
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toContain(`dashboard: ${url}`);

    const queue = queueFor(redisPort, 'watched');
    try {
      await expectMlpAnswer(queue, 3);
    } finally {
      await queue.close();
    }
    // The counters reach Redis with the batch's answer; the page reads them on every load.
    const page = await waitFor(
      async () => {
        const text = await (await fetch(`${url}/`)).text();
        return /<td>1\/1<\/td><td>0<\/td><td>1<\/td>/.test(text) ? text : undefined;
      },
      { what: 'the dashboard to count the answered request' },
    );
    expect(page).toContain('<b>watched</b>');
    expect(page).toContain('>running<');

    const api = (await (await fetch(`${url}/api/jobs`)).json()) as Jobs;
    const listed = JSON.parse((await cli.run(['list', '--all', '--json'])).stdout) as Jobs;
    expect(api.jobs.map(({ id, name, state }) => ({ id, name, state }))).toEqual(
      listed.jobs.map(({ id, name, state }) => ({ id, name, state })),
    );
    expect(api.jobs[0]?.processed).toBe(1);

    expect((await cli.run(['shutdown'])).code).toBe(0);
    await expect(fetch(`${url}/`)).rejects.toThrow();
  });

  it('refuses a dashboard address that is not one, before anything starts', async () => {
    const model = await writeModel(join(cli.root, 'models'), 'mlp');
    const config = await cli.project('p', { jobName: 'nowhere', redisUrl: `localhost:${redisPort}` }, model);
    const result = await cli.run(['start', '-c', config], {
      env: { CLUSTER_SERVING_DASHBOARD: 'everywhere' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CLUSTER_SERVING_DASHBOARD=everywhere is not an address');
    expect(cli.processesOfHome()).toEqual([]);
  });

  it('runs without a dashboard when its port is taken, and says so in the supervisor log', async () => {
    const model = await writeModel(join(cli.root, 'models'), 'mlp');
    const config = await cli.project(
      'p',
      { jobName: 'crowded', modelParallelism: 1, redisUrl: `localhost:${redisPort}`, redisMaxmemory: '64mb' },
      model,
    );
    const taken = createServer();
    const takenPort = await freePort();
    await new Promise<void>((done) => taken.listen(takenPort, '127.0.0.1', done));
    try {
      const env = { CLUSTER_SERVING_DASHBOARD: `127.0.0.1:${takenPort}` };
      const started = await cli.run(['start', '-c', config, '--timeout', '120'], { env });
      expect(started.code, started.stderr).toBe(0);
      // start says there is none, and where to read why.
      expect(started.stdout).toMatch(/^ {2}dashboard: none \(.*logs\/supervisor\.log\)$/m);
      const log = await readFile(join(cli.home, 'logs', 'supervisor.log'), 'utf8');
      expect(log).toContain('dashboard port already in use');
    } finally {
      await new Promise((done) => taken.close(done));
    }
  });
});
