import { basename } from 'node:path';
import type { ListedJob } from '../supervisor/job-record.js';
import { shellWord } from './shell-word.js';
import {
  formatFigure as figure,
  formatUptime,
  hostsCell,
  httpCell,
  isWildcardUrl,
  workersCell,
} from '../supervisor/job-format.js';

export { formatUptime, workersCell };

/** The Redis URL, and how it fares when that is news: `(managed, restarting, 3 restarts)`. */
function redisCell(job: ListedJob): string {
  const notes = [
    ...(job.redisManaged ? ['managed'] : []),
    ...(job.redisState === 'up' ? [] : [job.redisState]),
    ...(job.redisRestarts === null || job.redisRestarts === 0
      ? []
      : [`${job.redisRestarts} restart${job.redisRestarts === 1 ? '' : 's'}`]),
  ];
  return notes.length === 0 ? job.redis : `${job.redis} (${notes.join(', ')})`;
}

/** A readable table; failed jobs get their last error on a line below. */
export function renderJobTable(jobs: readonly ListedJob[]): string {
  const header = [
    'ID',
    'NAME',
    'STATE',
    'WORKERS',
    'HOSTS',
    'RESTARTS',
    'PROCESSED',
    'QUEUED',
    'IN FLIGHT',
    'UPTIME',
    'MODEL',
    'REDIS',
    'HTTP',
  ];
  const rows = jobs.map((job) => [
    job.id,
    job.name,
    job.state,
    workersCell(job),
    hostsCell(job) || '-',
    String(job.restarts),
    figure(job.processed),
    figure(job.queued),
    figure(job.inFlight),
    formatUptime(job.uptimeSeconds),
    basename(job.model),
    redisCell(job),
    httpCell(job),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  for (const job of jobs) {
    if (job.state === 'failed' && job.lastError !== null)
      out.push(`${job.name} (${job.id}) failed: ${job.lastError}`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * What `start` prints once the job serves: what it started, what it did not (no frontend,
 * no dashboard) and what to run next. Every line under "next" runs as printed.
 */
export function renderStarted(job: ListedJob, dashboard: string | null = null): string {
  const lines = [
    `job ${job.name} (id ${job.id}) is serving`,
    `  workers:   ${workersCell(job)} ready`,
    `  model:     ${job.model}`,
    `  redis:     ${job.redis}${job.redisManaged ? ' (started by cluster-serving)' : ''}`,
    `  http:      ${httpLine(job)}`,
    `  dashboard: ${dashboard ?? 'none (CLUSTER_SERVING_DASHBOARD is off, or its port was taken: see logs/supervisor.log)'}`,
    '',
  ];
  if (job.http !== null) {
    const base = job.http.replace(/\/$/, '');
    lines.push(`model inputs: curl -s ${base}/v2/models/${job.name}`);
    lines.push(`predict:      POST ${base}/predict with {"instances":[{"<input>": <value>}]}`);
  } else {
    lines.push(
      `from TypeScript: new InputQueue({ redisUrl: '${job.redis}', name: '${job.name}' }).predict(...)`,
    );
  }
  lines.push(`see it:       cluster-serving list`);
  lines.push(`stop it:      cluster-serving stop ${shellWord(job.name)}`);
  lines.push(`stop it now:  cluster-serving cancel ${shellWord(job.name)}`);
  return `${lines.join('\n')}\n`;
}

/** Where the frontend listens and how to reach it, or why there is none. */
function httpLine(job: ListedJob): string {
  if (job.http === null)
    return 'none (no HTTP frontend: add an http: section to config.yaml to serve on 10020)';
  const bound = job.httpBound ?? job.http;
  if (isWildcardUrl(bound)) return `${bound} (reachable at ${job.http} and this host's addresses)`;
  return job.http;
}
