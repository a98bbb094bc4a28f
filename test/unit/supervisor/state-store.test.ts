import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StateFile } from '../../../src/supervisor/job-record.js';
import { isAlive, isOurProcess, processStartTime } from '../../../src/supervisor/process-identity.js';
import {
  readIdentity,
  readState,
  reapOrphans,
  writeIdentity,
  writeState,
} from '../../../src/supervisor/state-store.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function stateWith(redis: { pid: number; startTime: string | null }[], workerPids: number[]): StateFile {
  return {
    supervisorPid: 1,
    supervisorStartTime: null,
    redis: redis.map((r, i) => ({
      port: 6000 + i,
      url: 'redis://localhost:6000',
      pid: r.pid,
      startTime: r.startTime,
      logFile: '/x',
      state: 'running',
      restarts: 0,
    })),
    jobs: [
      {
        id: 'abcd1234',
        name: 'j',
        state: 'running',
        configPath: '/c.yaml',
        modelPath: '/m.onnx',
        redisUrl: 'redis://localhost:6000',
        httpUrl: null,
        httpBound: null,
        modelParallelism: workerPids.length,
        processes: workerPids.map((pid, i) => ({
          role: 'worker' as const,
          slot: i + 1,
          pid,
          startTime: processStartTime(pid),
          state: 'ready' as const,
          restarts: 0,
          consumer: null,
          logFile: '/x',
        })),
        restarts: 0,
        lastError: null,
        startedAt: 0,
        endedAt: null,
      },
    ],
  };
}

describe('state store and orphan reaping', () => {
  it('round-trips state.json and the pid file, and rejects garbage', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cs-state-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const state = stateWith([], []);
    writeState(join(dir, 'state.json'), state);
    expect(await readState(join(dir, 'state.json'))).toEqual(state);
    writeIdentity(join(dir, 'pid'), { pid: 5, startTime: null, marker: 'm' });
    expect(await readIdentity(join(dir, 'pid'))).toEqual({ pid: 5, startTime: null, marker: 'm' });
    writeState(join(dir, 'bad.json'), { nonsense: true } as unknown as StateFile);
    expect(await readState(join(dir, 'bad.json'))).toBeUndefined();
    expect(await readState(join(dir, 'missing.json'))).toBeUndefined();
  });

  it('kills a recorded redis-server that is still ours, and spares a process whose identity does not match', async () => {
    const redis: TestRedis = await startRedis();
    cleanups.push(() => redis.stop());
    const stranger = spawn('sleep', ['30'], { stdio: 'ignore' });
    cleanups.push(async () => {
      stranger.kill('SIGKILL');
    });
    const redisPid = redis.process.pid ?? 0;
    const strangerPid = stranger.pid ?? 0;
    expect(
      isOurProcess({ pid: redisPid, startTime: processStartTime(redisPid), marker: 'redis-server' }),
    ).toBe(true);
    // Right pid, wrong start time: a reused pid must not be killed.
    expect(isOurProcess({ pid: redisPid, startTime: '1', marker: 'redis-server' })).toBe(false);

    // `sleep` is recorded as a worker: its command line lacks the worker entry, so it is spared.
    const reaped = await reapOrphans(
      stateWith([{ pid: redisPid, startTime: processStartTime(redisPid) }], [strangerPid]),
    );
    expect(reaped).toEqual([`redis-server on port 6000 (pid ${redisPid})`]);
    expect(isAlive(strangerPid)).toBe(true);
    expect(isAlive(redisPid)).toBe(false);
  });
});
