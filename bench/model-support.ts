/** Load generation and figure extraction for bench/model.ts. */
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { JobStats } from '../src/redis/job-state.js';
import { summarise, type Figures } from './stats.js';

export const CONNECTIONS = 64;

export interface LoadResult {
  readonly figures: Figures;
  readonly failed: number;
}

export function load(
  label: string,
  url: string,
  bodies: readonly string[],
  seconds: number,
): Promise<LoadResult> {
  // Progress on stderr, so a run that stops early shows where.
  process.stderr.write(`bench:model: ${label}\n`);
  return new Promise((done, fail) => {
    const latencies: number[] = [];
    let failed = 0;
    const instance = autocannon(
      {
        url,
        connections: CONNECTIONS,
        duration: seconds,
        requests: bodies.map((body) => ({
          method: 'POST',
          path: '/predict',
          headers: { 'content-type': 'application/json' },
          body,
        })),
      },
      (error, result) => {
        if (error !== null && error !== undefined) return fail(error);
        failed += result.errors + result.timeouts;
        done({ figures: summarise(label, CONNECTIONS, latencies, result.duration), failed });
      },
    );
    instance.on('response', (_c: unknown, status: number, _b: number, responseTime: number) => {
      if (status >= 200 && status < 300) latencies.push(responseTime);
      else failed += 1;
    });
  });
}

export interface Server {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function launch(
  entry: string,
  args: string[],
  execArgv: string[],
  url: string,
): Promise<Server> {
  const child = fork(entry, args, {
    execArgv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, CLUSTER_SERVING_LOG_LEVEL: 'warn' },
  });
  await new Promise<void>((done, fail) => {
    child.on('message', (m: { type?: string; state?: string; message?: string }) => {
      if (m.type === 'ready' || (m.type === 'state' && m.state === 'ready')) done();
      if (m.type === 'fatal') fail(new Error(m.message));
    });
    child.once('exit', (code) => fail(new Error(`${entry} exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid ?? 0,
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export type Stages = Map<string, { sum: number; count: number }>;

export async function stages(url: string): Promise<Stages> {
  const out: Stages = new Map();
  for (const line of (await (await fetch(`${url}/metrics`)).text()).split('\n')) {
    const m = /^cs_http_stage_duration_seconds_(sum|count)\{[^}]*stage="(\w+)"[^}]*\} (\S+)$/.exec(line);
    if (m === null) continue;
    const entry = out.get(m[2]!) ?? { sum: 0, count: 0 };
    entry[m[1] === 'sum' ? 'sum' : 'count'] = Number(m[3]);
    out.set(m[2]!, entry);
  }
  return out;
}

export function workerShare(label: string, s0: JobStats, s1: JobStats): string {
  const records = s1.processed - s0.processed;
  const batches = s1.batches - s0.batches;
  const perBatch = batches > 0 ? (s1.computeMsTotal - s0.computeMsTotal) / batches : Number.NaN;
  const perRecord = records > 0 ? (s1.computeMsTotal - s0.computeMsTotal) / records : Number.NaN;
  const queue = records > 0 ? (s1.queueMsTotal - s0.queueMsTotal) / records : Number.NaN;
  return `${label}: mean batch ${(records / Math.max(1, batches)).toFixed(1)}, inference ${perBatch.toFixed(2)} ms/batch = ${perRecord.toFixed(2)} ms/image, stream wait ${queue.toFixed(2)} ms/record`;
}

export function httpShare(label: string, b0: Stages, b1: Stages): string {
  const per = (stage: string): string => {
    const a = b1.get(stage);
    const b = b0.get(stage) ?? { sum: 0, count: 0 };
    return a === undefined || a.count === b.count
      ? 'n/a'
      : `${((1000 * (a.sum - b.sum)) / (a.count - b.count)).toFixed(2)} ms`;
  };
  return `${label} frontend: parse ${per('parse')}, validate ${per('validate')}, submit→answer ${per('submit')}, encode ${per('encode')}`;
}

/**
 * CPU time (user + system, ms) of a process, from /proc; with `children`, plus its direct
 * children (node:cluster workers).
 */
export function cpuMs(pid: number, children = true): number {
  const ticks = (id: string): { parent: number; time: number } | undefined => {
    try {
      const stat = readFileSync(`/proc/${id}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After the command: state, ppid (field 4), ... utime (14), stime (15); clock ticks of 10 ms.
      return { parent: Number(fields[1]), time: (Number(fields[11]) + Number(fields[12])) * 10 };
    } catch {
      return undefined;
    }
  };
  let total = ticks(String(pid))?.time ?? 0;
  if (!children) return total;
  for (const id of readdirSync('/proc')) {
    if (!/^\d+$/.test(id)) continue;
    const stat = ticks(id);
    if (stat?.parent === pid) total += stat.time;
  }
  return total;
}

/**
 * CPU ms per answered request for each named process group between two snapshots. This
 * process (the load generator) is counted without its children, which are the servers.
 */
export function cpuShare(
  label: string,
  groups: Readonly<Record<string, readonly number[]>>,
  measure: () => Promise<number>,
): Promise<string> {
  const take = (): Record<string, number> =>
    Object.fromEntries(
      Object.entries(groups).map(([name, pids]) => [
        name,
        pids.reduce((n, p) => n + cpuMs(p, p !== process.pid), 0),
      ]),
    );
  const before = take();
  return measure().then((answered) => {
    const after = take();
    const parts = Object.keys(groups).map(
      (name) => `${name} ${((after[name]! - before[name]!) / Math.max(1, answered)).toFixed(2)}`,
    );
    const total = Object.keys(groups).reduce((n, name) => n + after[name]! - before[name]!, 0);
    return `${label} CPU ms per request: ${parts.join(', ')}; total ${(total / Math.max(1, answered)).toFixed(2)}`;
  });
}
