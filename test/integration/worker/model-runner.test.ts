import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelRunner as Runner } from '../../../src/worker/model-runner.js';
import { ModelSession } from '../../../src/worker/model-session.js';
import { mlpReference, writeModel } from '../../fixtures/onnx-models.js';

// The built module: its inference thread is built JavaScript, as the worker runs it.
const BUILT = '../../../dist/worker/model-runner.js';
const { ModelRunner } = (await import(BUILT)) as { ModelRunner: typeof Runner };

const LOAD = {
  job: 'runner',
  threads: 1,
  inputAlreadyBatched: false,
  maxBatchSize: 8,
  maxBatchDelayMs: 0,
  maxQueueLength: 0,
};

describe('ModelRunner (the model on the inference thread)', () => {
  let dir: string;
  let mlp: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cs-runner-'));
    mlp = await writeModel(dir, 'mlp');
  });

  it('gives the numbers of a session.run in this thread, copied or handed over', async () => {
    const lost: string[] = [];
    const runner = await ModelRunner.start({ ...LOAD, modelPath: mlp }, (reason) => lost.push(reason));
    const direct = await ModelSession.load({ ...LOAD, modelPath: mlp });
    expect(runner.metadata).toEqual(direct.metadata);
    const x = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i));
    const input = { type: 'FP32' as const, shape: [3, 4], data: x };
    const [mine] = (await runner.run([input])).outputs;
    const [theirs] = (await direct.run([input])).outputs;
    expect(Array.from(mine?.data as Float32Array)).toEqual(Array.from(theirs?.data as Float32Array));
    expectCloseTo(mine?.data as Float32Array, mlpReference(x, 3));
    // Handed over: the memory moves to the thread and is no longer readable here.
    const moved = { ...input, data: Float32Array.from(x) };
    const [again] = (await runner.run([moved], true)).outputs;
    expect(Array.from(again?.data as Float32Array)).toEqual(Array.from(mine?.data as Float32Array));
    expect(moved.data.length).toBe(0);
    await runner.release();
    await direct.release();
    await expect(runner.run([input])).rejects.toMatchObject({ code: 'CS_ERR_INTERNAL' });
    expect(lost).toEqual([]);
  });

  it('queues runs asked for before the one ahead is over, does them in order, and times each alone', async () => {
    // The slow CNN (about 11 ms a run), so that time spent waiting in the queue would show.
    const slow = await writeModel(dir, 'slow');
    const runner = await ModelRunner.start({ ...LOAD, modelPath: slow }, () => undefined);
    const direct = await ModelSession.load({ ...LOAD, modelPath: slow });
    expect(runner.queuesRuns).toBe(true);
    const inputs = [1, 2, 3, 4].map((seed) => ({
      type: 'FP32' as const,
      shape: [1, 3, 64, 64],
      data: Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.cos(i * seed) * 0.5),
    }));
    const order: number[] = [];
    const started = performance.now();
    const runs = await Promise.all(
      inputs.map((input, k) =>
        runner.run([input]).then((run) => {
          order.push(k);
          return run;
        }),
      ),
    );
    const elapsed = performance.now() - started;
    expect(order).toEqual([0, 1, 2, 3]);
    for (const [k, run] of runs.entries()) {
      const [want] = (await direct.run([inputs[k] as (typeof inputs)[number]])).outputs;
      expect(Array.from(run.outputs[0]?.data as Float32Array)).toEqual(
        Array.from(want?.data as Float32Array),
      );
      expect(run.computeMs).toBeGreaterThan(0);
    }
    // One after another on the thread, each timed from its own start, not from when it was asked
    // for: together they fit in the time the four took.
    expect(runs.reduce((sum, run) => sum + run.computeMs, 0)).toBeLessThanOrEqual(elapsed);
    await runner.release();
    await direct.release();
  });

  it('reports a model that does not load, and a run the model refuses, with their reasons', async () => {
    const broken = join(dir, 'broken.onnx');
    await writeFile(broken, Buffer.from('not an onnx model'));
    await expect(ModelRunner.start({ ...LOAD, modelPath: broken }, () => undefined)).rejects.toMatchObject({
      code: 'CS_ERR_MODEL_LOAD',
      message: expect.stringContaining(broken) as unknown,
    });
    const runner = await ModelRunner.start({ ...LOAD, modelPath: mlp }, () => undefined);
    const wrong = { type: 'FP32' as const, shape: [1, 5], data: new Float32Array(5) };
    await expect(runner.run([wrong])).rejects.toMatchObject({ code: 'CS_ERR_INFERENCE_FAILED' });
    // And it still runs afterwards.
    const [out] = (await runner.run([{ type: 'FP32', shape: [1, 4], data: new Float32Array(4) }])).outputs;
    expect(out?.shape).toEqual([1, 3]);
    await runner.release();
  });
});

function expectCloseTo(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
}
