import { describe, expect, it } from 'vitest';
import { CsError } from '../../../src/errors/registry.js';
import { castTensor } from '../../../src/protocol/cast.js';
import { floatToHalf, halfToFloat } from '../../../src/protocol/float16.js';
import type { DataType, NamedTensor, Tensor } from '../../../src/protocol/tensor.js';

const fp32 = (values: number[]): Tensor => ({
  type: 'FP32',
  shape: [values.length],
  data: new Float32Array(values),
});

function mismatch(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CsError);
    expect((error as CsError).code).toBe('CS_ERR_INPUT_MISMATCH');
    return (error as CsError).message;
  }
  throw new Error('expected CS_ERR_INPUT_MISMATCH');
}

describe('castTensor', () => {
  it('returns the same object when the type already matches', () => {
    const t = fp32([1, 2]);
    expect(castTensor(t, 'FP32')).toBe(t);
  });

  it('keeps the name and shape of a named tensor', () => {
    const t: NamedTensor = { name: 'ids', type: 'FP32', shape: [1, 2], data: new Float32Array([3, 4]) };
    const cast = castTensor(t, 'INT32');
    expect(cast).toEqual({ name: 'ids', type: 'INT32', shape: [1, 2], data: new Int32Array([3, 4]) });
  });

  it('casts float32 to every integer type when values are integers in range', () => {
    const targets: [DataType, ArrayLike<number | bigint>][] = [
      ['UINT8', new Uint8Array([0, 255])],
      ['INT8', new Int8Array([0, -128])],
      ['UINT16', new Uint16Array([0, 65535])],
      ['INT16', new Int16Array([0, -32768])],
      ['UINT32', new Uint32Array([0, 4294967296 - 256])],
      ['INT32', new Int32Array([0, -2147483648])],
    ];
    const sources = [
      fp32([0, 255]),
      fp32([0, -128]),
      fp32([0, 65535]),
      fp32([0, -32768]),
      fp32([0, 4294967040]),
      fp32([0, -2147483648]),
    ];
    targets.forEach(([type, expected], i) => expect(castTensor(sources[i]!, type).data).toEqual(expected));
  });

  it('casts to INT64 and UINT64 exactly, negatives and values beyond 2^32 included', () => {
    const big = [0, -1, 2 ** 53, -(2 ** 53), 2 ** 40 + 3, -(2 ** 62)];
    const t: Tensor = { type: 'FP64', shape: [big.length], data: new Float64Array(big) };
    expect(Array.from(castTensor(t, 'INT64').data as BigInt64Array)).toEqual(big.map((v) => BigInt(v)));
    expect(Array.from(castTensor(fp32([0, 16777216, 2 ** 63]), 'UINT64').data as BigUint64Array)).toEqual([
      0n,
      16777216n,
      2n ** 63n,
    ]);
    expect(Array.from(castTensor(fp32([-3, 7]), 'INT64').data as BigInt64Array)).toEqual([-3n, 7n]);
  });

  it('casts 64-bit integers to floats and smaller integers, and between INT64 and UINT64', () => {
    const ids: Tensor = { type: 'INT64', shape: [3], data: new BigInt64Array([-5n, 0n, 1n << 40n]) };
    expect(Array.from(castTensor(ids, 'FP32').data as Float32Array)).toEqual([-5, 0, 2 ** 40]);
    expect(Array.from(castTensor(ids, 'FP64').data as Float64Array)).toEqual([-5, 0, 2 ** 40]);
    const small: Tensor = { type: 'UINT64', shape: [2], data: new BigUint64Array([3n, 255n]) };
    expect(Array.from(castTensor(small, 'UINT8').data as Uint8Array)).toEqual([3, 255]);
    expect(Array.from(castTensor(small, 'INT64').data as BigInt64Array)).toEqual([3n, 255n]);
    const positive: Tensor = { type: 'INT64', shape: [2], data: new BigInt64Array([2n ** 63n - 1n, 0n]) };
    expect(Array.from(castTensor(positive, 'UINT64').data as BigUint64Array)).toEqual([2n ** 63n - 1n, 0n]);
  });

  it('widens integer types without checks and converts BOOL', () => {
    const bytes: Tensor = { type: 'UINT8', shape: [2], data: new Uint8Array([0, 255]) };
    expect(Array.from(castTensor(bytes, 'INT16').data as Int16Array)).toEqual([0, 255]);
    expect(Array.from(castTensor(bytes, 'FP32').data as Float32Array)).toEqual([0, 255]);
    const flags: Tensor = { type: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) };
    expect(Array.from(castTensor(flags, 'FP16').data as Uint16Array)).toEqual([0x3c00, 0]);
    expect(Array.from(castTensor(flags, 'INT64').data as BigInt64Array)).toEqual([1n, 0n]);
    expect(Array.from(castTensor(fp32([0, 1, 1]), 'BOOL').data as Uint8Array)).toEqual([0, 1, 1]);
  });

  it('refuses non-integers for integer types, naming value and index', () => {
    expect(mismatch(() => castTensor(fp32([0, 1, 2, 1.5]), 'INT64'))).toBe(
      'cannot cast FP32 to INT64: value 1.5 at index 3 is not an integer',
    );
    expect(mismatch(() => castTensor(fp32([NaN]), 'INT32'))).toMatch(
      /value NaN at index 0 is not an integer/,
    );
    expect(mismatch(() => castTensor(fp32([Infinity]), 'UINT8'))).toMatch(/Infinity/);
  });

  it('refuses values out of range for the target', () => {
    expect(mismatch(() => castTensor(fp32([300]), 'UINT8'))).toBe(
      'cannot cast FP32 to UINT8: value 300 at index 0 is out of range for UINT8 (0..255)',
    );
    expect(mismatch(() => castTensor(fp32([1, -1]), 'UINT32'))).toMatch(
      /value -1 at index 1 is out of range/,
    );
    expect(mismatch(() => castTensor(fp32([-1]), 'UINT64'))).toMatch(/out of range for UINT64/);
    expect(mismatch(() => castTensor(fp32([2 ** 63]), 'INT64'))).toMatch(/out of range for INT64/);
    expect(mismatch(() => castTensor(fp32([2 ** 64]), 'UINT64'))).toMatch(/out of range for UINT64/);
    expect(mismatch(() => castTensor(fp32([128]), 'INT8'))).toMatch(/out of range for INT8 \(-128..127\)/);
    const negative: Tensor = { type: 'INT64', shape: [2], data: new BigInt64Array([1n, -2n]) };
    expect(mismatch(() => castTensor(negative, 'UINT64'))).toBe(
      'cannot cast INT64 to UINT64: value -2 at index 1 is negative',
    );
    const huge: Tensor = { type: 'UINT64', shape: [1], data: new BigUint64Array([2n ** 63n]) };
    expect(mismatch(() => castTensor(huge, 'INT64'))).toMatch(/value 9223372036854775808 at index 0/);
    expect(mismatch(() => castTensor(huge, 'INT32'))).toMatch(/out of range for INT32/);
    const double: Tensor = { type: 'FP64', shape: [1], data: new Float64Array([1e39]) };
    expect(mismatch(() => castTensor(double, 'FP32'))).toMatch(
      /value 1e\+39 at index 0 is out of range for FP32/,
    );
    expect(mismatch(() => castTensor(fp32([70000]), 'FP16'))).toMatch(/out of range for FP16/);
  });

  it('keeps NaN and infinities in float targets', () => {
    const special: Tensor = { type: 'FP64', shape: [3], data: new Float64Array([NaN, Infinity, -Infinity]) };
    const single = Array.from(castTensor(special, 'FP32').data as Float32Array);
    expect(single).toEqual([NaN, Infinity, -Infinity]);
    expect(Array.from(castTensor(special, 'FP16').data as Uint16Array)).toEqual([0x7e00, 0x7c00, 0xfc00]);
  });

  it('refuses BOOL values other than 0 and 1', () => {
    expect(mismatch(() => castTensor(fp32([0, 2]), 'BOOL'))).toBe(
      'cannot cast FP32 to BOOL: value 2 at index 1 is not 0 or 1',
    );
    expect(mismatch(() => castTensor(fp32([0.5]), 'BOOL'))).toMatch(/not 0 or 1/);
  });

  it('refuses casts between strings and numbers', () => {
    expect(mismatch(() => castTensor({ type: 'BYTES', shape: [1], data: ['1'] }, 'FP32'))).toMatch(
      /cannot cast BYTES to FP32/,
    );
    expect(mismatch(() => castTensor(fp32([1]), 'BYTES'))).toMatch(/cannot cast FP32 to BYTES/);
  });
});

