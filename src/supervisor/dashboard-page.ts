/**
 * The dashboard's overview page: live figures and charts of every running job, then every
 * job of this home as `cluster-serving list --all` reads it (the same figures from Redis, so
 * it agrees with `list` and `/metrics` across hosts). Rendered here; the page's own small
 * script (dashboard-script.ts) swaps in a fresh copy every few seconds, and without scripts
 * the page reloads itself. Nothing is fetched from elsewhere.
 */
import { basename } from 'node:path';
import type { Slot } from '../redis/stats-schema.js';
import { figuresNow, jobCharts, jobSeries, shortNumber } from './dashboard-charts.js';
import { formatFigure, formatUptime, workersCell } from './job-format.js';
import { listedJobSchema, type ListedJob } from './job-record.js';

export const REFRESH_SECONDS = 2;

export interface PageContext {
  readonly home: string;
  readonly now: Date;
  /** The token actions carry (dashboard-guard.ts); without it the page shows no buttons. */
  readonly token?: string;
  /** The last 30 minutes per job id, for the running jobs that have them. */
  readonly slots?: ReadonlyMap<string, Slot[] | undefined>;
}

const STATE_COLOURS: Record<string, string> = {
  running: '#1a7f37',
  starting: '#9a6700',
  stopping: '#9a6700',
  degraded: '#bc4c00',
  failed: '#cf222e',
};

/** States in which stop and cancel make sense. */
const ACTIVE_STATES = new Set(['starting', 'running', 'stopping', 'degraded']);

/** Text made safe for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A name cut to the width of its cell, whole on hover. */
export function cutName(text: string, className = 'cut'): string {
  return `<span class="${className}" title="${escapeHtml(text)}">${escapeHtml(text)}</span>`;
}

export function stateBadge(state: string): string {
  const colour = STATE_COLOURS[state] ?? '#57606a';
  return `<span class="state" style="color:${colour}">${escapeHtml(state)}</span>`;
}

export function isActiveState(state: string): boolean {
  return ACTIVE_STATES.has(state);
}

/** Stop and Cancel, as forms that post the token: the same control path as the CLI's. */
export function actionButtons(job: ListedJob, token: string | undefined): string {
  if (token === undefined || !isActiveState(job.state)) return '';
  const form = (action: 'stop' | 'cancel', label: string, hint: string): string =>
    `<form method="post" action="/jobs/${encodeURIComponent(job.id)}/${action}"><input type="hidden" name="token" value="${escapeHtml(token)}"><button type="submit" data-action="${action}" title="${hint}">${label}</button></form>`;
  return `<div class="actions">${form('stop', 'Stop', 'answer what is queued now, then stop (cluster-serving stop)')}${form('cancel', 'Cancel', 'stop the processes now; unprocessed entries stay queued (cluster-serving cancel)')}</div>`;
}

