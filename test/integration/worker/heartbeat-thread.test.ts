import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelMetadata } from '../../../src/protocol/model-metadata.js';
import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_MISSES, liveWorkers } from '../../../src/redis/job-state.js';
import type { Heartbeat as HeartbeatClass } from '../../../src/worker/heartbeat.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';

// The heartbeat thread is a separate built file; the class that starts it is loaded from dist too.
const BUILT = '../../../dist/worker/heartbeat.js';
const { Heartbeat } = (await import(BUILT)) as { Heartbeat: typeof HeartbeatClass };

const MODEL: ModelMetadata = {
  name: 'beats',
  platform: 'onnx_onnxv1',
  modelPath: '/m.onnx',
  inputs: [],
  outputs: [],
  batchable: true,
  inputAlreadyBatched: false,
  maxBatchSize: 1,
};

/** Keeps this (main) thread busy, as a model run on it does: no event-loop turn until it ends. */
function busyMainThread(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) Math.sqrt(Math.random());
}

describe('heartbeat thread', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('stops vouching for a main thread silent past its bound, beats again once it runs, and leaves the live set on stop', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    let beats = 0;
    const heartbeat = new Heartbeat({
      redisUrl: redis.url,
      timeoutMs: 2000,
      caFile: undefined,
      job: 'beats',
      consumer: 'hung-worker',
      model: MODEL,
      logger,
      onBeat: () => beats++,
      mainSilentMs: 1000,
    });
    const r = redis.client();
    await heartbeat.start();
    expect(heartbeat.state).toBe('running');
    expect((await liveWorkers(r, 'beats')).map((w) => w.consumer)).toEqual(['hung-worker']);
    expect(beats).toBeGreaterThan(0);

    // Silent longer than the bound plus the three missed beats that make a worker gone.
    busyMainThread(1000 + HEARTBEAT_INTERVAL_MS * (HEARTBEAT_MISSES + 1));
    // Sent before this thread takes any message from the heartbeat thread, so it sees the pause.
    expect(await liveWorkers(r, 'beats')).toEqual([]);
    await waitFor(async () => (await liveWorkers(r, 'beats')).length === 1, { what: 'beats again' });
    expect(lines.some((l) => l.includes('the main thread did not run for too long'))).toBe(true);

    await Promise.all([heartbeat.stop(), heartbeat.stop()]);
    expect(heartbeat.state).toBe('stopped');
    expect(await liveWorkers(r, 'beats')).toEqual([]);
    expect(await r.hget('cs:beats:worker-info', 'hung-worker')).toBeNull();
  });
});
