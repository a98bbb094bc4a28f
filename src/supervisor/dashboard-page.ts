/**
 * The dashboard's page: every job of this home as `cluster-serving list --all` reads it (the
 * same figures from Redis, so it agrees with `list` and `/metrics` across hosts), rendered on
 * the server and reloaded by the browser every few seconds. No script, nothing fetched from
 * elsewhere: it works behind a firewall and in any browser.
 */
import { basename } from 'node:path';
import { formatFigure, formatUptime, workersCell } from './job-format.js';
import type { ListedJob } from './job-record.js';

export const REFRESH_SECONDS = 2;

export interface PageContext {
  readonly home: string;
  readonly now: Date;
}

const STATE_COLOURS: Record<string, string> = {
  running: '#1a7f37',
  starting: '#9a6700',
  stopping: '#9a6700',
  failed: '#cf222e',
};

/** Text made safe for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function row(job: ListedJob): string {
  const colour = STATE_COLOURS[job.state] ?? '#57606a';
  const http =
    job.http === null
      ? '–'
      : `<a href="${escapeHtml(job.http)}/v2/models/${escapeHtml(job.name)}">${escapeHtml(job.http)}</a> · <a href="${escapeHtml(job.http)}/metrics">metrics</a>`;
  const cells = [
    `<b>${escapeHtml(job.name)}</b><br><small>${escapeHtml(job.id)}</small>`,
    `<span style="color:${colour}">${escapeHtml(job.state)}</span>`,
    workersCell(job),
    String(job.restarts),
    formatFigure(job.processed),
    formatFigure(job.queued),
    formatFigure(job.inFlight),
    formatUptime(job.uptimeSeconds),
    `<span title="${escapeHtml(job.model)}">${escapeHtml(basename(job.model))}</span>`,
    `${escapeHtml(job.redis)}${job.redisManaged ? ' <small>(managed)</small>' : ''}`,
    http,
  ];
  const error =
    job.lastError === null
      ? ''
      : `<tr class="error"><td colspan="${cells.length}">last error: ${escapeHtml(job.lastError)}</td></tr>`;
  return `<tr>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>${error}`;
}

const HEADERS = [
  'job',
  'state',
  'workers',
  'restarts',
  'processed',
  'queued',
  'in flight',
  'uptime',
  'model',
  'Redis',
  'HTTP',
];

/** The whole page for `jobs` (running ones first, then the ended ones, as `list --all`). */
export function renderDashboardPage(jobs: readonly ListedJob[], context: PageContext): string {
  const body =
    jobs.length === 0
      ? '<p>No job has run in this home yet. Start one with <code>cluster-serving start</code>.</p>'
      : `<table><thead><tr>${HEADERS.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${jobs.map(row).join('')}</tbody></table>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${REFRESH_SECONDS}">
<title>cluster-serving</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 2em; color: #1f2328; }
table { border-collapse: collapse; }
th, td { padding: 6px 10px; border-bottom: 1px solid #d0d7de; text-align: left; vertical-align: top; }
td:nth-child(n+4):nth-child(-n+7) { text-align: right; font-variant-numeric: tabular-nums; }
tr.error td { color: #cf222e; border-bottom: 1px solid #d0d7de; }
small { color: #57606a; }
</style>
</head>
<body>
<h1>cluster-serving</h1>
<p><small>home ${escapeHtml(context.home)} · ${escapeHtml(context.now.toISOString())} · reloads every ${REFRESH_SECONDS} s · <a href="/api/jobs">JSON</a></small></p>
${body}
</body>
</html>
`;
}
