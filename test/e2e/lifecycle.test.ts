import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeModel } from '../fixtures/onnx-models.js';
import { CliHarness, exitOf, isRunning } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { expectMlpAnswer, queueFor } from './e2e-support.js';
import { SERVING_NODE_FLAGS } from '../../src/supervisor/node-flags.js';
import { allowedCpus } from '../../src/placement/affinity.js';
import { cpusByThread, planHere } from '../helpers/cpu-affinity.js';

let cli: CliHarness;
let port: number;
let model: string;

beforeEach(async () => {
  cli = await CliHarness.create();
  port = await freePort();
  model = await writeModel(join(cli.root, 'models'), 'mlp');
});

afterEach(async () => {
  await cli.cleanup();
});

interface ListedJson {
  jobs: {
    id: string;
    name: string;
    state: string;
    restarts: number;
    workers: { ready: number; total: number };
    redisManaged: boolean;
    lastError: string | null;
    processed: number | null;
  }[];
}

async function list(all = false): Promise<ListedJson> {
  const result = await cli.run(['list', '--json', ...(all ? ['--all'] : [])]);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ListedJson;
}

describe('cluster-serving end to end', { timeout: 180_000 }, () => {
  it('start → list → predictions → shutdown leaves no process or port', async () => {
    const config = await cli.project(
      'project',
      {
        jobName: 'serving_stream',
        modelParallelism: 2,
        redisUrl: `localhost:${port}`,
        redisMaxmemory: '64mb',
      },
      model,
    );
    const started = await cli.run(['--timeout', '120'], {
      bin: 'cluster-serving-start.js',
      cwd: join(cli.root, 'project'),
    });
    expect(started.stderr).toContain('ready');
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toContain('job serving_stream');
    expect(started.stdout).toContain(`redis://localhost:${port} (started by cluster-serving)`);
    expect(config).toContain('project');

    const listed = await list();
    expect(listed.jobs).toHaveLength(1);
    expect(listed.jobs[0]).toMatchObject({
      name: 'serving_stream',
      state: 'running',
      redisManaged: true,
      workers: { ready: 2, total: 2 },
    });

    const queue = queueFor(port, 'serving_stream');
    try {
      for (let seed = 1; seed <= 5; seed += 1) await expectMlpAnswer(queue, seed);
    } finally {
      await queue.close();
    }
    const after = await list();
    expect(after.jobs[0]?.processed).toBe(5);

    const table = await cli.run(['list']);
    expect(table.stdout).toMatch(/serving_stream\s+running\s+2\/2/);

    const pids = await cli.recordedPids();
    expect(pids.length).toBe(4); // supervisor, two workers, redis-server
    const down = await cli.run([], { bin: 'cluster-serving-shutdown.js' });
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('stopped serving_stream');
    await cli.assertNothingLeft(pids, [port]);

    // Logs outlive the job and the supervisor. A rotated copy holds older lines: not shown.
    const [current] = (await readdir(join(cli.home, 'logs'))).filter((n) => n.endsWith('.worker-1.log'));
    await writeFile(join(cli.home, 'logs', `${current ?? 'none'}.1`), 'a line from the rotated copy\n');
    const logs = await cli.run(['logs', 'serving_stream']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/worker-1 +INFO/);
    expect(logs.stdout).toMatch(/worker-2 +INFO/);
    expect(logs.stdout).not.toContain('rotated copy');
    const unknown = await cli.run(['logs', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('CS_ERR_JOB_NOT_FOUND');

    const again = await cli.run(['shutdown']);
    expect(again).toMatchObject({ code: 0 });
    expect(again.stdout).toContain('nothing is running');
  });

  it('restarts a worker killed with SIGKILL; list shows the restart and requests are still answered', async () => {
    await cli.project(
      'p',
      { jobName: 'phoenix', modelParallelism: 1, redisUrl: `localhost:${port}`, redisMaxmemory: '64mb' },
      model,
    );
    const started = await cli.run([
      'start',
      '-c',
      join(cli.root, 'p', 'config.yaml'),
      '--timeout',
      '120',
      '--json',
    ]);
    expect(started.code, started.stderr).toBe(0);
    const job = JSON.parse(started.stdout) as { id: string };
    const before = await cli.recordedPids();
    const state = JSON.parse(
      await import('node:fs/promises').then((fs) => fs.readFile(join(cli.home, 'state.json'), 'utf8')),
    ) as {
      jobs: { id: string; processes: { pid: number }[] }[];
      redis: { pid: number }[];
    };
    const workerPid = state.jobs.find((j) => j.id === job.id)?.processes[0]?.pid ?? 0;
    expect(isRunning(workerPid)).toBe(true);
    // One worker leaves a CPU spare (where there are two or more): the Redis started for the job
    // keeps to it (cpuAffinity auto). The test model's runs are shorter than a hand-off to an
    // inference thread, so the worker runs it on its main thread, on every CPU.
    const spare = planHere(1)?.plumbing ?? allowedCpus();
    expect((await cpusByThread(workerPid)).get(workerPid)).toEqual(allowedCpus());
    const redisPid = state.redis[0]?.pid ?? 0;
    for (const cpus of (await cpusByThread(redisPid)).values()) expect(cpus).toEqual(spare);
    // Workers run with the serving flags (a larger first old generation, see node-flags.ts).
    const command = await import('node:fs/promises').then((fs) =>
      fs.readFile(`/proc/${workerPid}/cmdline`, 'utf8'),
    );
    expect(command.split('\0')).toEqual(expect.arrayContaining([...SERVING_NODE_FLAGS]));
    const follow = cli.spawn(['logs', 'phoenix', '--follow']);
    let followed = '';
    follow.stdout?.setEncoding('utf8').on('data', (chunk: string) => (followed += chunk));
    await waitFor(() => followed.includes('worker ready'), {
      what: 'logs --follow to print the first start',
    });
    process.kill(workerPid, 'SIGKILL');

    const restarted = await waitFor(
      async () => {
        const jobs = (await list()).jobs;
        const j = jobs.find((x) => x.id === job.id);
        return j !== undefined && j.restarts >= 1 && j.workers.ready === 1 ? j : undefined;
      },
      { what: 'the killed worker to be restarted', timeoutMs: 60_000 },
    );
    expect(restarted.state).toBe('running');
    const table = await cli.run(['list']);
    // HOSTS counts live heartbeats: the killed worker's last beat counts for up to three intervals.
    expect(table.stdout).toMatch(/phoenix\s+running\s+1\/1\s+\S+:[12]\s+1\s/);
    const queue = queueFor(port, 'phoenix');
    try {
      await expectMlpAnswer(queue, 7);
    } finally {
      await queue.close();
    }
    expect(before).toContain(workerPid);
    // --follow printed the restarted worker's lines as they were written.
    await waitFor(() => followed.split('worker ready').length === 3, {
      what: 'logs --follow to print the restart',
    });
    follow.kill('SIGINT');
    expect(await exitOf(follow)).toBe(0);
  });

  it('start --foreground serves until SIGINT, then stops everything', async () => {
    await cli.project(
      'fg',
      { jobName: 'fg', modelParallelism: 1, redisUrl: `localhost:${port}`, redisMaxmemory: '64mb' },
      model,
    );
    const child = cli.spawn(['start', '--foreground', '--timeout', '120'], { cwd: join(cli.root, 'fg') });
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    await waitFor(() => stdout.includes('is serving'), {
      what: 'the foreground job to serve',
      timeoutMs: 120_000,
    });
    const listed = await list();
    expect(listed.jobs.map((j) => [j.name, j.state])).toEqual([['fg', 'running']]);
    const queue = queueFor(port, 'fg');
    try {
      await expectMlpAnswer(queue, 3);
    } finally {
      await queue.close();
    }
    const pids = [...(await cli.recordedPids())].filter((pid) => pid !== child.pid);
    expect(pids.length).toBe(2); // worker and redis-server
    child.kill('SIGINT');
    expect(await exitOf(child)).toBe(0);
    await cli.assertNothingLeft([...pids, child.pid ?? 0], [port]);
  });
});
