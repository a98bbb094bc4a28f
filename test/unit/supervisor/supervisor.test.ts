import { createServer, type Server } from 'node:net';
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CsError } from '../../../src/errors/registry.js';
import { jobResultSchema, jobsResultSchema, type Progress } from '../../../src/supervisor/protocol.js';
import { probeAddress } from '../../../src/redis/server.js';
import { readState } from '../../../src/supervisor/state-store.js';
import { waitFor } from '../../helpers/wait-for.js';
import { deadPids, startSupervisorFixture, type SupervisorFixture } from './supervisor-harness.js';

let fixture: SupervisorFixture;

beforeEach(async () => {
  process.env['FAKE_WORKER_MODE'] = 'ready';
  fixture = await startSupervisorFixture();
});

afterEach(async () => {
  await fixture.close();
  delete process.env['FAKE_WORKER_MODE'];
});

async function start(jobName: string, timeoutMs = 20_000, progress: Progress[] = []) {
  const configPath = await fixture.writeConfig(jobName);
  return jobResultSchema.parse(await fixture.send({ type: 'start', configPath, timeoutMs }, progress)).job;
}

async function rejection(promise: Promise<unknown>): Promise<CsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof CsError)) throw new Error(`expected a CsError, got ${String(error)}`);
  return error;
}

async function workerPids(): Promise<number[]> {
  const state = await readState(fixture.paths.stateFile);
  return (state?.jobs ?? []).flatMap((job) => job.processes.flatMap((p) => (p.pid === null ? [] : [p.pid])));
}

