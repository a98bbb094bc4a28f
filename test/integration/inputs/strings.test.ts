import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeModel } from '../../fixtures/onnx-models.js';
import {
  InputHarness,
  oipOutputs,
  post,
  predictions,
  predictionTensors,
  rejection,
  tensors,
  type ServedJob,
} from './input-harness.js';
import { writeInputModel } from './input-models.js';

describe('string inputs', () => {
  let harness: InputHarness;
  let identity: ServedJob;
  let words: ServedJob;

  beforeAll(async () => {
    harness = await InputHarness.create();
    identity = await harness.serve('strings', await writeModel(harness.dir, 'string-identity'));
    // text BYTES [N,K] → ids FP32 [N,K]: cat 1, dog 2, anything else −1.
    words = await harness.serve('words', await writeInputModel(harness.dir, 'words'));
  });

  afterAll(async () => {
    await harness.close();
  });

  it('our client: a BYTES tensor reaches the string model as is, "|" and non-ASCII included', async () => {
    const sent = ['a', 'b|c', 'grüße ✓', ''];
    const out = tensors(await identity.client.predict({ text: { data: sent, shape: [4], type: 'BYTES' } }));
    expect(out['out']).toEqual({ type: 'BYTES', shape: [4], data: sent });
  });

  it("BigDL's Arrow string column: split on | into one row of strings", async () => {
    const out = tensors(await words.bigdl.predict({ text: { data: ['cat|dog|bird'], shape: [1] } }));
    expect(out['output0']?.shape).toEqual([1, 3]);
    expect(Array.from(out['output0']?.data as Float32Array)).toEqual([1, 2, -1]);
  });

  it('/predict string values: the same split, one instance per row', async () => {
    const answer = await post(`${words.http.url}/predict`, {
      instances: [{ text: 'dog|cat' }, { text: 'cat|fish' }],
    });
    expect(answer.status).toBe(200);
    const values = predictions(answer).map((element) => predictionTensors(element)[0]);
    expect(values).toEqual([
      { data: [2, 1], shape: [2] },
      { data: [1, -1], shape: [2] },
    ]);
  });

  it('for a rank-1 string input the split strings are its rows, on the Arrow path and /predict', async () => {
    const rows = await harness.serve('word_rows', await writeInputModel(harness.dir, 'words-rows'));
    const out = tensors(await rows.bigdl.predict({ text: { data: ['dog|x|cat'], shape: [1] } }));
    expect(out['output0']?.shape).toEqual([3]);
    expect(Array.from(out['output0']?.data as Float32Array)).toEqual([2, -1, 1]);
    const answer = await post(`${rows.http.url}/predict`, { instances: [{ text: 'cat|cat' }] });
    expect(answer.status).toBe(200);
    expect(predictionTensors(predictions(answer)[0])[0]?.data).toEqual([1, 1]);
  });

  it('OIP BYTES inputs', async () => {
    const answer = await post(`${words.http.url}/v2/models/words/infer`, {
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [2, 2], data: ['cat', 'dog', 'dog', 'owl'] }],
    });
    expect(answer.status).toBe(200);
    expect(oipOutputs(answer)[0]).toMatchObject({
      name: 'ids',
      datatype: 'FP32',
      shape: [2, 2],
      data: [1, 2, 2, -1],
    });
    const strings = await post(`${identity.http.url}/v2/models/strings/infer`, {
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [2], data: ['p|q', 'r'] }],
    });
    expect(oipOutputs(strings)[0]).toMatchObject({ datatype: 'BYTES', shape: [2], data: ['p|q', 'r'] });
  });

  it('numbers for a string input, and strings where BigDL expects numbers, are clear errors', async () => {
    const numbers = await rejection(
      words.client.predict({ text: { data: new Float32Array([1, 2]), shape: [1, 2] } }),
    );
    expect(numbers.code).toBe('CS_ERR_INPUT_MISMATCH');
    expect(numbers.message).toContain('cannot cast FP32 to BYTES');
    const viaPredict = await post(`${words.http.url}/predict`, { instances: [{ text: [1, 2] }] });
    expect(viaPredict.status).toBe(400);
    // BigDL's result form holds numbers only: a string output on the BigDL path is that record's error.
    const stringOut = await rejection(identity.bigdl.predict({ text: { data: ['a|b'], shape: [1] } }));
    expect(stringOut.message).toContain("BigDL's result form holds only numbers");
  });
});