/** A row of the jobs table (a running job's buttons are on its card above). */
function row(job: ListedJob): string {
  const http =
    job.http === null
      ? '–'
      : `<a href="${escapeHtml(job.http)}/v2/models/${escapeHtml(job.name)}">${escapeHtml(job.http)}</a> · <a href="${escapeHtml(job.http)}/metrics">metrics</a>`;
  const cells = [
    `<a class="cut" href="/jobs/${encodeURIComponent(job.id)}" title="${escapeHtml(job.name)}"><b>${escapeHtml(job.name)}</b></a><br><small>${escapeHtml(job.id)}</small>`,
    stateBadge(job.state),
    workersCell(job),
    String(job.restarts),
    formatFigure(job.processed),
    formatFigure(job.queued),
    formatFigure(job.inFlight),
    formatUptime(job.uptimeSeconds),
    `<span class="cut" title="${escapeHtml(job.model)}">${escapeHtml(basename(job.model))}</span>`,
    `${cutName(job.redis)}${job.redisManaged ? ' <small>(managed)</small>' : ''}`,
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

/** The figures and charts of one running job. */
export function liveFigures(job: ListedJob, slots: readonly Slot[] | undefined, now: number): string {
  if (slots === undefined) return '<p><small>statistics unavailable: Redis cannot be read</small></p>';
  const figures = figuresNow(slots, now);
  const ms = (value: number | undefined): string => (value === undefined ? '-' : `${shortNumber(value)} ms`);
  const figure = (name: string, label: string, value: string): string =>
    `<div class="figure"><small>${label}</small><b data-figure="${name}">${value}</b></div>`;
  return `<div class="figures">${[
    figure('rate', 'requests/s', shortNumber(figures.rate)),
    figure('p50', 'p50 (1 min)', ms(figures.p50)),
    figure('p99', 'p99 (1 min)', ms(figures.p99)),
    figure('queued', 'queued', formatFigure(job.queued)),
    figure('errors', 'errors (30 min)', String(figures.errors)),
  ].join('')}</div><div class="charts">${jobCharts(jobSeries(slots, now))}</div>`;
}

/**
 * Fields of the listed job this page does not know by name (a newer supervisor's, such as the
 * state of its Redis), shown as they are rather than hidden.
 */
export function extraFields(job: ListedJob): [string, unknown][] {
  const known = new Set(Object.keys(listedJobSchema.shape));
  return Object.entries(job).filter(([key]) => !known.has(key));
}

/** The managed Redis of a job when it is not simply up: a job whose Redis restarts answers nothing meanwhile. */
export function redisNote(job: ListedJob): string {
  if (job.redisState === 'up' || job.redisState === undefined) return '';
  const restarts = job.redisRestarts === null ? '' : `, ${job.redisRestarts} restarts`;
  return `Redis ${job.redisState}${restarts}`;
}

function card(job: ListedJob, context: PageContext): string {
  const extra = [
    redisNote(job),
    ...extraFields(job).map(
      ([key, value]) =>
        `${escapeHtml(key)}: ${escapeHtml(typeof value === 'string' ? value : JSON.stringify(value))}`,
    ),
  ]
    .filter((part) => part !== '')
    .join(' · ');
  return `<section class="card" data-job="${escapeHtml(job.id)}"><h2><a href="/jobs/${encodeURIComponent(job.id)}">${cutName(job.name)}</a> ${stateBadge(job.state)}${extra === '' ? '' : ` <small>${extra}</small>`}</h2>${liveFigures(job, context.slots?.get(job.id), context.now.getTime())}${actionButtons(job, context.token)}</section>`;
}

/** The page frame every dashboard page shares: styles, the refresh, the page's own script. */
export function layout(title: string, body: string, context: PageContext): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<noscript><meta http-equiv="refresh" content="${REFRESH_SECONDS}"></noscript>
<title>${escapeHtml(title)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #1f2328; }
h1 { font-size: 1.5em; margin: 0 0 .2em; } h2 { font-size: 1.15em; margin: 1.2em 0 .5em; } .card h2 { margin-top: 0; }
h3 { font-size: 1em; margin: 1em 0 .3em; }
a { color: #0969da; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; }
th, td { padding: 6px 10px; border-bottom: 1px solid #d0d7de; text-align: left; vertical-align: top; }
td:nth-child(n+4):nth-child(-n+7) { text-align: right; font-variant-numeric: tabular-nums; }
tr.error td { color: #cf222e; border-bottom: 1px solid #d0d7de; }
small { color: #57606a; }
.cut { display: inline-block; max-width: 16em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; vertical-align: bottom; }
h2 .cut { max-width: min(30em, 70vw); }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 12px 16px; margin: 0 0 1em; }
.figures { display: flex; flex-wrap: wrap; gap: 8px 24px; margin-bottom: .5em; }
.figure small { display: block; } .figure b { font-size: 1.4em; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.chart { margin: 0; flex: 1 1 240px; max-width: 420px; }
.chart svg { width: 100%; height: 64px; background: #f6f8fa; display: block; }
.chart figcaption { font-size: .9em; }
.actions { display: flex; gap: 8px; margin-top: .5em; } .actions form { margin: 0; }
button { font: inherit; padding: 4px 12px; border: 1px solid #d0d7de; border-radius: 6px; background: #f6f8fa; cursor: pointer; }
button[data-action="cancel"] { color: #cf222e; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; font-size: 12px; max-height: 24em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; } dd { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 640px) { body { margin: .6em; } .chart { flex-basis: 100%; max-width: none; } th, td { padding: 4px 6px; } }
</style>
</head>
<body>
<div id="live">
${body}
<p><small>home ${escapeHtml(context.home)} · ${escapeHtml(context.now.toISOString())} · refreshed every ${REFRESH_SECONDS} s · <a href="/api/jobs">JSON</a></small></p>
</div>
<script src="/dashboard.js"></script>
</body>
</html>
`;
}

/** The whole overview for `jobs` (running ones first, then the ended ones, as `list --all`). */
export function renderDashboardPage(jobs: readonly ListedJob[], context: PageContext): string {
  const table =
    jobs.length === 0
      ? '<p>No job has run in this home yet. Start one with <code>cluster-serving start</code>.</p>'
      : `<div class="scroll"><table><thead><tr>${HEADERS.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${jobs.map(row).join('')}</tbody></table></div>`;
  const cards = jobs.filter((job) => isActiveState(job.state)).map((job) => card(job, context));
  return layout('cluster-serving', `<h1>cluster-serving</h1>${cards.join('')}${table}`, context);
}
