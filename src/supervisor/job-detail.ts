import { open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import type { Redis } from 'ioredis';
import type { ServingConfig } from '../config/types.js';
import { redactUrl } from '../redis/connection.js';
import { liveWorkers } from '../redis/job-state.js';
import { readSlots, type Slot } from '../redis/stats-schema.js';
import { describeProcess } from './job-errors.js';
import type { JobRecord, ListedJob } from './job-record.js';

/** One worker as the job page lists it: from its heartbeat in Redis, and our record when it is ours. */
export interface WorkerRow {
  readonly host: string;
  readonly consumer: string;
  readonly pid: number | null;
  /** ms since its last heartbeat; null for one of ours that has no live heartbeat. */
  readonly heartbeatAgeMs: number | null;
  /** Restarts of our process slot; null for a worker of another host. */
  readonly restarts: number | null;
  readonly state: string;
}

export interface LogTail {
  readonly name: string;
  readonly lines: string[];
}

/** Everything the page of one job shows. */
export interface JobDetail {
  readonly job: ListedJob;
  /** The config as loaded (secrets hidden); undefined when this supervisor no longer holds it. */
  readonly config: Record<string, unknown> | undefined;
  readonly workers: WorkerRow[];
  /** Newest last: the job's last error and error lines of its processes' logs. */
  readonly errors: string[];
  readonly logs: LogTail[];
  /** The last 30 minutes; undefined when Redis cannot be read. */
  readonly slots: Slot[] | undefined;
}

/** The resolved config with passwords hidden. */
export function shownConfig(config: ServingConfig): Record<string, unknown> {
  const hide = (url: string | undefined): string | undefined =>
    url === undefined ? undefined : redactUrl(url);
  return {
    ...config,
    redisUrl: redactUrl(config.redisUrl),
    redisSecureTrustStorePassword: config.redisSecureTrustStorePassword === undefined ? undefined : '***',
    http: config.http === undefined ? undefined : { ...config.http, redisUrl: hide(config.http.redisUrl) },
  };
}

/** Lines at the end of a log file (at most `maxBytes` read). */
async function lastLines(file: string, count: number, maxBytes = 32 * 1024): Promise<string[]> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, maxBytes);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      const lines = buffer
        .toString('utf8')
        .split('\n')
        .filter((line) => line.trim() !== '');
      // The first line may have been cut by the window.
      return (length < size ? lines.slice(1) : lines).slice(-count);
    } finally {
      await handle.close();
    }
  } catch {
    return [];
  }
}

interface PinoLine {
  readonly level?: unknown;
  readonly time?: unknown;
  readonly msg?: unknown;
  readonly err?: { readonly message?: unknown };
}

/** A pino JSON line as `time level msg: err`; other lines as they are. */
export function readableLogLine(line: string): { text: string; error: boolean } {
  if (!line.startsWith('{')) return { text: line, error: false };
  try {
    const value = JSON.parse(line) as PinoLine;
    const level = typeof value.level === 'number' ? value.level : 30;
    const time = typeof value.time === 'number' ? new Date(value.time).toISOString().slice(11, 19) : '';
    const msg = typeof value.msg === 'string' ? value.msg : '';
    const err = typeof value.err?.message === 'string' ? `: ${value.err.message}` : '';
    const name = level >= 50 ? 'ERROR' : level >= 40 ? 'WARN' : level >= 30 ? 'INFO' : 'DEBUG';
    return { text: `${time} ${name} ${msg}${err}`.trim(), error: level >= 50 };
  } catch {
    return { text: line, error: false };
  }
}

export interface DetailInput {
  readonly job: ListedJob;
  readonly record: JobRecord;
  readonly config: ServingConfig | undefined;
  readonly redis: Redis | undefined;
  readonly now?: number;
}

export async function jobDetail(input: DetailInput): Promise<JobDetail> {
  const { record, redis } = input;
  const now = input.now ?? Date.now();
  const logs: LogTail[] = [];
  const errors: string[] = [];
  for (const process of record.processes) {
    const lines = (await lastLines(process.logFile, 40)).map(readableLogLine);
    logs.push({
      name: `${describeProcess(process)} · ${basename(process.logFile)}`,
      lines: lines.map((l) => l.text),
    });
    for (const line of lines) if (line.error) errors.push(`${describeProcess(process)}: ${line.text}`);
  }
  if (record.lastError !== null) errors.push(record.lastError);

  let live: Awaited<ReturnType<typeof liveWorkers>> = [];
  let slots: Slot[] | undefined;
  if (redis !== undefined) {
    try {
      [live, slots] = await Promise.all([
        liveWorkers(redis, record.name, now),
        readSlots(redis, record.name, now),
      ]);
    } catch {
      slots = undefined;
    }
  }
  const ours = new Map(
    record.processes.flatMap((p) => (p.consumer === null ? [] : [[p.consumer, p] as const])),
  );
  const workers: WorkerRow[] = live.map((worker) => {
    const process = ours.get(worker.consumer);
    return {
      host: worker.host,
      consumer: worker.consumer,
      pid: worker.pid === 0 ? null : worker.pid,
      heartbeatAgeMs: Math.max(0, now - worker.lastHeartbeat),
      restarts: process?.restarts ?? null,
      state: process?.state ?? 'ready',
    };
  });
  const seen = new Set(live.map((worker) => worker.consumer));
  for (const process of record.processes) {
    if (process.role !== 'worker' || (process.consumer !== null && seen.has(process.consumer))) continue;
    workers.push({
      host: hostname(),
      consumer: process.consumer ?? `slot ${process.slot}`,
      pid: process.pid,
      heartbeatAgeMs: null,
      restarts: process.restarts,
      state: process.state,
    });
  }
  workers.sort((a, b) => a.host.localeCompare(b.host) || a.consumer.localeCompare(b.consumer));
  return {
    job: input.job,
    config: input.config === undefined ? undefined : shownConfig(input.config),
    workers,
    errors: errors.slice(-20),
    logs,
    slots,
  };
}
