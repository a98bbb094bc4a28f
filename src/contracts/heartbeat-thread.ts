import type { ModelMetadata } from '../protocol/model-metadata.js';

/**
 * The messages between a worker's main thread (src/worker/heartbeat.ts) and its heartbeat
 * thread (src/worker/heartbeat-thread.ts), and the thread's workerData.
 */
export interface HeartbeatSetup {
  readonly redisUrl: string;
  readonly timeoutMs: number;
  readonly caFile: string | undefined;
  readonly job: string;
  readonly consumer: string;
  readonly model: ModelMetadata;
  readonly info: { readonly host: string; readonly pid: number; readonly startedAt: number };
  readonly intervalMs: number;
  readonly mainSilentMs: number;
}

/**
 * Thread → main: a beat went out (or failed, and why); beats paused because the main thread
 * was silent too long; the thread has left the live set.
 */
export type HeartbeatReport =
  | { readonly type: 'beat'; readonly failure?: string }
  | { readonly type: 'silent' }
  | { readonly type: 'stopped' };
/** Main → thread: the main thread runs (answer to a beat report); leave and stop. */
export type HeartbeatRequest = { readonly type: 'alive' } | { readonly type: 'stop' };
