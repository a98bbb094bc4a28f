import { Worker as Thread } from 'node:worker_threads';
import type { Logger } from '../logging/logger.js';
import type { ModelMetadata } from '../protocol/model-metadata.js';
import { HEARTBEAT_INTERVAL_MS } from '../redis/job-state.js';
import type { HeartbeatReport, HeartbeatRequest, HeartbeatSetup } from '../contracts/heartbeat-thread.js';
import { hostName } from './host-name.js';

/**
 * A main thread that has not taken a beat report for this long is hung, not busy: its
 * heartbeat stops and live workers take its entries over. Far above any run a worker is
 * given (records are bounded by maxRecordBatch/maxRecordBytes, batches by maxBatchSize).
 */
export const MAIN_THREAD_SILENT_MS = 10 * 60_000;
/** How long stop() waits for the thread to leave the live set before ending it. */
const STOP_TIMEOUT_MS = 2000;

export interface HeartbeatOptions {
  readonly redisUrl: string;
  readonly timeoutMs: number;
  readonly caFile: string | undefined;
  readonly job: string;
  readonly consumer: string;
  readonly model: ModelMetadata;
  readonly logger: Logger;
  /** Told on the main thread after each beat, when it is free to hear it (the worker reclaims then). */
  readonly onBeat: () => void;
  /** For tests: a shorter hang bound than MAIN_THREAD_SILENT_MS. */
  readonly mainSilentMs?: number;
}

/**
 * Keeps the worker visible: model metadata, worker info and a heartbeat score every
 * HEARTBEAT_INTERVAL_MS, written from a thread of its own (heartbeat-thread.ts) so that a
 * long model run on the main thread does not make the worker look dead. Everything is
 * rewritten on each beat, so a Redis that restarted empty learns about the worker again
 * within one interval.
 *
 * States: new → running (start) → stopped (stop; idempotent, bounded by STOP_TIMEOUT_MS).
 * A thread that dies under a running heartbeat is started again.
 */
export class Heartbeat {
  private thread: Thread | undefined;
  private stateValue: 'new' | 'running' | 'stopped' = 'new';
  private stopping: Promise<void> | undefined;
  private readonly startedAt = Date.now();

  constructor(private readonly options: HeartbeatOptions) {}

  get state(): 'new' | 'running' | 'stopped' {
    return this.stateValue;
  }

  /** Starts the thread; resolves after its first beat went out (or failed, which is logged). */
  async start(): Promise<void> {
    if (this.stateValue !== 'new') return;
    this.stateValue = 'running';
    await new Promise<void>((resolve) => this.spawn(resolve));
  }

  private spawn(firstBeat: () => void): void {
    const { options } = this;
    const setup: HeartbeatSetup = {
      redisUrl: options.redisUrl,
      timeoutMs: options.timeoutMs,
      caFile: options.caFile,
      job: options.job,
      consumer: options.consumer,
      model: options.model,
      info: { host: hostName(), pid: process.pid, startedAt: this.startedAt },
      intervalMs: HEARTBEAT_INTERVAL_MS,
      mainSilentMs: options.mainSilentMs ?? MAIN_THREAD_SILENT_MS,
    };
    const thread = new Thread(new URL('./heartbeat-thread.js', import.meta.url), { workerData: setup });
    // The thread alone must not keep a stopping worker's process alive.
    thread.unref();
    this.thread = thread;
    let first = true;
    thread.on('message', (report: HeartbeatReport) => {
      if (report.type === 'silent') {
        options.logger.error(
          { silentMs: setup.mainSilentMs },
          'the main thread did not run for too long; heartbeats were paused and other workers may have taken its entries',
        );
        thread.postMessage({ type: 'alive' } satisfies HeartbeatRequest);
        return;
      }
      if (report.type !== 'beat') return;
      if (report.failure !== undefined) options.logger.warn({ reason: report.failure }, 'heartbeat failed');
      thread.postMessage({ type: 'alive' } satisfies HeartbeatRequest);
      if (first) {
        first = false;
        firstBeat();
      }
      options.onBeat();
    });
    thread.on('error', (error) => options.logger.error({ err: error }, 'the heartbeat thread failed'));
    thread.on('exit', (code) => {
      if (this.thread !== thread) return;
      this.thread = undefined;
      if (first) firstBeat();
      if (this.stateValue !== 'running') return;
      options.logger.error({ code }, 'the heartbeat thread stopped; starting it again');
      this.spawn(() => undefined);
    });
  }

  /** Removes this worker from the live set and ends the thread; the model metadata stays for the next start. */
  stop(): Promise<void> {
    this.stopping ??= this.stopThread();
    return this.stopping;
  }

  private async stopThread(): Promise<void> {
    this.stateValue = 'stopped';
    const thread = this.thread;
    this.thread = undefined;
    if (thread === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const left = new Promise<boolean>((resolve) => {
      thread.on('message', (report: HeartbeatReport) => {
        if (report.type === 'stopped') resolve(true);
      });
      thread.once('exit', () => resolve(true));
      timer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS);
    });
    thread.postMessage({ type: 'stop' } satisfies HeartbeatRequest);
    const clean = await left;
    clearTimeout(timer);
    if (!clean) this.options.logger.warn('the heartbeat did not leave the live set in time (Redis away?)');
    await thread.terminate();
  }
}
