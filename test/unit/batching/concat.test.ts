import { describe, expect, it } from 'vitest';
import { concatBatch, splitBatch } from '../../../src/batching/concat.js';
import { CsError } from '../../../src/errors/registry.js';
import {
  DATA_TYPES,
  allocate,
  type DataType,
  type Tensor,
  type TensorData,
} from '../../../src/protocol/tensor.js';

/** Distinct, type-appropriate values so a misplaced row would be visible. */
function valuesOf(type: DataType, count: number, start: number): TensorData {
  if (type === 'BYTES') return Array.from({ length: count }, (_, i) => `s${start + i}${'é'.repeat(i % 3)}`);
  const data = allocate(type, count);
  for (let i = 0; i < count; i++) {
    const v = start + i;
    if (data instanceof BigInt64Array) data[i] = BigInt(v) * (i % 2 === 0 ? -1n : 1n) * 2n ** 40n;
    else if (data instanceof BigUint64Array) data[i] = BigInt(v) * 2n ** 40n;
    else if (type === 'BOOL') data[i] = v % 2;
    else data[i] = type === 'FP32' || type === 'FP64' ? v + 0.5 : v % 100;
  }
  return data;
}

function tensor(type: DataType, shape: number[], start = 0): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return { type, shape, data: valuesOf(type, count, start) };
}

function plain(t: Tensor): { type: DataType; shape: readonly number[]; data: unknown[] } {
  return { type: t.type, shape: t.shape, data: Array.from(t.data as ArrayLike<unknown>) };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof CsError ? error.code : `not a CsError: ${String(error)}`;
  }
  return undefined;
}

describe('concatBatch / splitBatch round trips', () => {
  it.each(DATA_TYPES.map((t) => [t]))('%s', (type) => {
    const parts = [tensor(type, [2, 3], 0), tensor(type, [1, 3], 100), tensor(type, [4, 3], 200)];
    const joined = concatBatch(parts);
    expect(joined.type).toBe(type);
    expect(joined.shape).toEqual([7, 3]);
    expect(joined.data.constructor).toBe(parts[0]?.data.constructor);
    expect(Array.from(joined.data as ArrayLike<unknown>)).toEqual(
      parts.flatMap((p) => Array.from(p.data as ArrayLike<unknown>)),
    );
    expect(splitBatch(joined, [2, 1, 4]).map(plain)).toEqual(parts.map(plain));
  });

  it('keeps every dim after the batch dim', () => {
    const a = tensor('INT64', [1, 2, 3, 2], 0);
    const b = tensor('INT64', [2, 2, 3, 2], 50);
    const joined = concatBatch([a, b]);
    expect(joined.shape).toEqual([3, 2, 3, 2]);
    expect(splitBatch(joined, [1, 2]).map(plain)).toEqual([plain(a), plain(b)]);
  });

  it('handles rank-1 tensors (only a batch dim)', () => {
    const joined = concatBatch([tensor('BYTES', [2], 0), tensor('BYTES', [1], 9)]);
    expect(joined).toEqual({ type: 'BYTES', shape: [3], data: ['s0', 's1é', 's9'] });
  });

  it('returns a lone tensor untouched', () => {
    const only = tensor('FP32', [2, 2]);
    expect(concatBatch([only])).toBe(only);
  });

  it('does not alias its inputs when it copies', () => {
    const a = tensor('FP32', [1, 2], 0);
    const joined = concatBatch([a, tensor('FP32', [1, 2], 10)]);
    (joined.data as Float32Array)[0] = 42;
    expect((a.data as Float32Array)[0]).toBe(0.5);
  });
});

describe('zero rows', () => {
  it('concatenates zero-row tensors with others and alone', () => {
    const empty = tensor('FP32', [0, 4]);
    const full = tensor('FP32', [2, 4], 3);
    expect(plain(concatBatch([empty, full, empty]))).toEqual(plain(full));
    const none = concatBatch([empty, tensor('FP32', [0, 4])]);
    expect(none.shape).toEqual([0, 4]);
    expect(none.data.length).toBe(0);
  });

  it('splits into zero-row pieces and splits an empty tensor', () => {
    const t = tensor('INT32', [3, 2], 1);
    const pieces = splitBatch(t, [0, 3, 0]);
    expect(pieces.map((p) => p.shape)).toEqual([
      [0, 2],
      [3, 2],
      [0, 2],
    ]);
    expect(plain(pieces[1] as Tensor)).toEqual(plain(t));
    expect(splitBatch(tensor('BYTES', [0, 5]), [])).toEqual([]);
    expect(splitBatch(tensor('BYTES', [0, 5]), [0])).toEqual([{ type: 'BYTES', shape: [0, 5], data: [] }]);
  });

  it('handles an inner dim of zero', () => {
    const joined = concatBatch([tensor('UINT8', [2, 0]), tensor('UINT8', [3, 0])]);
    expect(joined.shape).toEqual([5, 0]);
    expect(splitBatch(joined, [4, 1]).map((p) => p.shape)).toEqual([
      [4, 0],
      [1, 0],
    ]);
  });
});

