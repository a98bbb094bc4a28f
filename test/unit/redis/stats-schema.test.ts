import { describe, expect, it } from 'vitest';
import {
  decodeSlot,
  decodeTotals,
  LATENCY_BUCKETS_MS,
  latencyBucket,
  percentile,
  SLOT_FIELDS,
  TOTAL_FIELDS,
} from '../../../src/redis/stats-schema.js';
import { batchStatistics } from '../../../src/worker/batch-statistics.js';

describe('statistics schema', () => {
  it('puts a latency in the first bucket whose bound holds it', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(0.5)).toBe(0);
    expect(latencyBucket(0.6)).toBe(1);
    expect(LATENCY_BUCKETS_MS[latencyBucket(12)]).toBe(15);
    expect(latencyBucket(1e9)).toBe(LATENCY_BUCKETS_MS.length - 1);
  });

  it('estimates percentiles inside the bucket that holds them', () => {
    const histogram = LATENCY_BUCKETS_MS.map(() => 0);
    histogram[latencyBucket(10)] = 99; // (7, 10]
    histogram[latencyBucket(400)] = 1; // (300, 500]
    const p50 = percentile(histogram, 0.5) ?? NaN;
    expect(p50).toBeGreaterThan(7);
    expect(p50).toBeLessThanOrEqual(10);
    expect(percentile(histogram, 0.995)).toBeGreaterThan(300);
    expect(
      percentile(
        LATENCY_BUCKETS_MS.map(() => 0),
        0.5,
      ),
    ).toBeUndefined();
  });

  it('reads back what a batch writes, in Triton terms', () => {
    const readAt = 1_000_000;
    const stats = batchStatistics({
      readAt,
      answeredAt: readAt + 20,
      answers: [
        { id: `${readAt - 5}-0`, ok: true },
        { id: `${readAt - 5}-1`, ok: true },
        { id: `${readAt}-0`, ok: false },
      ],
      runSizes: [2],
      runMs: [4],
      decodeMs: 1,
      encodeMs: 0.5,
    });
    const hash = Object.fromEntries([...stats.totals].map(([k, v]) => [k, String(v)]));
    hash[TOTAL_FIELDS.batches] = '1';
    hash[TOTAL_FIELDS.batchSize(2)] = '1';
    const totals = decodeTotals(hash);
    expect(totals.inferenceCount).toBe(2);
    expect(totals.stats.success).toEqual({ count: 2, ns: 2 * 25e6 });
    expect(totals.stats.fail).toEqual({ count: 1, ns: 20e6 });
    expect(totals.stats.queue).toEqual({ count: 3, ns: 2 * 5e6 });
    expect(totals.stats.compute_infer).toEqual({ count: 2, ns: 2 * 4e6 });
    expect(totals.batches.get(2)).toEqual({ count: 1, ns: 4e6 });
    expect(stats.lastInference).toBe(readAt + 20);

    const slot = decodeSlot(0, Object.fromEntries([...stats.slot].map(([k, v]) => [k, String(v)])));
    expect(slot.workerOk).toBe(2);
    expect(slot.workerFail).toBe(1);
    expect(slot.queue).toBeUndefined();
    expect(slot.workerLatency[latencyBucket(25)]).toBe(2);
    expect(slot.workerLatency[latencyBucket(20)]).toBe(1);
    expect(decodeSlot(0, { [SLOT_FIELDS.queue]: '7' }).queue).toBe(7);
  });

  it('reads garbage fields as zero, not NaN', () => {
    const totals = decodeTotals({ [TOTAL_FIELDS.count('success')]: 'x' });
    expect(totals.inferenceCount).toBe(0);
  });
});
