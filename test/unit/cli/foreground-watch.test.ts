import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { waitUntilStopped } from '../../../src/cli/commands/start-foreground.js';
import { jobRecordSchema, type JobRecord } from '../../../src/supervisor/job-record.js';

function job(state: JobRecord['state']): JobRecord {
  return jobRecordSchema.parse({
    id: 'j1',
    name: 'watched',
    state,
    configPath: '/c.yaml',
    modelPath: '/m.onnx',
    redisUrl: 'redis://localhost:6379',
    httpUrl: null,
    modelParallelism: 1,
    processes: [],
    restarts: 0,
    lastError: state === 'failed' ? 'worker 1/1 exited' : null,
    startedAt: 0,
    endedAt: null,
  });
}

describe('start --foreground watching its job', () => {
  it('holds at most one abort listener however long it watches, and returns 0 on abort', async () => {
    const stop = new AbortController();
    let looks = 0;
    let mostListeners = 0;
    const jobs = {
      record: (): JobRecord => {
        looks++;
        mostListeners = Math.max(mostListeners, getEventListeners(stop.signal, 'abort').length);
        if (looks === 50) stop.abort();
        return job('running');
      },
    };
    expect(await waitUntilStopped(jobs, 'j1', stop.signal, 1)).toBe(0);
    expect(looks).toBe(50);
    expect(mostListeners).toBeLessThanOrEqual(1);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });

  it('returns 1 when the job fails by itself, 0 when it was stopped from elsewhere', async () => {
    const failed = { record: (): JobRecord => job('failed') };
    expect(await waitUntilStopped(failed, 'j1', new AbortController().signal, 1)).toBe(1);
    const stopped = { record: (): JobRecord => job('stopped') };
    expect(await waitUntilStopped(stopped, 'j1', new AbortController().signal, 1)).toBe(0);
  });
});