/** Every finite non-negative half value, ascending, with its bits. */
const HALVES = Array.from({ length: 0x7c00 }, (_, bits) => ({ bits, value: halfToFloat(bits) }));

/**
 * Reference rounding by search: the nearest half, ties to the even bit pattern. Past the
 * largest half, the next step of the top binade (65536) stands in for Infinity.
 */
const LADDER = [...HALVES, { bits: 0x7c00, value: 65536 }];

function referenceHalf(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65536) return sign | 0x7c00;
  let lo = 0;
  let hi = LADDER.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (LADDER[mid]!.value <= a) lo = mid;
    else hi = mid;
  }
  const below = LADDER[lo]!;
  const above = LADDER[hi]!;
  if (a - below.value < above.value - a) return sign | below.bits;
  if (a - below.value > above.value - a) return sign | above.bits;
  return sign | (below.bits % 2 === 0 ? below.bits : above.bits);
}

describe('float16 conversion', () => {
  it('maps known values', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-2)).toBe(0xc000);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(65519.99)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00);
    expect(floatToHalf(2 ** -24)).toBe(0x0001);
    expect(floatToHalf(2 ** -25)).toBe(0x0000); // a tie between 0 and the smallest subnormal goes to even
    expect(floatToHalf(-0)).toBe(0x8000);
    expect(floatToHalf(NaN)).toBe(0x7e00);
    expect(floatToHalf(2049)).toBe(floatToHalf(2048)); // tie → even mantissa
    expect(floatToHalf(2051)).toBe(floatToHalf(2052));
    expect(halfToFloat(0x3555)).toBeCloseTo(1 / 3, 3);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('round-trips every half bit pattern', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const exponent = (bits >> 10) & 0x1f;
      if (exponent === 31 && (bits & 0x3ff) !== 0) continue; // NaNs canonicalise
      expect(floatToHalf(halfToFloat(bits))).toBe(bits);
    }
  });

  it('rounds to nearest, ties to even, as a search over all halves does', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const samples: number[] = [];
    for (let i = 0; i < 3000; i++) samples.push((random() - 0.5) * 2 ** Math.floor(random() * 40 - 26));
    // exact midpoints between neighbouring halves, where ties decide
    for (let i = 0; i < 0x7bff; i += 37) samples.push((HALVES[i]!.value + HALVES[i + 1]!.value) / 2);
    samples.push(65510, 65512, 65519, 65520, 65530, -65512, 1e6);
    for (const x of samples) expect(floatToHalf(x)).toBe(referenceHalf(x));
  });
});
