/** How a listed job's cells read, the same in `cluster-serving list` and on the dashboard. */
import type { ListedJob } from './job-record.js';

/** `1h02m`, `3m05s`, `42s`. */
export function formatUptime(seconds: number | null): string {
  if (seconds === null) return '-';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A figure read from Redis; `-` when Redis could not be read. */
export function formatFigure(value: number | null): string {
  return value === null ? '-' : String(value);
}

export function workersCell(job: ListedJob): string {
  const { ready, total, remote } = job.workers;
  return remote > 0 ? `${ready}/${total} (${remote} remote)` : `${ready}/${total}`;
}

/** `hostA:2 hostB:1`: live workers per host, shown once a job runs on more than one host. */
export function hostsCell(job: ListedJob): string {
  return job.workers.hosts.map((entry) => `${entry.host}:${entry.workers}`).join(' ');
}

/** The URL of what a frontend is bound to, as configured: `http://0.0.0.0:10020`, `http://[::1]:8080`. */
export function boundUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Whether a bound URL names every interface (0.0.0.0 or ::) rather than one address. */
export function isWildcardUrl(url: string): boolean {
  return /^https?:\/\/(0\.0\.0\.0|\[::\]):/.test(url);
}

/** `list`'s HTTP cell: what it is bound to, which tells a wildcard from the loopback. */
export function httpCell(job: ListedJob): string {
  return job.httpBound ?? job.http ?? '-';
}
