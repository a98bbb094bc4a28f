import { describe, expect, it } from 'vitest';
import { CsError } from '../../../src/errors/registry.js';
import { decodeInstances, instanceValueToTensor } from '../../../src/protocol/json-instances.js';

function decodeError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CsError);
    expect((error as CsError).code).toBe('CS_ERR_INPUT_DECODE');
    return (error as CsError).message;
  }
  throw new Error('expected a CS_ERR_INPUT_DECODE error');
}

const values = (data: unknown): number[] => Array.from(data as Float32Array);

describe('decodeInstances', () => {
  it('gives one tensor list per instance, inputs in key order', () => {
    const body = JSON.stringify({
      instances: [
        {
          x: [
            [1, 2],
            [3, 4],
          ],
          s: 'aGk=',
        },
        {
          x: [
            [5, 6],
            [7, 8],
          ],
          s: 'a|b',
        },
      ],
    });
    const instances = decodeInstances(body);
    expect(instances).toHaveLength(2);
    expect(instances[0]?.map((t) => [t.name, t.type, t.shape])).toEqual([
      ['x', 'FP32', [2, 2]],
      ['s', 'BYTES', [1]],
    ]);
    expect(values(instances[1]?.[0]?.data)).toEqual([5, 6, 7, 8]);
    expect(instances[1]?.[1]?.data).toEqual(['a|b']);
  });

  it('accepts the body as a Buffer', () => {
    const instances = decodeInstances(Buffer.from('{"instances":[{"v":2.5}]}'));
    expect(values(instances[0]?.[0]?.data)).toEqual([2.5]);
  });

  it('says exactly what is wrong with the body', () => {
    expect(decodeError(() => decodeInstances('{"instances": ['))).toMatch(/body is not valid JSON/);
    expect(decodeError(() => decodeInstances('[1,2]'))).toMatch(/body must be a JSON object .*got an array/);
    expect(decodeError(() => decodeInstances('{"instance":[{"x":1}]}'))).toBe(
      'body has no "instances" key; found "instance": did you mean "instances"?',
    );
    expect(decodeError(() => decodeInstances('{"Instances":[{"x":1}]}'))).toMatch(
      /found "Instances": did you mean/,
    );
    expect(decodeError(() => decodeInstances('{"instanses":[{"x":1}]}'))).toMatch(/did you mean "instances"/);
    expect(decodeError(() => decodeInstances('{"inputs":[{"x":1}]}'))).toMatch(
      /body has no "instances" key \(found keys "inputs"\): expected \{"instances"/,
    );
    expect(decodeError(() => decodeInstances('{}'))).toMatch(/found an empty object/);
    expect(decodeError(() => decodeInstances('{"instances":{"x":1}}'))).toMatch(
      /"instances" must be a non-empty array of objects, got an object/,
    );
    expect(decodeError(() => decodeInstances('{"instances":[]}'))).toMatch(/got an empty array/);
    expect(decodeError(() => decodeInstances('{"instances":[{"x":1}, 5]}'))).toMatch(
      /instances\[1\] must be an object mapping input names to values, got a number/,
    );
    expect(decodeError(() => decodeInstances('{"instances":[{}]}'))).toMatch(/instances\[0\] has no inputs/);
  });

  it('names the instance and input in value errors', () => {
    const body = JSON.stringify({
      instances: [
        { x: [1] },
        { x: [1] },
        {
          x: [
            [1, 2, 3, 4],
            [1, 2, 3],
          ],
        },
      ],
    });
    expect(decodeError(() => decodeInstances(body))).toBe(
      'instances[2].x: nested arrays are ragged at depth 1 (expected 4 elements, got 3)',
    );
    expect(decodeError(() => decodeInstances('{"instances":[{"flag":true}]}'))).toMatch(
      /^instances\[0\]\.flag: .*got a boolean/,
    );
  });
});

describe('instanceValueToTensor', () => {
  it('makes a number an FP32 tensor of shape [1]', () => {
    const t = instanceValueToTensor('x', 3);
    expect(t).toMatchObject({ name: 'x', type: 'FP32', shape: [1] });
    expect(values(t.data)).toEqual([3]);
  });

  it('infers the shape of nested arrays', () => {
    const t = instanceValueToTensor('x', [
      [[1], [2]],
      [[3], [4]],
      [[5], [6]],
    ]);
    expect(t.shape).toEqual([3, 2, 1]);
    expect(values(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(instanceValueToTensor('e', []).shape).toEqual([0]);
    expect(instanceValueToTensor('e', [[], []]).shape).toEqual([2, 0]);
  });

  it('refuses ragged or mixed nesting, naming the depth', () => {
    expect(decodeError(() => instanceValueToTensor('x', [[1, 2], [3]]))).toBe(
      'x: nested arrays are ragged at depth 1 (expected 2 elements, got 1)',
    );
    expect(decodeError(() => instanceValueToTensor('x', [[1, 2], 3]))).toBe(
      'x: nested arrays are ragged at depth 1 (expected 2 elements, got a number at [1])',
    );
    expect(
      decodeError(() =>
        instanceValueToTensor('x', [
          [1, 2],
          [3, [4]],
        ]),
      ),
    ).toBe('x: nested arrays are ragged: element [1][1] is an array, expected a number');
    expect(decodeError(() => instanceValueToTensor('x', [1, 'a']))).toBe(
      'x: nested arrays must hold numbers: element [1] is a string, expected a number',
    );
    expect(decodeError(() => instanceValueToTensor('x', [[], [1]]))).toMatch(
      /ragged at depth 1 \(expected 0 elements, got 1\)/,
    );
    let deep: unknown = [1];
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(decodeError(() => instanceValueToTensor('x', deep))).toMatch(/nested deeper than 32 levels/);
  });

  it('makes a string a BYTES tensor of shape [1]', () => {
    expect(instanceValueToTensor('img', '/9j/4AAQ')).toEqual({
      name: 'img',
      type: 'BYTES',
      shape: [1],
      data: ['/9j/4AAQ'],
    });
  });

  it('makes a sparse {shape, data, indices} dense (one row of coordinates per dim)', () => {
    const t = instanceValueToTensor('sp', {
      shape: [2, 3],
      data: [10, 20, 30],
      indices: [
        [0, 1, 1],
        [1, 0, 2],
      ],
    });
    expect(t).toMatchObject({ type: 'FP32', shape: [2, 3] });
    expect(values(t.data)).toEqual([0, 10, 0, 20, 0, 30]);
    const empty = instanceValueToTensor('sp', { shape: [2], data: [], indices: [[]] });
    expect(values(empty.data)).toEqual([0, 0]);
  });

  it('validates sparse sizes and ranges', () => {
    const sparse = (value: unknown): string => decodeError(() => instanceValueToTensor('sp', value));
    expect(sparse({ shape: [2, 3], data: [1] })).toMatch(
      /"indices" is missing; a sparse tensor is \{"shape"/,
    );
    expect(sparse({ shape: [2], data: [1], indices: [[0]], values: [1] })).toMatch(
      /"values" is not a sparse tensor key/,
    );
    expect(sparse({ shape: [2, 3], data: [1, 2], indices: [[0, 1]] })).toMatch(
      /one row of coordinates per dim \(2 rows for shape \[2,3\]\), got 1 rows/,
    );
    expect(sparse({ shape: [2, 3], data: [1, 2], indices: [[0, 1], [0]] })).toMatch(
      /"indices"\[1\] holds 1 coordinates, "data" holds 2 values/,
    );
    expect(sparse({ shape: [2, 3], data: [1], indices: [[2], [0]] })).toMatch(
      /coordinate 2 of value 0 is out of range for dim 0 \(size 2\)/,
    );
    expect(sparse({ shape: [2, 3], data: [1], indices: [[0.5], [0]] })).toMatch(/coordinate 0.5/);
    expect(sparse({ shape: [2, 'a'], data: [1], indices: [[0], [0]] })).toMatch(/"shape"\[1\] is a string/);
    expect(sparse({ shape: [-2], data: [], indices: [[]] })).toMatch(/non-negative integers/);
    expect(sparse({ shape: [2], data: [1, 2], indices: [[1, 1]] })).toMatch(/repeats an earlier coordinate/);
    expect(() => instanceValueToTensor('sp', { shape: [1e6, 1e6], data: [], indices: [[], []] })).toThrow(
      expect.objectContaining({ code: 'CS_ERR_INPUT_TOO_LARGE' }),
    );
  });

  it('refuses values of other kinds', () => {
    for (const value of [null, true, undefined]) {
      expect(decodeError(() => instanceValueToTensor('x', value))).toMatch(
        /^x: expected a number, nested arrays of numbers, a string or a sparse tensor/,
      );
    }
  });
});
