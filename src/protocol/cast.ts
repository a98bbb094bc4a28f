import { CsError } from '../errors/registry.js';
import { floatToHalf, halfToFloat } from './float16.js';
import { allocate } from './tensor.js';
import type { DataType, NumericArray, Tensor } from './tensor.js';

type NumericType = Exclude<DataType, 'BYTES'>;

/** Integer range of each integer type (BOOL: the two values it may hold). */
const INT_RANGE: Readonly<Partial<Record<NumericType, readonly [number, number]>>> = {
  BOOL: [0, 1],
  UINT8: [0, 0xff],
  UINT16: [0, 0xffff],
  UINT32: [0, 0xffffffff],
  INT8: [-0x80, 0x7f],
  INT16: [-0x8000, 0x7fff],
  INT32: [-0x80000000, 0x7fffffff],
  // Bounds as doubles: 2^63 and 2^64 themselves are outside, hence the strict check for 64-bit targets.
  INT64: [-(2 ** 63), 2 ** 63],
  UINT64: [0, 2 ** 64],
};

const TWO_POW_32 = 2 ** 32;

function isBig(type: NumericType): type is 'INT64' | 'UINT64' {
  return type === 'INT64' || type === 'UINT64';
}

/**
 * A tensor holding the same values as `tensor` in datatype `to`. The same object when the
 * type already matches. Values that the target cannot hold exactly as integers, or that are
 * out of its range, are refused (CS_ERR_INPUT_MISMATCH) rather than wrapped or truncated;
 * float targets round to nearest (FP16 ties to even) and refuse finite values that would
 * overflow to Infinity.
 */
export function castTensor(tensor: Tensor, to: DataType): Tensor {
  const from = tensor.type;
  if (from === to) return tensor;
  if (from === 'BYTES' || to === 'BYTES' || Array.isArray(tensor.data)) {
    throw new CsError(
      'CS_ERR_INPUT_MISMATCH',
      `cannot cast ${from} to ${to}: strings and numbers do not convert`,
    );
  }
  const data = tensor.data as NumericArray;
  return { ...tensor, type: to, data: castValues(data, from, to) };
}

function castValues(data: NumericArray, from: NumericType, to: NumericType): NumericArray {
  const out = allocate(to, data.length);
  if (isBig(from) && isBig(to)) {
    copyBigToBig(data as BigInt64Array | BigUint64Array, from, out as BigInt64Array | BigUint64Array, to);
    return out;
  }
  if (fitsWithoutChecks(from, to)) {
    // Every value of `from` is exactly representable in `to`: let the engine convert in one call.
    (out as Float32Array).set(data as Float32Array);
    return out;
  }
  const read = readerOf(data, from);
  const fail = (index: number, why: string): never => {
    throw new CsError(
      'CS_ERR_INPUT_MISMATCH',
      `cannot cast ${from} to ${to}: value ${textOf(data, from, index)} at index ${index} ${why}`,
    );
  };
  if (to === 'FP32' || to === 'FP64' || to === 'FP16') {
    writeFloats(read, data.length, to, out, fail);
  } else if (isBig(to)) {
    writeBig(read, data.length, to, out as BigInt64Array | BigUint64Array, fail);
  } else {
    writeInts(read, data.length, to, out, fail);
  }
  return out;
}

/** True when `from` is an integer type whose whole range fits in `to`, and neither side needs BigInt or half bits. */
function fitsWithoutChecks(from: NumericType, to: NumericType): boolean {
  if (isBig(from) || isBig(to) || from === 'FP16' || to === 'FP16' || to === 'BOOL') return false;
  if (to === 'FP64') return true;
  if (from === 'FP32' || from === 'FP64') return false;
  // Integers round to the nearest float32 here, as every float target does.
  if (to === 'FP32') return true;
  const [fromMin, fromMax] = INT_RANGE[from] ?? [0, 0];
  const [toMin, toMax] = INT_RANGE[to] ?? [0, 0];
  return fromMin >= toMin && fromMax <= toMax;
}

type Reader = (index: number) => number;

