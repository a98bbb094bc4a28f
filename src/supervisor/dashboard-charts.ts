/**
 * The dashboard's live figures: what the shared statistics slots (src/redis/stats-schema.ts)
 * say about the last 30 minutes of a job, as numbers and as small SVG charts drawn here, so
 * the page needs nothing from elsewhere.
 */
import { LATENCY_BUCKETS_MS, percentile, SLOT_MS, type Slot } from '../redis/stats-schema.js';

/** Series over the slots, oldest first; null where a slot has nothing to say. */
export interface JobSeries {
  readonly rate: (number | null)[];
  readonly p50: (number | null)[];
  readonly p99: (number | null)[];
  readonly queue: (number | null)[];
  readonly workerErrors: (number | null)[];
  readonly httpErrors: (number | null)[];
}

/** The figures printed above the charts. */
export interface JobFiguresNow {
  /** Records answered per second over the last 10 seconds. */
  readonly rate: number;
  /** Enqueue-to-result latency over the last minute, ms. */
  readonly p50: number | undefined;
  readonly p99: number | undefined;
  /** Errors (worker answers and HTTP refusals) over the 30 minutes. */
  readonly errors: number;
}

function merged(slots: readonly Slot[]): number[] {
  const sum = LATENCY_BUCKETS_MS.map(() => 0);
  for (const slot of slots) slot.workerLatency.forEach((n, i) => (sum[i] = (sum[i] ?? 0) + n));
  return sum;
}

/** Seconds of `slot` that have passed at `now` (a whole slot once it is over). */
function elapsedSeconds(slot: Slot, now: number): number {
  return Math.min(SLOT_MS, Math.max(1000, now - slot.start)) / 1000;
}

export function jobSeries(slots: readonly Slot[], now: number): JobSeries {
  return {
    rate: slots.map((s) => (s.workerOk + s.workerFail) / elapsedSeconds(s, now)),
    p50: slots.map((s) => percentile(s.workerLatency, 0.5) ?? null),
    p99: slots.map((s) => percentile(s.workerLatency, 0.99) ?? null),
    queue: slots.map((s) => s.queue ?? null),
    workerErrors: slots.map((s) => s.workerFail),
    httpErrors: slots.map((s) => s.frontendErrors),
  };
}

export function figuresNow(slots: readonly Slot[], now: number): JobFiguresNow {
  // The current slot has only just begun: the last 10 seconds are it plus the end of the one before.
  const current = slots[slots.length - 1];
  const previous = slots[slots.length - 2];
  let rate = 0;
  if (current !== undefined) {
    const into = Math.min(SLOT_MS, Math.max(0, now - current.start));
    const before =
      previous === undefined ? 0 : ((previous.workerOk + previous.workerFail) * (SLOT_MS - into)) / SLOT_MS;
    rate = (current.workerOk + current.workerFail + before) / (SLOT_MS / 1000);
  }
  const minute = merged(slots.slice(-7));
  return {
    rate,
    p50: percentile(minute, 0.5),
    p99: percentile(minute, 0.99),
    errors: slots.reduce((n, s) => n + s.workerFail + s.frontendErrors, 0),
  };
}

/** A number as a short label: 1234 → 1.2k, 0.456 → 0.46. */
export function shortNumber(value: number): string {
  if (!Number.isFinite(value)) return '-';
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${Math.round(value / 1e3)}k`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  if (abs >= 100 || Number.isInteger(value)) return String(Math.round(value));
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export interface ChartLine {
  readonly values: readonly (number | null)[];
  readonly colour: string;
  readonly label: string;
}

const WIDTH = 240;
const HEIGHT = 56;

/**
 * A small line chart: lines over the same slots, scaled to their common maximum (labelled),
 * broken where a value is missing. Text is escaped by the caller's labels being plain words.
 */
export function lineChart(title: string, unit: string, lines: readonly ChartLine[]): string {
  const all = lines.flatMap((line) => line.values.filter((v): v is number => v !== null));
  const max = Math.max(0, ...all);
  const scale = max > 0 ? max : 1;
  const count = Math.max(2, ...lines.map((line) => line.values.length));
  const x = (i: number): string => ((i / (count - 1)) * WIDTH).toFixed(1);
  const y = (v: number): string => (HEIGHT - 2 - (v / scale) * (HEIGHT - 4)).toFixed(1);
  const paths = lines.map((line) => {
    let d = '';
    let dots = '';
    line.values.forEach((v, i) => {
      if (v === null) return;
      const joined = i > 0 && line.values[i - 1] !== null && line.values[i - 1] !== undefined;
      d += `${joined ? 'L' : 'M'}${x(i)} ${y(v)}`;
      // A value with no neighbour would draw nothing as a line: a dot shows it.
      const next = line.values[i + 1];
      if (!joined && (next === null || next === undefined))
        dots += `<circle cx="${x(i)}" cy="${y(v)}" r="2" fill="${line.colour}"/>`;
    });
    return `<path d="${d}" fill="none" stroke="${line.colour}" stroke-width="1.5"/>${dots}`;
  });
  const legend = lines.map((line) => `<span style="color:${line.colour}">${line.label}</span>`).join(' ');
  return `<figure class="chart"><figcaption>${title} <small>${legend} · max ${shortNumber(max)} ${unit} · 30 min</small></figcaption><svg viewBox="0 0 ${WIDTH} ${HEIGHT}" preserveAspectRatio="none" role="img" aria-label="${title}"><line x1="0" y1="${HEIGHT - 1}" x2="${WIDTH}" y2="${HEIGHT - 1}" stroke="#d0d7de"/>${paths.join('')}</svg></figure>`;
}

/** The four charts of a job. */
export function jobCharts(series: JobSeries): string {
  return [
    lineChart('requests/s', 'req/s', [{ values: series.rate, colour: '#0969da', label: 'answered' }]),
    lineChart('latency', 'ms', [
      { values: series.p50, colour: '#1a7f37', label: 'p50' },
      { values: series.p99, colour: '#9a6700', label: 'p99' },
    ]),
    lineChart('queue depth', 'entries', [{ values: series.queue, colour: '#8250df', label: 'queued' }]),
    lineChart('errors', 'per 10 s', [
      { values: series.workerErrors, colour: '#cf222e', label: 'worker' },
      { values: series.httpErrors, colour: '#bc4c00', label: 'HTTP' },
    ]),
  ].join('');
}
