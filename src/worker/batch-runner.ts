import { CsError, reasonOf, type ErrorCode } from '../errors/registry.js';
import { concatBatch, splitBatch } from '../batching/concat.js';
import { planRuns } from '../batching/plan.js';
import { shapeKey } from '../batching/shape-key.js';
import type { NamedTensor, Tensor } from '../protocol/tensor.js';
import type { Model } from './model-session.js';
import type { ReadyRecord } from './record-decoder.js';

export type RunOutcome =
  | { readonly ok: true; readonly outputs: NamedTensor[] }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

export interface RunReport {
  readonly outcomes: Map<ReadyRecord, RunOutcome>;
  /** Rows per session.run, for the batch-size counters. */
  readonly runSizes: number[];
  /** Compute time of each run, in the order of runSizes. */
  readonly runMs: number[];
  readonly computeMs: number;
}

/**
 * Runs ready records in as few session.run calls as shapes allow (at most maxBatchSize rows
 * each). A run that fails with several records is retried one record at a time, so a bad
 * record fails alone and its neighbours are answered.
 */
export async function runRecords(
  model: Model,
  records: readonly ReadyRecord[],
  maxBatchSize: number,
  /** Told once every run of these records has been asked for (see Model.queuesRuns). */
  submitted: () => void = () => undefined,
): Promise<RunReport> {
  const outcomes = new Map<ReadyRecord, RunOutcome>();
  const runSizes: number[] = [];
  const runMs: number[] = [];
  let computeMs = 0;
  const maxRows = model.metadata.batchable ? maxBatchSize : 1;
  // A record with a scalar input has no dim to stack along: it runs alone.
  const keyOf = (record: ReadyRecord): string => {
    try {
      return shapeKey(record.inputs);
    } catch {
      return `alone:${records.indexOf(record)}`;
    }
  };
  const runs = planRuns(
    records.map((record) => ({ record, rows: record.rows })),
    keyOf,
    maxRows,
  );

  // A model that lets go of its inputs after a run has stacked batches written into its own buffers.
  const inputBuffer = model.inputBuffer?.bind(model);
  const runGroup = async (group: readonly ReadyRecord[]): Promise<void> => {
    try {
      const inputs: Tensor[] =
        group.length === 1
          ? (group[0] as ReadyRecord).inputs
          : model.metadata.inputs.map((_, i) =>
              concatBatch(
                group.map((r) => r.inputs[i] as Tensor),
                inputBuffer === undefined ? undefined : (type, length) => inputBuffer(i, type, length),
              ),
            );
      // A group of several was stacked into new tensors here; a single record's may share memory.
      const run = await model.run(inputs, group.length > 1);
      const outputs = run.outputs;
      computeMs += run.computeMs;
      runSizes.push(group.reduce((n, r) => n + r.rows, 0));
      runMs.push(run.computeMs);
      if (group.length === 1) {
        outcomes.set(group[0] as ReadyRecord, { ok: true, outputs });
        return;
      }
      const sizes = group.map((r) => r.rows);
      const total = sizes.reduce((a, b) => a + b, 0);
      const perOutput = outputs.map((output) => {
        if (output.shape[0] !== total) {
          throw new CsError(
            'CS_ERR_INFERENCE_FAILED',
            `output "${output.name}" does not carry the batch dimension`,
          );
        }
        return splitBatch(output, sizes).map((part) => ({ ...part, name: output.name }));
      });
      group.forEach((record, r) => {
        outcomes.set(record, { ok: true, outputs: perOutput.map((parts) => parts[r] as NamedTensor) });
      });
    } catch (error) {
      if (group.length > 1) {
        for (const record of group) await runGroup([record]);
        return;
      }
      const code = error instanceof CsError ? error.code : 'CS_ERR_INFERENCE_FAILED';
      outcomes.set(group[0] as ReadyRecord, {
        ok: false,
        code,
        message: `inference failed: ${reasonOf(error)}`,
      });
    }
  };

  if (model.queuesRuns === true) {
    // Every run is asked for at once; the model does them in order, and the batch behind may
    // queue its runs right after these instead of waiting for them to finish.
    const all = Promise.all(runs.map(runGroup));
    submitted();
    await all;
  } else {
    // One at a time: a model in this thread writes stacked batches into buffers it reuses.
    for (const group of runs) await runGroup(group);
    submitted();
  }
  return { outcomes, runSizes, runMs, computeMs };
}