/** Element `index` as a double (64-bit integers beyond 2^53 round, which only matters for float targets). */
function readerOf(data: NumericArray, from: NumericType): Reader {
  if (from === 'FP16') {
    const bits = data as Uint16Array;
    return (i) => halfToFloat(bits[i]!);
  }
  if (isBig(from)) {
    const words = new Uint32Array(data.buffer, data.byteOffset, data.length * 2);
    if (from === 'UINT64') return (i) => words[2 * i + 1]! * TWO_POW_32 + words[2 * i]!;
    const high = new Int32Array(data.buffer, data.byteOffset, data.length * 2);
    return (i) => high[2 * i + 1]! * TWO_POW_32 + words[2 * i]!;
  }
  const values = data as Float64Array;
  return (i) => values[i]!;
}

function textOf(data: NumericArray, from: NumericType, index: number): string {
  if (from === 'FP16') return String(halfToFloat((data as Uint16Array)[index]!));
  return String(data[index]);
}

function writeFloats(
  read: Reader,
  length: number,
  to: 'FP16' | 'FP32' | 'FP64',
  out: NumericArray,
  fail: (index: number, why: string) => never,
): void {
  if (to === 'FP64') {
    const target = out as Float64Array;
    for (let i = 0; i < length; i++) target[i] = read(i);
    return;
  }
  if (to === 'FP32') {
    const target = out as Float32Array;
    for (let i = 0; i < length; i++) {
      const v = read(i);
      const f = Math.fround(v);
      if (!Number.isFinite(f) && Number.isFinite(v)) fail(i, 'is out of range for FP32');
      target[i] = f;
    }
    return;
  }
  const target = out as Uint16Array;
  for (let i = 0; i < length; i++) {
    const v = read(i);
    const h = floatToHalf(v);
    if ((h & 0x7fff) === 0x7c00 && Number.isFinite(v)) fail(i, 'is out of range for FP16 (±65504)');
    target[i] = h;
  }
}

function writeInts(
  read: Reader,
  length: number,
  to: NumericType,
  out: NumericArray,
  fail: (index: number, why: string) => never,
): void {
  const [min, max] = INT_RANGE[to] ?? [0, 0];
  const target = out as Int32Array;
  for (let i = 0; i < length; i++) {
    const v = read(i);
    if (!Number.isInteger(v)) fail(i, to === 'BOOL' ? 'is not 0 or 1' : 'is not an integer');
    if (v < min || v > max)
      fail(i, to === 'BOOL' ? 'is not 0 or 1' : `is out of range for ${to} (${min}..${max})`);
    target[i] = v;
  }
}

function writeBig(
  read: Reader,
  length: number,
  to: 'INT64' | 'UINT64',
  out: BigInt64Array | BigUint64Array,
  fail: (index: number, why: string) => never,
): void {
  const [min, max] = INT_RANGE[to] ?? [0, 0];
  // Writing the two 32-bit halves avoids creating a BigInt per element.
  const words = new Uint32Array(out.buffer, out.byteOffset, length * 2);
  for (let i = 0; i < length; i++) {
    const v = read(i);
    if (!Number.isInteger(v)) fail(i, 'is not an integer');
    if (v < min || v >= max) fail(i, `is out of range for ${to}`);
    const high = Math.floor(v / TWO_POW_32);
    words[2 * i] = v - high * TWO_POW_32;
    words[2 * i + 1] = high;
  }
}

function copyBigToBig(
  data: BigInt64Array | BigUint64Array,
  from: 'INT64' | 'UINT64',
  out: BigInt64Array | BigUint64Array,
  to: 'INT64' | 'UINT64',
): void {
  // Same bits; only the values with the top bit set mean different things in the two types.
  const high = new Uint32Array(data.buffer, data.byteOffset, data.length * 2);
  for (let i = 0; i < data.length; i++) {
    if (high[2 * i + 1]! >= 0x80000000) {
      const why = from === 'INT64' ? 'is negative' : `is out of range for ${to}`;
      throw new CsError(
        'CS_ERR_INPUT_MISMATCH',
        `cannot cast ${from} to ${to}: value ${String(data[i])} at index ${i} ${why}`,
      );
    }
  }
  new Uint32Array(out.buffer, out.byteOffset, out.length * 2).set(high);
}
