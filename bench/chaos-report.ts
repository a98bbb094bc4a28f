import type { ChaosReport } from './chaos-run.js';

/** RSS a worker may keep above its baseline at the end of the run. */
export const RSS_MARGIN_MB = 200;

/** The closing figures, one per line. */
export function formatReport(report: ChaosReport): string {
  const sent = report.sent.client + report.sent.enqueue + report.sent.http;
  const errors = Object.entries(report.errors)
    .sort(([, a], [, b]) => b - a)
    .map(([code, n]) => `  ${code}: ${n}`);
  return [
    `chaos run of ${report.seconds} s, redisPersistence ${report.redisPersistence}`,
    ...report.actions.map((a) => `  ${a}`),
    `sent: ${sent} (client predict ${report.sent.client}, client enqueue ${report.sent.enqueue}, HTTP ${report.sent.http})`,
    `answered: ${report.answered} predictions; enqueued: ${report.enqueued} (each checked for its result)`,
    `errors by code:${errors.length === 0 ? ' none' : ''}`,
    ...errors,
    `uncoded errors: ${report.uncoded}`,
    `outcome unknown (client predict): ${report.unknownRan} ran after all, ${report.unknownNeverRan} never ran`,
    `lost (accepted, never answered): ${report.lost.length}${list(report.lost)}`,
    `answered twice: ${report.answeredTwice.length}${list(report.answeredTwice)}`,
    `stranded in the stream after the drain: ${report.stranded}`,
    ...report.rss.map((r) => `worker ${r.slot} RSS: ${r.baselineMb} MB at start, ${r.endMb} MB at the end`),
  ].join('\n');
}

/** Which targets the run missed (empty: all met). */
export function targetsMissed(report: ChaosReport): string[] {
  const missed: string[] = [];
  if (report.lost.length > 0) missed.push(`${report.lost.length} lost`);
  if (report.answeredTwice.length > 0) missed.push(`${report.answeredTwice.length} answered twice`);
  if (report.uncoded > 0) missed.push(`${report.uncoded} uncoded errors`);
  if (report.stranded !== 0) missed.push(`${report.stranded} entries stranded`);
  for (const r of report.rss) {
    if (r.endMb > r.baselineMb + RSS_MARGIN_MB) missed.push(`worker ${r.slot} RSS ${r.endMb} MB`);
  }
  return missed;
}

function list(items: readonly string[]): string {
  return items.length === 0 ? '' : ` (${items.slice(0, 5).join(', ')}${items.length > 5 ? ', ...' : ''})`;
}
