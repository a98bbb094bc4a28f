import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutputQueue } from '../../src/client/output-queue.js';
import { mlpReference, writeModel } from '../fixtures/onnx-models.js';
import { CliHarness, exitOf, isRunning } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { expectMlpAnswer, queueFor, sample } from './e2e-support.js';

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

/** Every file under `dir`, as one text (the append-only file is a directory of parts). */
async function filesText(dir: string): Promise<string> {
  const names = await readdir(dir, { recursive: true }).catch(() => []);
  const texts = await Promise.all(names.map((name) => readFile(join(dir, name), 'latin1').catch(() => '')));
  return texts.join('');
}

async function managedRedisPid(): Promise<number | null> {
  const state = JSON.parse(await readFile(join(cli.home, 'state.json'), 'utf8')) as {
    redis: { pid: number | null }[];
  };
  return state.redis[0]?.pid ?? null;
}

/** SIGKILLs the managed redis-server and waits for the supervisor to start another; its pid. */
async function killAndAwaitRestart(): Promise<{ first: number; second: number }> {
  const first = await managedRedisPid();
  if (first === null) throw new Error('no managed redis-server recorded');
  process.kill(first, 'SIGKILL');
  const second = await waitFor(
    async () => {
      const pid = await managedRedisPid();
      return pid !== null && pid !== first && isRunning(pid) ? pid : undefined;
    },
    { what: 'the managed redis-server to be restarted', timeoutMs: 30_000 },
  );
  return { first, second };
}

interface Listed {
  jobs: { name: string; workers: { ready: number; total: number; remote: number } }[];
}