describe('splitBatch returns views', () => {
  it('shares the buffer for numeric types', () => {
    const t = tensor('FP64', [3, 2], 0);
    const [first, second] = splitBatch(t, [1, 2]);
    expect((first?.data as Float64Array).buffer).toBe((t.data as Float64Array).buffer);
    expect((second?.data as Float64Array).byteOffset).toBe(2 * 8);
    (t.data as Float64Array)[2] = -7;
    expect((second?.data as Float64Array)[0]).toBe(-7);
  });

  it('works on a tensor that is itself a view at an offset', () => {
    const big = new BigInt64Array([9n, 9n, 1n, 2n, 3n, 4n]);
    const t: Tensor = { type: 'INT64', shape: [2, 2], data: big.subarray(2) };
    expect(splitBatch(t, [1, 1]).map((p) => Array.from(p.data as BigInt64Array))).toEqual([
      [1n, 2n],
      [3n, 4n],
    ]);
  });
});

describe('refusals', () => {
  it('refuses different datatypes', () => {
    expect(codeOf(() => concatBatch([tensor('FP32', [1, 4]), tensor('FP64', [1, 4])]))).toBe(
      'CS_ERR_INPUT_MISMATCH',
    );
    expect(() => concatBatch([tensor('INT32', [1]), tensor('INT64', [1])])).toThrow(
      /INT64 \[1\] but tensor 0 is INT32/,
    );
  });

  it('refuses different dims after the batch dim, and different ranks', () => {
    expect(codeOf(() => concatBatch([tensor('FP32', [1, 4]), tensor('FP32', [1, 5])]))).toBe(
      'CS_ERR_INPUT_MISMATCH',
    );
    expect(codeOf(() => concatBatch([tensor('FP32', [2, 2]), tensor('FP32', [1, 2, 2])]))).toBe(
      'CS_ERR_INPUT_MISMATCH',
    );
    expect(codeOf(() => concatBatch([tensor('BYTES', [2]), tensor('BYTES', [2, 1])]))).toBe(
      'CS_ERR_INPUT_MISMATCH',
    );
  });

  it('refuses scalars and tensors whose data does not fill their shape', () => {
    expect(codeOf(() => concatBatch([{ type: 'FP32', shape: [], data: new Float32Array(1) }]))).toBe(
      'CS_ERR_INPUT_MISMATCH',
    );
    const short: Tensor = { type: 'FP32', shape: [2, 3], data: new Float32Array(5) };
    expect(() => concatBatch([short, tensor('FP32', [1, 3])])).toThrow(/needs 6 values, but carries 5/);
    expect(codeOf(() => splitBatch(short, [1, 1]))).toBe('CS_ERR_INPUT_MISMATCH');
    expect(codeOf(() => splitBatch({ type: 'BYTES', shape: [], data: ['a'] }, [1]))).toBe(
      'CS_ERR_INPUT_MISMATCH',
    );
  });

  it('refuses an empty list', () => {
    expect(codeOf(() => concatBatch([]))).toBe('CS_ERR_INTERNAL');
  });

  it('refuses sizes that do not add up to the rows', () => {
    const t = tensor('FP32', [3, 2]);
    expect(codeOf(() => splitBatch(t, [1, 1]))).toBe('CS_ERR_INPUT_MISMATCH');
    expect(() => splitBatch(t, [2, 2])).toThrow(/has 3 rows but the split asks for 4 \(2\+2\)/);
    expect(codeOf(() => splitBatch(t, []))).toBe('CS_ERR_INPUT_MISMATCH');
  });

  it('refuses negative or fractional sizes even when they add up', () => {
    const t = tensor('FP32', [3, 2]);
    expect(codeOf(() => splitBatch(t, [4, -1]))).toBe('CS_ERR_INTERNAL');
    expect(codeOf(() => splitBatch(t, [1.5, 1.5]))).toBe('CS_ERR_INTERNAL');
  });
});

describe('concatBatch into a given buffer', () => {
  it('writes the stacked values where `into` says, and asks for the right type and length', () => {
    const scratch = new Float32Array(10).fill(-1);
    const asked: [string, number][] = [];
    const out = concatBatch(
      [
        { type: 'FP32', shape: [1, 2], data: Float32Array.of(1, 2) },
        { type: 'FP32', shape: [2, 2], data: Float32Array.of(3, 4, 5, 6) },
      ],
      (type, length) => {
        asked.push([type, length]);
        return scratch.subarray(0, length);
      },
    );
    expect(asked).toEqual([['FP32', 6]]);
    expect(out.shape).toEqual([3, 2]);
    expect((out.data as Float32Array).buffer).toBe(scratch.buffer);
    expect(Array.from(scratch)).toEqual([1, 2, 3, 4, 5, 6, -1, -1, -1, -1]);
  });
});
