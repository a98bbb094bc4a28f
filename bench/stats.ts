/** Small helpers shared by the benchmark scripts: percentiles and a fixed-width table. */
export interface Figures {
  readonly label: string;
  readonly concurrency: number;
  readonly requests: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly perSecond: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** The middle value; the mean of the two middle ones for an even count. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[mid] as number;
  return ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function summarise(label: string, concurrency: number, latencies: number[], seconds: number): Figures {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    label,
    concurrency,
    requests: latencies.length,
    seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    perSecond: latencies.length / seconds,
  };
}

/** Runs `task` from `concurrency` loops until `total` calls are done; returns each call's latency (ms) and the wall time (s). */
export async function drive(
  concurrency: number,
  total: number,
  task: (i: number) => Promise<unknown>,
): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const loop = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      await task(i);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

export function printTable(rows: readonly Figures[]): void {
  const header = ['path', 'conc', 'requests', 'p50 ms', 'p99 ms', 'per s'];
  const lines = rows.map((r) => [
    r.label,
    String(r.concurrency),
    String(r.requests),
    r.p50Ms.toFixed(3),
    r.p99Ms.toFixed(3),
    r.perSecond.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const fmt = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ');
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
}
