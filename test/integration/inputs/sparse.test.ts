import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../../src/redis/keys.js';
import { writeModel } from '../../fixtures/onnx-models.js';
import {
  ipcBase64,
  pythonTensorRows,
  tensorColumn,
  type TensorRow,
} from '../../unit/protocol/arrow-oracle.js';
import { InputHarness, post, predictions, predictionTensors, type ServedJob } from './input-harness.js';

describe('sparse inputs', () => {
  let harness: InputHarness;
  let dense: ServedJob;
  let batched: ServedJob;

  beforeAll(async () => {
    harness = await InputHarness.create();
    const identity = await writeModel(harness.dir, 'identity');
    dense = await harness.serve('sparse', identity);
    batched = await harness.serve('sparse_batched', identity, { inputAlreadyBatched: true });
  });

  afterAll(async () => {
    await harness.close();
  });

  /** Writes a BigDL entry (a tensor column "x" from these rows) as BigDL's Python client does, and waits for its result. */
  async function bigdl(job: ServedJob, rows: TensorRow[]): ReturnType<ServedJob['result']> {
    const uri = randomUUID();
    const data = ipcBase64({ x: tensorColumn(rows) });
    await harness.redis.client().xadd(keys.stream(job.name), '*', 'uri', uri, 'data', data);
    return job.result(uri);
  }

  it("BigDL's COO struct, four rows as the Python client writes it, becomes the dense tensor", async () => {
    const result = await bigdl(dense, pythonTensorRows([7, 9], [5], [1, 3], [1, 2]));
    expect(result.status).toBe('tensors');
    if (result.status !== 'tensors') return;
    expect(result.outputs['output0']?.shape).toEqual([1, 5]);
    expect(Array.from(result.outputs['output0']?.data as Float32Array)).toEqual([0, 7, 0, 9, 0]);
  });

  it('a 2-D COO struct in one row: coordinates of dim 0, then of dim 1', async () => {
    const rows = [{ indiceData: [0, 1, 2, 0], indiceShape: [2, 2], data: [4, 5], shape: [2, 3] }];
    const result = await bigdl(batched, rows);
    if (result.status !== 'tensors') throw new Error(JSON.stringify(result));
    expect(result.outputs['output0']?.shape).toEqual([2, 3]);
    expect(Array.from(result.outputs['output0']?.data as Float32Array)).toEqual([0, 0, 4, 5, 0, 0]);
  });

  it('/predict sparse objects', async () => {
    const answer = await post(`${dense.http.url}/predict`, {
      instances: [{ x: { shape: [4], data: [1.5, -2], indices: [[3, 0]] } }, { x: [1, 2, 3, 4] }],
    });
    expect(answer.status).toBe(200);
    const values = predictions(answer).map((element) => predictionTensors(element)[0]);
    expect(values).toEqual([
      { data: [-2, 0, 0, 1.5], shape: [4] },
      { data: [1, 2, 3, 4], shape: [4] },
    ]);
  });

  it('inconsistent sizes or out-of-range coordinates fail that record alone', async () => {
    const outOfRange = await bigdl(dense, pythonTensorRows([7], [3], [3], [1, 1]));
    expect(outOfRange).toMatchObject({ status: 'error', code: 'CS_ERR_INPUT_DECODE' });
    if (outOfRange.status === 'error')
      expect(outOfRange.message).toContain('out of range for dim 0 (size 3)');
    const inconsistent = await bigdl(dense, pythonTensorRows([7, 8], [3], [0, 1], [1, 3]));
    expect(inconsistent).toMatchObject({ status: 'error', code: 'CS_ERR_INPUT_DECODE' });
    if (inconsistent.status === 'error') expect(inconsistent.message).toContain('does not match');
    const fine = await bigdl(dense, pythonTensorRows([7], [3], [2], [1, 1]));
    expect(fine.status).toBe('tensors');

    const viaPredict = await post(`${dense.http.url}/predict`, {
      instances: [{ x: { shape: [2], data: [1], indices: [[2]] } }],
    });
    expect(viaPredict.status).toBe(400);
    expect(String(viaPredict.body['error'])).toContain('out of range for dim 0 (size 2)');
    const ragged = await post(`${dense.http.url}/predict`, {
      instances: [{ x: { shape: [2, 2], data: [1, 2], indices: [[0, 1]] } }],
    });
    expect(ragged.status).toBe(400);
    expect(String(ragged.body['error'])).toContain('one row of coordinates per dim');
  });
});
