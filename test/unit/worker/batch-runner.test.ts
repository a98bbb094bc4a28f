import { describe, expect, it } from 'vitest';
import type { ModelMetadata } from '../../../src/protocol/model-metadata.js';
import type { Tensor } from '../../../src/protocol/tensor.js';
import { runRecords } from '../../../src/worker/batch-runner.js';
import type { Model, ModelRun } from '../../../src/worker/model-session.js';
import type { ReadyRecord } from '../../../src/worker/record-decoder.js';

const METADATA: ModelMetadata = {
  name: 'twice',
  platform: 'onnx_onnxv1',
  modelPath: 'twice.onnx',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, -1] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, -1] }],
  batchable: true,
  inputAlreadyBatched: false,
  maxBatchSize: 8,
  maxQueueLength: 0,
};

/** A model that doubles its input, whose runs finish when the test says so. */
class HeldModel implements Model {
  readonly metadata = METADATA;
  readonly asked: Tensor[][] = [];
  private readonly finishers: (() => void)[] = [];

  constructor(readonly queuesRuns: boolean) {}

  run(inputs: readonly Tensor[]): Promise<ModelRun> {
    this.asked.push([...inputs]);
    const [x] = inputs as [Tensor];
    const data = Float32Array.from(x.data as Float32Array, (v) => v * 2);
    return new Promise((resolve) => {
      this.finishers.push(() =>
        resolve({ outputs: [{ name: 'y', type: 'FP32', shape: [...x.shape], data }], computeMs: 1 }),
      );
    });
  }

  finishNext(): void {
    this.finishers.shift()?.();
  }

  async release(): Promise<void> {}
}

/** A record of `rows` rows of width `width` (records of another width cannot share a run). */
function record(uri: string, rows: number, width: number): ReadyRecord {
  const data = Float32Array.from({ length: rows * width }, (_, i) => i + uri.length);
  return {
    entry: { id: `0-${uri.length}`, fields: new Map(), deliveries: 1 },
    uri,
    reply: undefined,
    form: 'tensor',
    ok: true,
    inputs: [{ type: 'FP32', shape: [rows, width], data }],
    rows,
  };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('runRecords', () => {
  const records = [record('a', 1, 2), record('bb', 2, 3), record('ccc', 1, 2)];

  it('asks a model that queues runs for every run at once, says so, then answers each record', async () => {
    const model = new HeldModel(true);
    let submitted = 0;
    const report = runRecords(model, records, 8, () => (submitted += 1));
    await settle();
    // Both runs (width 2: a and ccc stacked; width 3: bb) are asked for before either is over.
    expect(model.asked.map((inputs) => inputs[0]?.shape)).toEqual([
      [2, 2],
      [2, 3],
    ]);
    expect(submitted).toBe(1);
    model.finishNext();
    model.finishNext();
    const { outcomes, runSizes, computeMs } = await report;
    expect(runSizes).toEqual([2, 2]);
    expect(computeMs).toBe(2);
    for (const r of records) {
      const outcome = outcomes.get(r);
      expect(outcome?.ok && Array.from(outcome.outputs[0]?.data as Float32Array)).toEqual(
        Array.from(r.inputs[0]?.data as Float32Array, (v) => v * 2),
      );
    }
  });

  it('runs one at a time on a model that does not queue, and says so once all are over', async () => {
    const model = new HeldModel(false);
    let submitted = 0;
    const report = runRecords(model, records, 8, () => (submitted += 1));
    await settle();
    expect(model.asked).toHaveLength(1);
    expect(submitted).toBe(0);
    model.finishNext();
    await settle();
    expect(model.asked).toHaveLength(2);
    expect(submitted).toBe(0);
    model.finishNext();
    await report;
    expect(submitted).toBe(1);
  });
});
