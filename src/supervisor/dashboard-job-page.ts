import { formatFigure, formatUptime, workersCell } from './job-format.js';
import type { JobDetail } from './job-detail.js';
import type { ListedJob } from './job-record.js';
import {
  actionButtons,
  cutName,
  escapeHtml,
  extraFields,
  isActiveState,
  layout,
  liveFigures,
  stateBadge,
  type PageContext,
} from './dashboard-page.js';

/** Fields `list --json` has that this page does not know by name (another version's): shown as they are. */
function otherFields(job: ListedJob): string {
  return extraFields(job)
    .map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(JSON.stringify(value))}</dd>`)
    .join('');
}

function workersTable(detail: JobDetail): string {
  if (detail.workers.length === 0) return '<p><small>no worker</small></p>';
  const rows = detail.workers.map((w) => {
    const age = w.heartbeatAgeMs === null ? 'none' : `${(w.heartbeatAgeMs / 1000).toFixed(1)} s ago`;
    return `<tr><td>${cutName(w.host)}</td><td>${cutName(w.consumer)}</td><td>${w.pid ?? '-'}</td><td>${escapeHtml(w.state)}</td><td>${age}</td><td>${w.restarts ?? '-'}</td></tr>`;
  });
  return `<div class="scroll"><table><thead><tr><th>host</th><th>worker</th><th>pid</th><th>state</th><th>heartbeat</th><th>restarts</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

/** The page of one job: live figures, config as loaded, workers by host, last errors, log tails. */
export function renderJobPage(detail: JobDetail, context: PageContext): string {
  const { job } = detail;
  const summary = `<dl>
<dt>id</dt><dd>${escapeHtml(job.id)}</dd>
<dt>workers</dt><dd>${escapeHtml(workersCell(job))}</dd>
<dt>restarts</dt><dd>${job.restarts}</dd>
<dt>Redis</dt><dd>${escapeHtml(job.redisState)}${job.redisRestarts === null ? '' : ` (${job.redisRestarts} restarts)`}</dd>
<dt>processed</dt><dd>${formatFigure(job.processed)}</dd>
<dt>queued</dt><dd>${formatFigure(job.queued)}</dd>
<dt>in flight</dt><dd>${formatFigure(job.inFlight)}</dd>
<dt>requests queued</dt><dd>${formatFigure(job.queuedRequests)}</dd>
<dt>uptime</dt><dd>${formatUptime(job.uptimeSeconds)}</dd>
<dt>model</dt><dd>${escapeHtml(job.model)}</dd>
<dt>Redis</dt><dd>${escapeHtml(job.redis)}${job.redisManaged ? ' (managed)' : ''}</dd>
<dt>HTTP</dt><dd>${job.http === null ? '–' : `<a href="${escapeHtml(job.http)}/v2/models/${escapeHtml(job.name)}/stats">${escapeHtml(job.http)}</a>`}</dd>
<dt>config file</dt><dd>${escapeHtml(job.configPath)}</dd>
${otherFields(job)}
</dl>`;
  const live = isActiveState(job.state) ? liveFigures(job, detail.slots, context.now.getTime()) : '';
  const errors =
    detail.errors.length === 0
      ? '<p><small>none</small></p>'
      : `<pre class="errors">${detail.errors.map(escapeHtml).join('\n')}</pre>`;
  const config =
    detail.config === undefined
      ? '<p><small>not held by this supervisor (the job ran before it started); see the config file</small></p>'
      : `<pre>${escapeHtml(JSON.stringify(detail.config, null, 2))}</pre>`;
  const logs = detail.logs
    .map(
      (log) =>
        `<h3>${escapeHtml(log.name)}</h3><pre>${log.lines.map(escapeHtml).join('\n') || '(empty)'}</pre>`,
    )
    .join('');
  const body = `<p><a href="/">← all jobs</a></p>
<h1>${cutName(job.name)} ${stateBadge(job.state)}</h1>
${actionButtons(job, context.token)}
${live}
${summary}
<h2>workers by host</h2>${workersTable(detail)}
<h2>last errors</h2>${errors}
<h2>config as loaded</h2>${config}
<h2>logs</h2>${logs}`;
  return layout(`${job.name} · cluster-serving`, body, context);
}
