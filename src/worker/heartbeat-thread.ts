/**
 * The worker's heartbeat, on a thread of its own with its own Redis connection: a model run
 * on the main thread (the worker's CPUs all run models) blocks that thread for as long as it
 * lasts, and a heartbeat there would stop, so another worker would take the entry over and
 * run it again. Here the beats go on while the process lives; only a crash, a stopped
 * process, or a main thread silent for MAIN_THREAD_SILENT_MS (hung) stops them.
 * Started by Heartbeat (heartbeat.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { reasonOf } from '../errors/registry.js';
import { createRedis } from '../redis/connection.js';
import { keys } from '../redis/keys.js';
import type { HeartbeatReport, HeartbeatRequest, HeartbeatSetup } from '../contracts/heartbeat-thread.js';

const port = parentPort;
if (port === null) throw new Error('heartbeat-thread.js runs as a worker thread');
const setup = workerData as HeartbeatSetup;
const send = (report: HeartbeatReport): void => port.postMessage(report);

const redis = createRedis({
  url: setup.redisUrl,
  role: 'worker',
  timeoutMs: setup.timeoutMs,
  caFile: setup.caFile,
  name: `cs-worker-beat-${setup.consumer}`,
});
redis.on('error', () => undefined);

const info = JSON.stringify(setup.info);
const model = JSON.stringify(setup.model);
/** When the main thread last answered a beat report. */
let mainSeenAt = Date.now();
let beating: Promise<void> | undefined;
let silentReported = false;

async function beat(): Promise<void> {
  if (Date.now() - mainSeenAt > setup.mainSilentMs) {
    // Hung, not busy: stop vouching for it, so live workers take its entries over. The main
    // thread hears this once it runs again, answers, and the beats start again.
    if (!silentReported) send({ type: 'silent' });
    silentReported = true;
    return;
  }
  try {
    await redis
      .multi()
      .set(keys.model(setup.job), model)
      .sadd(keys.jobs(), setup.job)
      .hset(keys.workerInfo(setup.job), setup.consumer, info)
      .zadd(keys.workers(setup.job), Date.now(), setup.consumer)
      .exec();
    send({ type: 'beat' });
  } catch (error) {
    send({ type: 'beat', failure: reasonOf(error) });
  }
}

function tick(): void {
  // With Redis away a beat waits for it; one at a time, not a pile of them.
  if (beating !== undefined) return;
  beating = beat().finally(() => (beating = undefined));
}

const timer = setInterval(tick, setup.intervalMs);
tick();

port.on('message', (request: HeartbeatRequest) => {
  if (request.type === 'alive') {
    mainSeenAt = Date.now();
    if (silentReported) {
      silentReported = false;
      tick();
    }
    return;
  }
  clearInterval(timer);
  void leave().finally(() => {
    send({ type: 'stopped' });
    port.close();
  });
});

/** Removes the worker from the live set (the model metadata stays for the next start) and closes. */
async function leave(): Promise<void> {
  try {
    await beating;
    if (redis.status === 'ready') {
      await redis
        .multi()
        .zrem(keys.workers(setup.job), setup.consumer)
        .hdel(keys.workerInfo(setup.job), setup.consumer)
        .exec();
    }
  } catch (error) {
    send({ type: 'beat', failure: `could not remove the heartbeat: ${reasonOf(error)}` });
  }
  try {
    await redis.quit();
  } catch {
    // Closed already.
  }
  if (redis.status !== 'end') redis.disconnect();
}
