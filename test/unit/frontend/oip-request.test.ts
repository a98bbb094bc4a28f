import { describe, expect, it } from 'vitest';
import { CsError } from '../../../src/errors/registry.js';
import { decodeInferRequest } from '../../../src/frontend/oip-request.js';

function errorOf(body: unknown): CsError {
  try {
    decodeInferRequest(body);
  } catch (error) {
    if (error instanceof CsError) return error;
    throw error;
  }
  throw new Error('expected a CsError');
}

const input = (over: Record<string, unknown>): Record<string, unknown> => ({
  name: 'x',
  shape: [2, 2],
  datatype: 'FP32',
  data: [1, 2, 3, 4],
  ...over,
});

describe('decodeInferRequest', () => {
  it('reads flat and nested data row-major, echoes the id and the output filter', () => {
    const flat = decodeInferRequest({ id: 'r1', inputs: [input({})], outputs: [{ name: 'y' }] });
    const nested = decodeInferRequest({
      inputs: [
        input({
          data: [
            [1, 2],
            [3, 4],
          ],
        }),
      ],
    });
    expect(flat.id).toBe('r1');
    expect(flat.outputs).toEqual(['y']);
    expect(nested.id).toBeUndefined();
    expect(nested.outputs).toBeUndefined();
    for (const r of [flat, nested]) {
      expect(r.inputs[0]?.type).toBe('FP32');
      expect(r.inputs[0]?.shape).toEqual([2, 2]);
      expect(Array.from(r.inputs[0]?.data as Float32Array)).toEqual([1, 2, 3, 4]);
    }
  });

  it('reads every datatype into its typed form', () => {
    const one = (datatype: string, data: unknown[]): unknown =>
      decodeInferRequest({ inputs: [{ name: 'x', shape: [data.length], datatype, data }] }).inputs[0]?.data;
    expect(one('BOOL', [true, false])).toEqual(new Uint8Array([1, 0]));
    expect(one('UINT8', [0, 255])).toEqual(new Uint8Array([0, 255]));
    expect(one('INT16', [-32768, 32767])).toEqual(new Int16Array([-32768, 32767]));
    expect(one('UINT32', [4294967295])).toEqual(new Uint32Array([4294967295]));
    expect(one('INT32', [-5])).toEqual(new Int32Array([-5]));
    expect(one('FP64', [0.1])).toEqual(new Float64Array([0.1]));
    expect(one('FP16', [1, -2])).toEqual(new Uint16Array([0x3c00, 0xc000]));
    expect(one('BYTES', ['a', ''])).toEqual(['a', '']);
    // INT64 beyond 2^53 is exact when sent as digits.
    expect(one('INT64', ['9223372036854775807', -3])).toEqual(new BigInt64Array([9223372036854775807n, -3n]));
    expect(one('UINT64', ['18446744073709551615'])).toEqual(new BigUint64Array([18446744073709551615n]));
  });

  it('refuses malformed requests with a 400 that names the input and the field', () => {
    const cases: [unknown, string][] = [
      [[1, 2], 'must be a JSON object'],
      [{}, 'no "inputs" array'],
      [{ instances: [] }, 'that is the /predict format'],
      [{ inputs: [] }, 'non-empty array'],
      [{ id: 5, inputs: [input({})] }, '"id" must be a string'],
      [{ inputs: [input({ name: '' })] }, 'inputs[0].name'],
      [{ inputs: [input({}), input({})] }, 'input "x" appears more than once'],
      [{ inputs: [input({ shape: [2, -1] })] }, 'input "x": shape [2,-1]'],
      [{ inputs: [input({ datatype: 'FLOAT' })] }, 'input "x": datatype "FLOAT" is not one of'],
      [{ inputs: [input({ data: 'abc' })] }, 'input "x": "data" must be an array'],
      [{ inputs: [input({ data: [1, 2, 3] })] }, 'input "x": "data" holds 3 elements, the shape needs 4'],
      [{ inputs: [input({ data: [1, 2, 3, 4, 5] })] }, 'more elements than the shape'],
      [{ inputs: [input({ data: [1, 'a', 3, 4] })] }, 'input "x": data[1] must be a number for FP32'],
      [
        { inputs: [input({ datatype: 'BOOL', data: [true, 1, true, false] })] },
        'data[1] must be true or false',
      ],
      [
        { inputs: [input({ datatype: 'UINT8', data: [1, 2, 3, 256] })] },
        'data[3] = 256 is not an integer in 0..255',
      ],
      [{ inputs: [input({ datatype: 'INT32', data: [1.5, 2, 3, 4] })] }, 'data[0] = 1.5'],
      [{ inputs: [input({ datatype: 'INT64', data: [1, 2, 3, 2 ** 60] })] }, 'beyond 2^53'],
      [
        { inputs: [input({ datatype: 'INT64', data: [1, 2, 3, '9223372036854775808'] })] },
        'out of range for INT64',
      ],
      [{ inputs: [input({ datatype: 'UINT64', data: [1, 2, 3, -1] })] }, 'out of range for UINT64'],
      [{ inputs: [input({ datatype: 'BYTES', data: ['a', 'b', 'c', 4] })] }, 'data[3] must be a string'],
      [
        { inputs: [input({ parameters: { binary_data_size: 16 } })] },
        'give "data" or binary_data_size, not both',
      ],
      [
        { inputs: [input({ data: undefined, parameters: { binary_data_size: 16 } })] },
        'binary_data_size needs a binary body',
      ],
      [{ inputs: [input({})], outputs: [{ nom: 'y' }] }, 'outputs[0] must be an object with a string "name"'],
      [{ inputs: [input({})], outputs: 'y' }, '"outputs" must be an array'],
    ];
    for (const [body, text] of cases) {
      const error = errorOf(body);
      expect(error.httpStatus, text).toBe(400);
      expect(error.message).toContain(text);
    }
  });

  it('refuses a shape too large to allocate with 413', () => {
    const error = errorOf({ inputs: [input({ shape: [1 << 20, 1 << 20] })] });
    expect(error.code).toBe('CS_ERR_INPUT_TOO_LARGE');
    expect(error.httpStatus).toBe(413);
  });
});
