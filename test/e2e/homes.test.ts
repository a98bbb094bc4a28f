import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeModel } from '../fixtures/onnx-models.js';
import { CliHarness, isRunning, portAnswers } from '../helpers/cli.js';
import { freePort, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { expectMlpAnswer, queueFor } from './e2e-support.js';

const harnesses: CliHarness[] = [];
const redises: TestRedis[] = [];
let model: string;

async function harness(): Promise<CliHarness> {
  const cli = await CliHarness.create();
  harnesses.push(cli);
  return cli;
}

beforeEach(async () => {
  const cli = await harness();
  model = await writeModel(join(cli.root, 'models'), 'mlp');
});

afterEach(async () => {
  for (const cli of harnesses.splice(0)) await cli.cleanup();
  for (const redis of redises.splice(0)) await redis.stop();
});

function config(jobName: string, port: number): Record<string, string | number> {
  return { jobName, modelParallelism: 1, redisUrl: `localhost:${port}`, redisMaxmemory: '64mb' };
}

async function answer(port: number, job: string, seed: number): Promise<void> {
  const queue = queueFor(port, job);
  try {
    await expectMlpAnswer(queue, seed);
  } finally {
    await queue.close();
  }
}

describe('homes, Redis ownership and supervisor crashes', { timeout: 180_000 }, () => {
  it('uses a Redis that already runs, does not manage it, and leaves it running after shutdown', async () => {
    const [cli] = harnesses as [CliHarness];
    const external = await startRedis();
    redises.push(external);
    const path = await cli.project('ext', config('ext', external.port), model);
    const started = await cli.run(['start', '-c', path, '--timeout', '120', '--json']);
    expect(started.code, started.stderr).toBe(0);
    expect(JSON.parse(started.stdout)).toMatchObject({ name: 'ext', redisManaged: false });
    expect(started.stderr).toContain('already running, not managed');
    await answer(external.port, 'ext', 4);
    const pids = await cli.recordedPids();
    expect(pids).not.toContain(external.process.pid);
    const down = await cli.run(['shutdown']);
    expect(down.code).toBe(0);
    expect(down.stdout).not.toContain('stopped Redis');
    await cli.assertNothingLeft(pids, []);
    const client = external.client();
    expect(await client.ping()).toBe('PONG');
  });

  it('after kill -9 of the supervisor, shutdown stops what it left (checked by pid and port)', async () => {
    const [cli] = harnesses as [CliHarness];
    const port = await freePort();
    const path = await cli.project('orphan', config('orphan', port), model);
    expect((await cli.run(['start', '-c', path, '--timeout', '120'])).code).toBe(0);
    const pids = await cli.recordedPids();
    expect(pids.length).toBe(3); // supervisor, worker, redis-server
    const identity = JSON.parse(
      await import('node:fs/promises').then((fs) => fs.readFile(join(cli.home, 'supervisor.pid'), 'utf8')),
    ) as { pid: number };
    process.kill(identity.pid, 'SIGKILL');
    await waitFor(() => !isRunning(identity.pid), { what: 'the supervisor to die' });
    expect(await portAnswers(port)).toBe(true);

    const list = await cli.run(['list', '--json']);
    expect(JSON.parse(list.stdout)).toEqual({ jobs: [], dashboard: null });
    expect(list.stderr).toContain('run cluster-serving shutdown');
    const down = await cli.run(['shutdown']);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('the supervisor was not running');
    expect(down.stdout).toContain(`redis-server on port ${port}`);
    await cli.assertNothingLeft(pids, [port]);
    expect((await cli.run(['shutdown'])).stdout).toContain('nothing is running');
  });

  it('shutdown kills a supervisor that hangs (SIGSTOP) and everything it started', async () => {
    const [cli] = harnesses as [CliHarness];
    const port = await freePort();
    const path = await cli.project('hung', config('hung', port), model);
    expect((await cli.run(['start', '-c', path, '--timeout', '120'])).code).toBe(0);
    const pids = await cli.recordedPids();
    const identity = JSON.parse(
      await import('node:fs/promises').then((fs) => fs.readFile(join(cli.home, 'supervisor.pid'), 'utf8')),
    ) as { pid: number };
    process.kill(identity.pid, 'SIGSTOP');
    const down = await cli.run(['shutdown']);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(`unresponsive supervisor (pid ${identity.pid})`);
    await cli.assertNothingLeft(pids, [port]);
  });

  it('a new supervisor after kill -9 stops what the old one left and marks its jobs failed', async () => {
    const [cli] = harnesses as [CliHarness];
    const port = await freePort();
    const path = await cli.project('again', config('again', port), model);
    expect((await cli.run(['start', '-c', path, '--timeout', '120'])).code).toBe(0);
    const old = await cli.recordedPids();
    const identity = JSON.parse(
      await import('node:fs/promises').then((fs) => fs.readFile(join(cli.home, 'supervisor.pid'), 'utf8')),
    ) as { pid: number };
    process.kill(identity.pid, 'SIGKILL');
    await waitFor(() => !isRunning(identity.pid), { what: 'the supervisor to die' });

    const restarted = await cli.run(['start', '-c', path, '--timeout', '120']);
    expect(restarted.code, restarted.stderr).toBe(0);
    await waitFor(() => old.every((pid) => !isRunning(pid)), { what: 'the old processes to be stopped' });
    const listed = JSON.parse((await cli.run(['list', '--all', '--json'])).stdout) as {
      jobs: { name: string; state: string; lastError: string | null }[];
    };
    expect(listed.jobs.map((j) => [j.name, j.state])).toEqual([
      ['again', 'running'],
      ['again', 'failed'],
    ]);
    expect(listed.jobs[1]?.lastError).toBe('the supervisor stopped unexpectedly');
    await answer(port, 'again', 2);
  });

  it('two homes side by side do not interfere', async () => {
    const [first] = harnesses as [CliHarness];
    const second = await harness();
    const portA = await freePort();
    const portB = await freePort();
    const a = await first.project('a', config('same_name', portA), model);
    const b = await second.project('b', config('same_name', portB), model);
    expect((await first.run(['start', '-c', a, '--timeout', '120'])).code).toBe(0);
    expect((await second.run(['start', '-c', b, '--timeout', '120'])).code).toBe(0);
    const pidsA = await first.recordedPids();
    const pidsB = await second.recordedPids();
    expect(pidsA.filter((pid) => pidsB.includes(pid))).toEqual([]);

    expect((await first.run(['shutdown'])).code).toBe(0);
    await first.assertNothingLeft(pidsA, [portA]);
    expect(pidsB.every(isRunning)).toBe(true);
    await answer(portB, 'same_name', 9);
    const listed = JSON.parse((await second.run(['list', '--json'])).stdout) as { jobs: { state: string }[] };
    expect(listed.jobs.map((j) => j.state)).toEqual(['running']);
  });

  it('starts the HTTP frontend of a config with an http: section and refuses a port in use', async () => {
    const [cli] = harnesses as [CliHarness];
    const port = await freePort();
    const httpPort = await freePort();
    const path = await cli.project(
      'web',
      config('web', port),
      model,
      `http:\n  interface: 127.0.0.1\n  port: ${httpPort}\n`,
    );
    const started = await cli.run(['start', '-c', path, '--timeout', '120']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toContain(`http://127.0.0.1:${httpPort}`);
    const welcome = await fetch(`http://127.0.0.1:${httpPort}/`);
    expect(await welcome.text()).toContain('welcome to BigDL web serving frontend');
    const predicted = await fetch(`http://127.0.0.1:${httpPort}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [{ input: [1, 2, 3, 4] }] }),
    });
    expect(predicted.status).toBe(200);
    const listed = JSON.parse((await cli.run(['list', '--json'])).stdout) as {
      jobs: { http: string | null }[];
    };
    expect(listed.jobs[0]?.http).toBe(`http://127.0.0.1:${httpPort}`);

    const clash = await cli.project(
      'web2',
      config('web2', port),
      model,
      `http:\n  interface: 127.0.0.1\n  port: ${httpPort}\n`,
    );
    const refused = await cli.run(['start', '-c', clash, '--timeout', '120']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('CS_ERR_PORT_IN_USE');
    expect(refused.stderr).toContain(String(httpPort));

    const pids = await cli.recordedPids();
    expect((await cli.run(['shutdown'])).code).toBe(0);
    await cli.assertNothingLeft(pids, [port, httpPort]);
  });
});
