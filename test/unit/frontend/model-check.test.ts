import { describe, expect, it } from 'vitest';
import { CsError } from '../../../src/errors/registry.js';
import { instanceToInputs, predictionElement, prepareInstance } from '../../../src/frontend/bigdl-predict.js';
import { checkInferInputs, checkOutputFilter } from '../../../src/frontend/model-check.js';
import { shapeProblem } from '../../../src/protocol/input-match.js';
import type { NamedTensor } from '../../../src/protocol/tensor.js';
import { MLP, TWO_IO } from './fake-backend.js';

function fp32(name: string, shape: number[], values: number[]): NamedTensor {
  return { name, type: 'FP32', shape, data: new Float32Array(values) };
}

function errorOf(fn: () => unknown): CsError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CsError) return error;
    throw error;
  }
  throw new Error('expected a CsError');
}

describe('shapeProblem', () => {
  it('treats -1 as any size and names the first dim that breaks the spec', () => {
    expect(shapeProblem([-1, 4], [7, 4])).toBeUndefined();
    expect(shapeProblem([-1, 4], [7, 5])).toBe('dim 1 is 5, the model needs 4');
    expect(shapeProblem([-1, 4], [4])).toBe("rank 1, the model's is 2");
  });
});

describe('checkInferInputs', () => {
  it('accepts the inputs the model declares', () => {
    expect(() =>
      checkInferInputs(
        [
          fp32('a', [2, 4], Array(8).fill(0)),
          { name: 'b', type: 'INT64', shape: [2, 2], data: new BigInt64Array(4) },
        ],
        TWO_IO,
      ),
    ).not.toThrow();
  });

  it('names the input for each kind of mismatch', () => {
    const a = fp32('a', [1, 4], [1, 2, 3, 4]);
    const b: NamedTensor = { name: 'b', type: 'INT64', shape: [1, 2], data: new BigInt64Array(2) };
    const unknown = errorOf(() => checkInferInputs([a, b, fp32('c', [1], [1])], TWO_IO));
    expect(unknown.code).toBe('CS_ERR_INPUT_MISMATCH');
    expect(unknown.message).toContain('input "c" is not an input');
    expect(errorOf(() => checkInferInputs([a], TWO_IO)).message).toContain('missing input "b"');
    expect(
      errorOf(() => checkInferInputs([a, { ...b, type: 'INT32', data: new Int32Array(2) }], TWO_IO)).message,
    ).toContain('input "b": datatype INT32 does not match the model\'s INT64');
    expect(errorOf(() => checkInferInputs([fp32('a', [1, 3], [1, 2, 3]), b], TWO_IO)).message).toContain(
      'input "a": shape [1,3] does not fit the model\'s [-1,4]',
    );
    expect(errorOf(() => checkOutputFilter(['nope'], TWO_IO)).message).toContain(
      'output "nope" is not an output',
    );
    expect(() => checkOutputFilter(['score'], TWO_IO)).not.toThrow();
  });
});

describe('instanceToInputs', () => {
  it('adds the batch dimension and keeps the model input name', () => {
    const [input] = instanceToInputs([fp32('input', [4], [1, 2, 3, 4])], 0, MLP);
    expect(input?.name).toBe('input');
    expect(input?.shape).toEqual([1, 4]);
    expect(Array.from(input?.data as Float32Array)).toEqual([1, 2, 3, 4]);
  });

  it('maps by position when a column name is not an input name, and casts to the declared type', () => {
    const inputs = instanceToInputs([fp32('x', [4], [1, 2, 3, 4]), fp32('y', [2], [7, 8])], 3, TWO_IO);
    expect(inputs.map((t) => t.name)).toEqual(['a', 'b']);
    expect(inputs[1]?.type).toBe('INT64');
    expect(Array.from(inputs[1]?.data as BigInt64Array)).toEqual([7n, 8n]);
  });

  it('refuses what cannot fit, naming the instance and the input', () => {
    const wrongShape = errorOf(() => instanceToInputs([fp32('input', [3], [1, 2, 3])], 2, MLP));
    expect(wrongShape.code).toBe('CS_ERR_INPUT_MISMATCH');
    expect(wrongShape.message).toContain('instances[2].input: shape [1,3]');
    const notInteger = errorOf(() =>
      instanceToInputs([fp32('a', [4], [1, 2, 3, 4]), fp32('b', [2], [1.5, 2])], 0, TWO_IO),
    );
    expect(notInteger.message).toContain('instances[0].b');
    const count = errorOf(() => instanceToInputs([fp32('x', [4], [1, 2, 3, 4])], 1, TWO_IO));
    expect(count.message).toContain('instances[1] has 1 value(s)');
    const missing = errorOf(() => instanceToInputs([fp32('a', [4], [1, 2, 3, 4])], 0, TWO_IO));
    expect(missing.message).toContain('lacks input(s) b');
    // The worker matches by name and would find b missing: the frontend refuses it first.
    const twice = errorOf(() =>
      instanceToInputs([fp32('a', [4], [1, 2, 3, 4]), fp32('a', [4], [5, 6, 7, 8])], 0, TWO_IO),
    );
    expect(twice.message).toContain('lacks input(s) b');
  });
});

describe('prepareInstance', () => {
  const imageModel = {
    ...MLP,
    inputs: [
      { name: 'image', datatype: 'FP32' as const, shape: [-1, 3, 8, 8] },
      { name: 'box', datatype: 'FP32' as const, shape: [-1, 2, 3] },
    ],
  };

  it('sends all-numeric instances as tensors', () => {
    const prepared = prepareInstance([fp32('input', [4], [1, 2, 3, 4])], 0, MLP);
    expect(prepared.kind).toBe('tensors');
  });

  it('sends instances with strings as BigDL JSON, numeric values nested back to their shape', () => {
    const prepared = prepareInstance(
      [
        { name: 'image', type: 'BYTES', shape: [1], data: ['iVBOR'] },
        fp32('box', [2, 3], [1, 2, 3, 4, 5, 6]),
      ],
      0,
      imageModel,
    );
    expect(prepared.kind).toBe('bigdl-json');
    if (prepared.kind !== 'bigdl-json') return;
    expect(JSON.parse(prepared.body)).toEqual({
      instances: [
        {
          image: 'iVBOR',
          box: [
            [1, 2, 3],
            [4, 5, 6],
          ],
        },
      ],
    });
  });

  it('still checks the numeric values of such instances', () => {
    expect(() =>
      prepareInstance(
        [{ name: 'image', type: 'BYTES', shape: [1], data: ['x'] }, fp32('box', [3], [1, 2, 3])],
        4,
        imageModel,
      ),
    ).toThrow('instances[4].box: shape [1,3]');
  });
});

describe('predictionElement', () => {
  it('is BigDL\'s {"value": ...} text, outputs concatenated, batch dimension removed', () => {
    const element = predictionElement([fp32('sum', [1, 2], [0.1, 2]), fp32('score', [1, 1], [3])], true);
    expect(element).toBe(JSON.stringify({ value: '{"data":[0.1,2],"shape":[2]}{"data":[3],"shape":[1]}' }));
    expect(JSON.parse(element)).toEqual({ value: '{"data":[0.1,2],"shape":[2]}{"data":[3],"shape":[1]}' });
    expect(predictionElement('[[2,0.9]]', true)).toBe('{"value":"[[2,0.9]]"}');
    expect(predictionElement([fp32('o', [2, 1], [1, 2])], false)).toBe(
      JSON.stringify({ value: '{"data":[1,2],"shape":[2,1]}' }),
    );
  });
});
