import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TensorInput } from '../../../src/client/tensor-input.js';
import type { DataType, NumericArray } from '../../../src/protocol/tensor.js';
import { InputHarness, oipOutputs, post, rejection, tensors, type ServedJob } from './input-harness.js';
import { NUMERIC_TYPES, writeInputModel } from './input-models.js';

type NumericType = (typeof NUMERIC_TYPES)[number];

/** Two values per type at the edges of its range; FP16 as half bits (1.0 and 65504). */
const EDGES: Readonly<Record<NumericType, NumericArray>> = {
  BOOL: Uint8Array.of(1, 0),
  UINT8: Uint8Array.of(0, 255),
  UINT16: Uint16Array.of(0, 65535),
  UINT32: Uint32Array.of(0, 4294967295),
  UINT64: BigUint64Array.of(0n, 2n ** 64n - 1n),
  INT8: Int8Array.of(-128, 127),
  INT16: Int16Array.of(-32768, 32767),
  INT32: Int32Array.of(-(2 ** 31), 2 ** 31 - 1),
  INT64: BigInt64Array.of(-(2n ** 63n), 2n ** 53n + 1n),
  FP16: Uint16Array.of(0x3c00, 0x7bff),
  FP32: Float32Array.of(1.5, -3.25e-7),
  FP64: Float64Array.of(Math.PI, 1e300),
};

/** Every input of the all-numeric model holding `value` twice, as BigDL float32 samples. */
function floatSamples(value: (type: NumericType) => number): Record<string, TensorInput> {
  return Object.fromEntries(NUMERIC_TYPES.map((t) => [`x_${t}`, { data: [value(t), value(t)], shape: [2] }]));
}

describe('every datatype', () => {
  let harness: InputHarness;
  let job: ServedJob;

  beforeAll(async () => {
    harness = await InputHarness.create();
    job = await harness.serve('types', await writeInputModel(harness.dir, 'all-numeric'));
  });

  afterAll(async () => {
    await harness.close();
  });

  it('our client: each type reaches the model in its own type and comes back bit for bit', async () => {
    const inputs: Record<string, TensorInput> = {};
    for (const t of NUMERIC_TYPES) inputs[`x_${t}`] = { data: EDGES[t], shape: [1, 2], type: t };
    const out = tensors(await job.client.predict(inputs));
    for (const t of NUMERIC_TYPES) {
      const y = out[`y_${t}`];
      expect(y?.type, t).toBe(t);
      expect(y?.shape, t).toEqual([1, 2]);
      expect(Array.from(y?.data as ArrayLike<unknown>), t).toEqual(
        Array.from(EDGES[t] as ArrayLike<unknown>),
      );
    }
  });

  it('BigDL float32 samples are cast to each declared type; results come back float32', async () => {
    const out = tensors(await job.bigdl.predict(floatSamples((t) => (t === 'BOOL' ? 1 : 100))));
    const values = Object.values(out);
    expect(values).toHaveLength(NUMERIC_TYPES.length);
    for (const [i, t] of NUMERIC_TYPES.entries()) {
      const y = out[`output${i}`];
      expect(y?.type, t).toBe('FP32');
      expect(Array.from(y?.data as Float32Array), t).toEqual(t === 'BOOL' ? [1, 1] : [100, 100]);
    }
  });

  it('impossible casts are clear errors naming the input', async () => {
    const cases: [NumericType, number, string][] = [
      ['INT32', 1.5, 'value 1.5 at index 0 is not an integer'],
      ['INT8', 300, 'is out of range for INT8'],
      ['BOOL', 2, 'is not 0 or 1'],
      ['UINT64', -1, 'is out of range for UINT64'],
      ['FP16', 70000, 'out of range for FP16'],
    ];
    for (const [bad, value, reason] of cases) {
      const samples = floatSamples((t) => (t === bad ? value : t === 'BOOL' ? 0 : 1));
      const error = await rejection(job.bigdl.predict(samples));
      expect(error.code, bad).toBe('CS_ERR_INPUT_MISMATCH');
      expect(error.message, bad).toContain(`input "x_${bad}": cannot cast FP32 to ${bad}`);
      expect(error.message, bad).toContain(reason);
    }
  });

  it('OIP: every type in, the same type out; 64-bit integers as exact digits', async () => {
    const json: Record<NumericType, unknown[]> = {
      BOOL: [true, false],
      UINT8: [0, 255],
      UINT16: [0, 65535],
      UINT32: [0, 4294967295],
      UINT64: ['0', '18446744073709551615'],
      INT8: [-128, 127],
      INT16: [-32768, 32767],
      INT32: [-2147483648, 2147483647],
      INT64: ['-9223372036854775808', '9007199254740993'],
      FP16: [1, 65504],
      FP32: [1.5, -0.25],
      FP64: [Math.PI, 1e300],
    };
    const res = await fetch(`${job.http.url}/v2/models/types/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: NUMERIC_TYPES.map((t) => ({ name: `x_${t}`, datatype: t, shape: [1, 2], data: json[t] })),
      }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const outputs = oipOutputs({ status: res.status, body: JSON.parse(text) as Record<string, unknown> });
    for (const t of NUMERIC_TYPES) {
      const y = outputs.find((o) => o.name === `y_${t}`);
      expect(y?.datatype, t).toBe(t);
      expect(y?.shape, t).toEqual([1, 2]);
      if (t !== 'INT64' && t !== 'UINT64') expect(y?.data, t).toEqual(json[t]);
    }
    // JSON.parse would round them: read the digits from the text.
    expect(text).toContain(
      '"name":"y_INT64","datatype":"INT64","shape":[1,2],"data":[-9223372036854775808,9007199254740993]',
    );
    expect(text).toContain(
      '"name":"y_UINT64","datatype":"UINT64","shape":[1,2],"data":[0,18446744073709551615]',
    );
  });

  it('OIP: a value the declared type cannot hold is a 400 naming the input', async () => {
    const inputs = NUMERIC_TYPES.map((t) => ({
      name: `x_${t}`,
      datatype: t,
      shape: [1, 2],
      data: t === 'BOOL' ? [true, true] : t === 'INT8' ? [1, 128] : [1, 1],
    }));
    const answer = await post(`${job.http.url}/v2/models/types/infer`, { inputs });
    expect(answer.status).toBe(400);
    expect(String(answer.body['error'])).toContain('x_INT8');
  });
});

describe('a datatype the client states wins over the array it passes', () => {
  it('refuses a cast that would lose values', async () => {
    const { toTensor } = await import('../../../src/client/tensor-input.js');
    expect(() => toTensor('x', { data: [1.5], shape: [1], type: 'INT32' as DataType })).toThrow(
      /not an integer/,
    );
  });
});
