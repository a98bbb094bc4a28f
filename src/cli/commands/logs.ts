import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CsError } from '../../errors/registry.js';
import type { JobRecord } from '../../supervisor/job-record.js';
import { readState } from '../../supervisor/state-store.js';
import { formatLogLine, LogFollower } from '../log-reader.js';
import { currentHome } from '../supervisor-link.js';

export interface LogsOptions {
  readonly target: string;
  readonly follow: boolean;
}

/** Reads the job's log files directly (no supervisor needed), merged by time. */
export async function runLogs(options: LogsOptions): Promise<number> {
  const paths = currentHome();
  const state = await readState(paths.stateFile);
  const job = pickJob(state?.jobs ?? [], options.target);
  let names: string[];
  try {
    names = await readdir(paths.logsDir);
  } catch {
    names = [];
  }
  const prefix =
    job === undefined ? await newestPrefix(paths.logsDir, names, options.target) : `${job.name}-${job.id}.`;
  // The current files only: rotated copies (`.log.1` ...) hold older lines.
  const files =
    prefix === undefined
      ? []
      : names.filter((name) => name.startsWith(prefix) && name.endsWith('.log')).sort();
  if (files.length === 0) {
    throw new CsError(
      'CS_ERR_JOB_NOT_FOUND',
      `no logs for job "${options.target}" in ${paths.logsDir}; cluster-serving list --all shows the jobs`,
    );
  }
  const follower = new LogFollower(
    files.map((name) => ({ file: join(paths.logsDir, name), label: labelOf(name) })),
  );
  const write = (lines: readonly string[]): void => {
    if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
  };
  write((await follower.readNew()).map(formatLogLine));
  if (!options.follow) return 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      follower
        .readNew()
        .then((lines) => write(lines.map(formatLogLine)))
        .catch(() => undefined);
    }, 300);
    const stop = (): void => {
      clearInterval(timer);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

const LOG_FILE = /^(.+)-([0-9a-f]{8})\.(worker-\d+|http)\.log$/;

/**
 * Without state.json (after shutdown) the files still name their job: `<name>-<id>.<process>.log`.
 * By id, or the most recently written job of that name.
 */
async function newestPrefix(
  dir: string,
  names: readonly string[],
  target: string,
): Promise<string | undefined> {
  let best: { prefix: string; mtime: number } | undefined;
  for (const name of names) {
    const match = LOG_FILE.exec(name);
    if (match === null || (match[1] !== target && match[2] !== target)) continue;
    const mtime = (await stat(join(dir, name)).catch(() => undefined))?.mtimeMs ?? 0;
    if (best === undefined || mtime > best.mtime) best = { prefix: `${match[1]}-${match[2]}.`, mtime };
  }
  return best?.prefix;
}

/** By id first, else the newest job of that name. */
function pickJob(jobs: readonly JobRecord[], target: string): JobRecord | undefined {
  const byId = jobs.find((job) => job.id === target);
  if (byId !== undefined) return byId;
  return jobs.filter((job) => job.name === target).sort((a, b) => b.startedAt - a.startedAt)[0];
}

/** `serving_stream-1a2b3c4d.worker-1.log` → `worker-1`. */
function labelOf(name: string): string {
  const parts = name.split('.');
  return parts.length >= 3 ? (parts[parts.length - 2] ?? name) : name;
}