describe('recovery and scale-out', { timeout: 180_000 }, () => {
  it('restarts a managed Redis that dies; workers reconnect and serve again', async () => {
    const path = await cli.project(
      'r',
      {
        jobName: 'resilient',
        modelParallelism: 1,
        redisUrl: `localhost:${port}`,
        redisMaxmemory: '64mb',
        redisPersistence: false,
      },
      model,
    );
    expect((await cli.run(['start', '-c', path, '--timeout', '120'])).code).toBe(0);
    const { first, second } = await killAndAwaitRestart();
    expect(second).not.toBe(first);
    // Without redisPersistence nothing is kept on disk.
    expect(existsSync(join(cli.home, `redis-${port}`))).toBe(false);
    await waitFor(
      async () => {
        const queue = queueFor(port, 'resilient');
        try {
          await expectMlpAnswer(queue, 5);
          return true;
        } finally {
          await queue.close();
        }
      },
      { what: 'the worker to serve again after the Redis restart', timeoutMs: 60_000, intervalMs: 500 },
    );
  });

  it('by default no accepted entry is lost when the managed Redis is SIGKILLed; shutdown --keep-data keeps them', async () => {
    const path = await cli.project(
      'k',
      { jobName: 'kept', modelParallelism: 1, redisUrl: `localhost:${port}`, redisMaxmemory: '64mb' },
      model,
    );
    expect((await cli.run(['start', '-c', path, '--timeout', '120'])).code).toBe(0);
    const dataDir = join(cli.home, `redis-${port}`);
    const uris = Array.from({ length: 200 }, (_, i) => `fire-and-forget-${i}`);
    const input = queueFor(port, 'kept');
    const output = new OutputQueue({ redisUrl: `redis://127.0.0.1:${port}`, name: 'kept' });
    const allAnswered = (): Promise<boolean> =>
      waitFor(
        async () => {
          const results = await Promise.all(uris.map((uri) => output.query(uri).catch(() => undefined)));
          const missing = results.filter((result) => result?.status !== 'tensors').length;
          return missing === 0 ? true : `${missing} of ${uris.length} without a result`;
        },
        { what: 'every accepted entry to have its result', timeoutMs: 60_000, intervalMs: 500 },
      ).then(() => true);
    try {
      // Written without waiting for answers: only Redis holds them.
      for (const [i, uri] of uris.entries())
        await input.enqueue(uri, { input: { data: sample(i), shape: [1, 4] } });
      const last = uris[uris.length - 1] ?? '';
      // Accepted means in the append-only file within a second (appendfsync everysec).
      await waitFor(async () => ((await filesText(dataDir)).includes(last) ? true : undefined), {
        what: 'the last entry to reach the append-only file',
      });
      await killAndAwaitRestart();
      expect(await allAnswered()).toBe(true);
    } finally {
      await input.close();
      await output.close();
    }
    const kept = await cli.run(['shutdown', '--keep-data']);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain(`its data is kept in ${dataDir}`);
    expect(existsSync(dataDir)).toBe(true);
    // The next start serves what was kept.
    expect((await cli.run(['start', '-c', path, '--timeout', '120'])).code).toBe(0);
    const again = new OutputQueue({ redisUrl: `redis://127.0.0.1:${port}`, name: 'kept' });
    try {
      expect((await again.query(uris[0] ?? '')).status).toBe('tensors');
    } finally {
      await again.close();
    }
    const removed = await cli.run(['shutdown']);
    expect(removed.stdout).toContain('its data is gone');
    expect(existsSync(dataDir)).toBe(false);
  });

  it('with redisPersistence a managed Redis that dies comes back with what it held; shutdown removes the file', async () => {
    const path = await cli.project(
      'd',
      {
        jobName: 'durable',
        modelParallelism: 1,
        redisUrl: `localhost:${port}`,
        redisMaxmemory: '64mb',
        redisPersistence: true,
      },
      model,
    );
    expect((await cli.run(['start', '-c', path, '--timeout', '120'])).code).toBe(0);
    const dataDir = join(cli.home, `redis-${port}`);
    const input = queueFor(port, 'durable');
    const output = new OutputQueue({ redisUrl: `redis://127.0.0.1:${port}`, name: 'durable' });
    try {
      const uri = 'answered-before-the-crash';
      await input.enqueue(uri, { input: { data: sample(4), shape: [1, 4] } });
      await waitFor(async () => ((await output.query(uri)).status === 'tensors' ? true : undefined), {
        what: 'the answer',
      });
      // Written to the append-only file within a second (appendfsync everysec).
      await waitFor(async () => ((await filesText(dataDir)).includes(uri) ? true : undefined), {
        what: 'the answer to reach the append-only file',
      });
      await killAndAwaitRestart();
      const kept = await waitFor(
        async () => {
          const result = await output.query(uri).catch(() => undefined);
          return result?.status === 'tensors' ? result : undefined;
        },
        { what: 'the restarted Redis to hold the answer again', timeoutMs: 30_000, intervalMs: 200 },
      );
      const values = Array.from(kept.outputs['output']?.data as Float32Array);
      mlpReference(sample(4), 1).forEach((value, i) => expect(values[i]).toBeCloseTo(value, 4));
    } finally {
      await input.close();
      await output.close();
    }
    expect((await cli.run(['shutdown'])).code).toBe(0);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('a `cluster-serving worker` started by hand counts as a remote worker of the job', async () => {
    const path = await cli.project(
      's',
      { jobName: 'scaled', modelParallelism: 1, redisUrl: `localhost:${port}`, redisMaxmemory: '64mb' },
      model,
    );
    expect((await cli.run(['start', '-c', path, '--timeout', '120'])).code).toBe(0);
    const extra = cli.spawn(['worker', '-c', path, '--redis', `redis://127.0.0.1:${port}`]);
    const listed = await waitFor(
      async () => {
        const jobs = (JSON.parse((await cli.run(['list', '--json'])).stdout) as Listed).jobs;
        return jobs[0]?.workers.remote === 1 ? jobs[0] : undefined;
      },
      { what: 'the hand-started worker to show as remote', timeoutMs: 60_000 },
    );
    expect(listed.workers).toMatchObject({ ready: 2, total: 2, remote: 1 });
    extra.kill('SIGTERM');
    expect(await exitOf(extra)).toBe(0);
  });

  it('`cluster-serving http` runs a standalone frontend with BigDL flags until SIGTERM', async () => {
    const path = await cli.project(
      'h',
      { jobName: 'plain', modelParallelism: 1, redisUrl: `localhost:${port}`, redisMaxmemory: '64mb' },
      model,
    );
    expect((await cli.run(['start', '-c', path, '--timeout', '120'])).code).toBe(0);
    const httpPort = await freePort();
    const frontend = cli.spawn([
      'http',
      '--interface',
      '127.0.0.1',
      '--port',
      String(httpPort),
      '--redisPort',
      String(port),
      '--redisInputQueue',
      'plain',
    ]);
    const text = await waitFor(
      async () => {
        const response = await fetch(`http://127.0.0.1:${httpPort}/`);
        return response.ok ? response.text() : undefined;
      },
      { what: 'the standalone frontend to answer', timeoutMs: 60_000 },
    );
    expect(text).toContain('welcome to BigDL web serving frontend');
    frontend.kill('SIGTERM');
    expect(await exitOf(frontend)).toBe(0);
    const usage = await cli.run(['http', 'stray']);
    expect(usage.code).toBe(2);
  });
});