describe('supervisor', () => {
  it('starts managed Redis and the workers, reports progress, lists, refuses a duplicate, stops, shuts down', async () => {
    const progress: Progress[] = [];
    const job = await start('alpha', 20_000, progress);
    expect(job).toMatchObject({ name: 'alpha', state: 'running', redisManaged: true });
    expect(job.workers.localReady).toBe(2);
    expect(new Set(progress.map((p) => p.step))).toEqual(new Set(['redis', 'loading', 'warming', 'ready']));
    expect(await probeAddress('127.0.0.1', fixture.redisPort, 1000)).toEqual({
      kind: 'redis',
      needsAuth: false,
    });

    const pids = await workerPids();
    expect(pids).toHaveLength(2);
    const list = jobsResultSchema.parse(await fixture.send({ type: 'list', all: false })).jobs;
    expect(list.map((j) => [j.name, j.state, j.workers.ready, j.workers.total])).toEqual([
      ['alpha', 'running', 2, 2],
    ]);

    const duplicate = await rejection(start('alpha'));
    expect(duplicate.code).toBe('CS_ERR_JOB_RUNNING');
    expect(duplicate.message).toContain('cluster-serving stop alpha');

    const stopped = jobResultSchema.parse(
      await fixture.send({ type: 'stop', target: job.id, drainTimeoutMs: 5000 }),
    ).job;
    expect(stopped.state).toBe('stopped');
    expect(deadPids(pids)).toBe(true);
    const log = await readFile(`${fixture.paths.logsDir}/alpha-${job.id}.worker-1.log`, 'utf8');
    expect(log).toContain('"msg":"drain"');

    const all = jobsResultSchema.parse(await fixture.send({ type: 'list', all: true })).jobs;
    expect(all.map((j) => [j.id, j.state])).toEqual([[job.id, 'stopped']]);

    const result = await fixture.send({ type: 'shutdown' });
    expect(result).toEqual({ jobs: [], redis: [`redis://localhost:${fixture.redisPort}`], keptData: [] });
    expect(await probeAddress('127.0.0.1', fixture.redisPort, 1000)).toEqual({ kind: 'absent' });
  });

  it('fails start with the worker fatal reason and leaves nothing running', async () => {
    process.env['FAKE_WORKER_MODE'] = 'fatal';
    const error = await rejection(start('broken'));
    expect(error.code).toBe('CS_ERR_MODEL_LOAD');
    expect(error.message).toContain('protobuf parsing failed');
    await waitFor(async () => deadPids(await workerPids()), { what: 'worker processes to be gone' });
    // The Redis this attempt started is stopped with it.
    expect(await probeAddress('127.0.0.1', fixture.redisPort, 1000)).toEqual({ kind: 'absent' });
    const all = jobsResultSchema.parse(await fixture.send({ type: 'list', all: true })).jobs;
    expect(all[0]).toMatchObject({ name: 'broken', state: 'failed' });
    expect(all[0]?.lastError).toContain('protobuf parsing failed');
    // A failed job does not block the name.
    process.env['FAKE_WORKER_MODE'] = 'ready';
    expect((await start('broken')).state).toBe('running');
  });

  it('gives up on workers that fail the same way on every try and marks the job failed', async () => {
    process.env['FAKE_WORKER_MODE'] = 'crash-loop';
    const error = await rejection(start('loop'));
    expect(error.code).toBe('CS_ERR_JOB_FAILED');
    expect(error.message).toMatch(/every try failed the same way \(3 in a row\) and no worker is ready/);
    expect(error.message).toContain('fake worker crashed on purpose');
  });

  it('times out a job that never becomes ready and stops its workers', async () => {
    process.env['FAKE_WORKER_MODE'] = 'never-ready';
    const error = await rejection(start('slowpoke', 1500));
    expect(error.code).toBe('CS_ERR_START_TIMEOUT');
    expect(error.message).toContain('worker 1 loading');
    expect(deadPids(await workerPids())).toBe(true);
  });

  it('a timeout that expires while workers are being launched fails cleanly', async () => {
    const error = await rejection(start('instant', 1));
    expect(error.code).toBe('CS_ERR_START_TIMEOUT');
    await waitFor(async () => deadPids(await workerPids()), { what: 'worker processes to be gone' });
    // The supervisor still serves.
    expect((await start('after')).state).toBe('running');
  });

  it('restarts a worker killed with SIGKILL and counts the restart', async () => {
    const job = await start('phoenix');
    const [first] = await workerPids();
    if (first === undefined) throw new Error('no worker pid recorded');
    process.kill(first, 'SIGKILL');
    const listed = await waitFor(
      async () => {
        const jobs = jobsResultSchema.parse(await fixture.send({ type: 'list', all: false })).jobs;
        const j = jobs.find((x) => x.id === job.id);
        return j !== undefined && j.restarts === 1 && j.workers.localReady === 2 ? j : undefined;
      },
      { what: 'the worker to be restarted and ready' },
    );
    expect(listed.state).toBe('running');
    const pids = await workerPids();
    expect(pids).not.toContain(first);
    expect(pids).toHaveLength(2);
  });

  it('keeps restarting a managed Redis that dies again and again; list shows its restarts', async () => {
    const job = await start('steadfast');
    const kills = 12;
    for (let i = 1; i <= kills; i += 1) {
      const state = await readState(fixture.paths.stateFile);
      const pid = state?.redis[0]?.pid;
      if (pid === undefined || pid === null) throw new Error('no managed redis-server recorded');
      process.kill(pid, 'SIGKILL');
      await waitFor(
        async () => {
          const now = (await readState(fixture.paths.stateFile))?.redis[0];
          return now !== undefined && now.pid !== pid && now.restarts === i && now.state === 'running';
        },
        { what: `the managed redis-server to be restarted a ${i}th time` },
      );
    }
    const listed = await waitFor(
      async () => {
        const jobs = jobsResultSchema.parse(await fixture.send({ type: 'list', all: false })).jobs;
        const j = jobs.find((x) => x.id === job.id);
        return j?.redisState === 'up' ? j : undefined;
      },
      { what: 'list to show the managed Redis up again' },
    );
    expect(listed).toMatchObject({ redisManaged: true, redisRestarts: kills });
    expect(await probeAddress('127.0.0.1', fixture.redisPort, 1000)).toEqual({
      kind: 'redis',
      needsAuth: false,
    });
  });

  it('cancel kills a worker that ignores SIGTERM', async () => {
    process.env['FAKE_WORKER_MODE'] = 'stubborn';
    const job = await start('mule');
    const pids = await workerPids();
    const cancelled = jobResultSchema.parse(await fixture.send({ type: 'cancel', target: 'mule' })).job;
    expect(cancelled).toMatchObject({ id: job.id, state: 'cancelled' });
    expect(deadPids(pids)).toBe(true);
  });

  it('starts a managed Redis with the password of redisUrl, and never shows the password', async () => {
    const configPath = await fixture.writeConfig('guarded', {
      redisUrl: `redis://:s3cret@localhost:${fixture.redisPort}`,
    });
    const job = jobResultSchema.parse(
      await fixture.send({ type: 'start', configPath, timeoutMs: 20_000 }),
    ).job;
    expect(await probeAddress('127.0.0.1', fixture.redisPort, 1000)).toEqual({
      kind: 'redis',
      needsAuth: true,
    });
    expect(job.redis).not.toContain('s3cret');
    expect(job.processed).toBe(0);
  });

  it('answers unknown jobs and malformed requests with errors', async () => {
    const missing = await rejection(fixture.send({ type: 'cancel', target: 'nope' }));
    expect(missing.code).toBe('CS_ERR_JOB_NOT_FOUND');
    const invalid = await rejection(fixture.send({ type: 'stop', target: '', drainTimeoutMs: 1 }));
    expect(invalid.code).toBe('CS_ERR_CLI_USAGE');
  });

  it('refuses a Redis port held by something that is not Redis', async () => {
    const squatter: Server = createServer((socket) => {
      socket.resume();
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((resolve) => squatter.listen(fixture.redisPort, '127.0.0.1', resolve));
    try {
      const error = await rejection(start('squat'));
      expect(error.code).toBe('CS_ERR_PORT_IN_USE');
      expect(error.message).toContain(`port ${fixture.redisPort}`);
      expect(await workerPids()).toEqual([]);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('says how to install Redis when redis-server is not on PATH', async () => {
    const path = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      const error = await rejection(start('nobin'));
      expect(error.code).toBe('CS_ERR_REDIS_NOT_INSTALLED');
      expect(error.message).toContain('apt-get install redis-server');
      expect(error.message).toContain('brew install redis');
    } finally {
      process.env['PATH'] = path;
    }
  });
});

describe('a job that cannot serve at all', () => {
  it('fails once no worker has been ready for the bound, and says why', async () => {
    await fixture.close();
    fixture = await startSupervisorFixture({ noReadyFailMs: 800 });
    process.env['FAKE_WORKER_MODE'] = 'ready-once';
    process.env['FAKE_WORKER_MARKER'] = `${fixture.dir}/ready-once`;
    try {
      const configPath = await fixture.writeConfig('lonely', { modelParallelism: 1 });
      const job = jobResultSchema.parse(
        await fixture.send({ type: 'start', configPath, timeoutMs: 20_000 }),
      ).job;
      expect(job.state).toBe('running');
      const [pid] = await workerPids();
      if (pid === undefined) throw new Error('no worker pid recorded');
      // Its next tries load forever: the job is degraded, then failed.
      process.kill(pid, 'SIGKILL');
      const failed = await waitFor(
        async () => {
          const jobs = jobsResultSchema.parse(await fixture.send({ type: 'list', all: true })).jobs;
          const j = jobs.find((x) => x.id === job.id);
          return j?.state === 'failed' ? j : undefined;
        },
        { what: 'the job to fail' },
      );
      expect(failed.lastError).toMatch(/no worker has been ready for 0\.8 s, so the job cannot serve/);
      expect(failed.lastError).toContain('was killed by SIGKILL');
      expect(deadPids(await workerPids())).toBe(true);
    } finally {
      delete process.env['FAKE_WORKER_MARKER'];
    }
  });
});
