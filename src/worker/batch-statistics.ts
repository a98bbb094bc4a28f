import { addTo, latencyBucket, msToNs, SLOT_FIELDS, TOTAL_FIELDS } from '../redis/stats-schema.js';
import { entryTime } from './stream-entry.js';

/** What one batch did, as the worker measured it. */
export interface BatchFacts {
  /** Epoch ms when the batch was read. */
  readonly readAt: number;
  /** Epoch ms when its answers were encoded (just before they are written). */
  readonly answeredAt: number;
  /** Stream ids of the answered records, with whether each answer is a success. */
  readonly answers: readonly { readonly id: string; readonly ok: boolean }[];
  /** Rows and compute time of each session.run. */
  readonly runSizes: readonly number[];
  readonly runMs: readonly number[];
  /** Time spent decoding the batch's inputs and encoding its answers. */
  readonly decodeMs: number;
  readonly encodeMs: number;
}

/**
 * The counters one batch adds to the job's totals and to the current slot
 * (stats-schema.ts). Compute durations are per request, as Triton counts them: every
 * record of a run adds that run's time.
 */
export function batchStatistics(facts: BatchFacts): {
  totals: Map<string, number>;
  slot: Map<string, number>;
  lastInference: number | undefined;
} {
  const totals = new Map<string, number>();
  const slot = new Map<string, number>();
  let succeeded = 0;
  for (const answer of facts.answers) {
    const enqueued = entryTime(answer.id);
    const latencyMs = Math.max(0, facts.answeredAt - enqueued);
    const stat = answer.ok ? 'success' : 'fail';
    addTo(totals, TOTAL_FIELDS.count(stat));
    addTo(totals, TOTAL_FIELDS.ns(stat), msToNs(latencyMs));
    addTo(totals, TOTAL_FIELDS.count('queue'));
    addTo(totals, TOTAL_FIELDS.ns('queue'), msToNs(Math.max(0, facts.readAt - enqueued)));
    addTo(slot, answer.ok ? SLOT_FIELDS.workerOk : SLOT_FIELDS.workerFail);
    addTo(slot, SLOT_FIELDS.latency('w', latencyBucket(latencyMs)));
    if (answer.ok) succeeded++;
  }
  const ran = facts.runSizes.reduce((sum, rows) => sum + rows, 0);
  facts.runSizes.forEach((rows, i) => {
    const ms = facts.runMs[i] ?? 0;
    addTo(totals, TOTAL_FIELDS.ns('compute_infer'), msToNs(ms) * rows);
    addTo(totals, TOTAL_FIELDS.batchNs(rows), msToNs(ms));
  });
  addTo(totals, TOTAL_FIELDS.count('compute_infer'), ran);
  addTo(totals, TOTAL_FIELDS.count('compute_input'), ran);
  addTo(totals, TOTAL_FIELDS.ns('compute_input'), msToNs(facts.decodeMs) * ran);
  addTo(totals, TOTAL_FIELDS.count('compute_output'), ran);
  addTo(totals, TOTAL_FIELDS.ns('compute_output'), msToNs(facts.encodeMs) * ran);
  return { totals, slot, lastInference: succeeded > 0 ? facts.answeredAt : undefined };
}
