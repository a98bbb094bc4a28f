import { describe, expect, it } from 'vitest';
import { SERDE } from '../../../src/contracts/stream-entry.js';
import { CsError } from '../../../src/errors/registry.js';
import { DATA_TYPES } from '../../../src/protocol/tensor.js';
import type { DataType, NamedTensor } from '../../../src/protocol/tensor.js';
import {
  MAX_FRAME_RANK,
  MAX_FRAME_TENSORS,
  decodeTensorFrame,
  encodeTensorFrame,
} from '../../../src/protocol/tensor-frame.js';

const SAMPLES: Readonly<Record<DataType, NamedTensor>> = {
  BOOL: { name: 'b', type: 'BOOL', shape: [3], data: new Uint8Array([0, 1, 1]) },
  UINT8: { name: 'u8', type: 'UINT8', shape: [2], data: new Uint8Array([0, 255]) },
  UINT16: { name: 'u16', type: 'UINT16', shape: [2], data: new Uint16Array([0, 65535]) },
  UINT32: { name: 'u32', type: 'UINT32', shape: [2], data: new Uint32Array([0, 4294967295]) },
  UINT64: { name: 'u64', type: 'UINT64', shape: [2], data: new BigUint64Array([0n, 2n ** 64n - 1n]) },
  INT8: { name: 'i8', type: 'INT8', shape: [2], data: new Int8Array([-128, 127]) },
  INT16: { name: 'i16', type: 'INT16', shape: [2], data: new Int16Array([-32768, 32767]) },
  INT32: { name: 'i32', type: 'INT32', shape: [2], data: new Int32Array([-2147483648, 2147483647]) },
  INT64: {
    name: 'i64',
    type: 'INT64',
    shape: [3],
    data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, -1n]),
  },
  // 1.0, +Inf, a NaN payload, -0, the smallest subnormal
  FP16: {
    name: 'f16',
    type: 'FP16',
    shape: [5],
    data: new Uint16Array([0x3c00, 0x7c00, 0x7e01, 0x8000, 0x0001]),
  },
  FP32: { name: 'f32', type: 'FP32', shape: [2, 2], data: new Float32Array([1.5, -0, NaN, -Infinity]) },
  FP64: { name: 'f64', type: 'FP64', shape: [2], data: new Float64Array([Math.PI, -1e300]) },
  BYTES: { name: 'bytes', type: 'BYTES', shape: [5], data: ['', 'héllo', '日本語', '🙂 emoji', 'a|b'] },
};

function decodeError(frame: Uint8Array): string {
  try {
    decodeTensorFrame(frame);
  } catch (error) {
    expect(error).toBeInstanceOf(CsError);
    expect((error as CsError).code).toBe('CS_ERR_INPUT_DECODE');
    return (error as CsError).message;
  }
  throw new Error('expected the frame to be refused');
}

/** Byte offset of the first tensor's datatype index (after magic, count, name length and name). */
const typeByteOf = (nameLength: number): number => 8 + 2 + nameLength;

describe('tensor frame', () => {
  it('is the serde kind "tensor"', () => {
    expect(SERDE.tensor).toBe('tensor');
  });

  it.each(DATA_TYPES.map((t) => [t]))('round-trips %s exactly', (type) => {
    const tensor = SAMPLES[type];
    const [decoded, ...rest] = decodeTensorFrame(encodeTensorFrame([tensor]));
    expect(rest).toHaveLength(0);
    expect(decoded).toEqual(tensor);
    if (type !== 'BYTES') expect(decoded?.data.constructor).toBe(tensor.data.constructor);
  });

  it('keeps FP16 and FP32 bits exactly (NaN payloads, -0)', () => {
    const decoded = decodeTensorFrame(encodeTensorFrame([SAMPLES.FP16, SAMPLES.FP32]));
    expect(Array.from(decoded[0]?.data as Uint16Array)).toEqual([0x3c00, 0x7c00, 0x7e01, 0x8000, 0x0001]);
    expect(Object.is((decoded[1]?.data as Float32Array)[1], -0)).toBe(true);
  });

  it('round-trips every datatype in one frame, zero-size tensors and rank-0 scalars', () => {
    const tensors: NamedTensor[] = [
      ...DATA_TYPES.map((t) => SAMPLES[t]),
      { name: 'empty', type: 'FP32', shape: [0, 3], data: new Float32Array(0) },
      { name: 'empty strings', type: 'BYTES', shape: [2, 0], data: [] },
      { name: 'scalar', type: 'INT64', shape: [], data: new BigInt64Array([42n]) },
      { name: 'string scalar', type: 'BYTES', shape: [], data: ['x'] },
      { name: '', type: 'UINT8', shape: [1], data: new Uint8Array([7]) },
    ];
    expect(decodeTensorFrame(encodeTensorFrame(tensors))).toEqual(tensors);
    expect(decodeTensorFrame(encodeTensorFrame([]))).toEqual([]);
  });

  it('starts each payload at a multiple of 8 and decodes aligned payloads as views over the frame', () => {
    const tensors: NamedTensor[] = [
      { name: 'abc', type: 'UINT8', shape: [3], data: new Uint8Array([1, 2, 3]) },
      { name: 'x', type: 'FP64', shape: [2], data: new Float64Array([1, 2]) },
    ];
    const frame = encodeTensorFrame(tensors);
    const decoded = decodeTensorFrame(frame);
    for (const tensor of decoded) {
      const data = tensor.data as Float64Array | Uint8Array;
      expect(data.buffer).toBe(frame.buffer);
      expect((data.byteOffset - frame.byteOffset) % 8).toBe(0);
    }
  });

  it('decodes a frame that sits at an unaligned offset (copying what it must)', () => {
    const frame = encodeTensorFrame([SAMPLES.FP64, SAMPLES.INT64, SAMPLES.BYTES]);
    const shifted = Buffer.alloc(frame.length + 3);
    frame.copy(shifted, 3);
    expect(decodeTensorFrame(shifted.subarray(3))).toEqual([SAMPLES.FP64, SAMPLES.INT64, SAMPLES.BYTES]);
  });

  it('refuses a frame cut anywhere', () => {
    const frame = encodeTensorFrame([SAMPLES.FP32, SAMPLES.BYTES]);
    for (let cut = 0; cut < frame.length; cut++) decodeError(frame.subarray(0, cut));
    expect(decodeError(frame.subarray(0, 20))).toMatch(/truncated at byte \d+: .* needs \d+ bytes/);
  });

  it('answers corrupted frames with a decode error or a valid result, never a crash', () => {
    const frame = encodeTensorFrame([SAMPLES.FP32, SAMPLES.BYTES, SAMPLES.INT64]);
    let seed = 777;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    let refused = 0;
    for (let trial = 0; trial < 400; trial++) {
      const copy = Buffer.from(frame);
      for (let k = 0; k < 2; k++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
      try {
        decodeTensorFrame(copy);
      } catch (error) {
        expect(error).toBeInstanceOf(CsError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });

  it('refuses garbage and bad headers with the reason', () => {
    expect(decodeError(Buffer.from('definitely not a tensor frame'))).toMatch(/does not start with "CST1"/);
    const frame = encodeTensorFrame([SAMPLES.FP32]);
    const manyTensors = Buffer.from(frame);
    manyTensors.writeUInt32LE(MAX_FRAME_TENSORS + 1, 4);
    expect(decodeError(manyTensors)).toMatch(/claims 1025 tensors, at most 1024/);
    const extra = Buffer.concat([frame, Buffer.from([0])]);
    expect(decodeError(extra)).toMatch(/1 bytes follow the last tensor/);
  });

  it('refuses an unknown datatype index and a rank above the bound', () => {
    const frame = encodeTensorFrame([SAMPLES.FP32]);
    const unknownType = Buffer.from(frame);
    unknownType[typeByteOf(3)] = DATA_TYPES.length;
    expect(decodeError(unknownType)).toMatch(/unknown datatype index 13/);
    const deep = Buffer.from(frame);
    deep[typeByteOf(3) + 1] = MAX_FRAME_RANK + 1;
    expect(decodeError(deep)).toMatch(/rank 17 is above 16/);
  });

  it('refuses a payload length that does not match the dims', () => {
    const frame = Buffer.from(encodeTensorFrame([SAMPLES.FP32]));
    const firstDim = typeByteOf(3) + 2;
    frame.writeUInt32LE(3, firstDim); // 3×2 float32 = 24 bytes, payload holds 16
    expect(decodeError(frame)).toMatch(/shape \[3,2\] of FP32 needs 24 payload bytes, got 16/);
    const huge = Buffer.from(encodeTensorFrame([SAMPLES.FP32]));
    huge.writeUInt32LE(0xffffffff, firstDim);
    huge.writeUInt32LE(0xffffffff, firstDim + 4);
    decodeError(huge);
  });

  it('refuses BYTES payloads whose element lengths do not add up, and invalid UTF-8', () => {
    const one: NamedTensor = { name: 's', type: 'BYTES', shape: [1], data: ['abcd'] };
    const frame = encodeTensorFrame([one]);
    const payloadStart = frame.length - 8; // u32 length + "abcd"
    const long = Buffer.from(frame);
    long.writeUInt32LE(100, payloadStart);
    expect(decodeError(long)).toMatch(/element 0 claims 100 bytes, 4 left/);
    const short = Buffer.from(frame);
    short.writeUInt32LE(2, payloadStart);
    expect(decodeError(short)).toMatch(/2 payload bytes follow the last element/);
    const invalid = Buffer.from(frame);
    invalid[payloadStart + 4] = 0xff;
    expect(decodeError(invalid)).toMatch(/element 0 is not valid UTF-8/);
    const manyStrings = Buffer.from(frame);
    manyStrings.writeUInt32LE(1000, typeByteOf(1) + 2);
    expect(decodeError(manyStrings)).toMatch(/1000 BYTES elements cannot fit/);
    const badName = Buffer.from(frame);
    badName[10] = 0xc3; // a lone UTF-8 lead byte as the name
    expect(decodeError(badName)).toMatch(/name is not valid UTF-8/);
  });

  it('refuses BOOL bytes other than 0 and 1', () => {
    const frame = Buffer.from(encodeTensorFrame([SAMPLES.BOOL]));
    frame[frame.length - 1] = 2;
    expect(decodeError(frame)).toMatch(/BOOL element 2 is 2/);
  });

  it('refuses to encode inconsistent tensors', () => {
    const bad = (tensor: NamedTensor): void => {
      expect(() => encodeTensorFrame([tensor])).toThrow(
        expect.objectContaining({ code: 'CS_ERR_INPUT_MISMATCH' }),
      );
    };
    bad({ name: 'x', type: 'FP32', shape: [3], data: new Float32Array(2) });
    bad({ name: 'x', type: 'FP32', shape: [1], data: new Float64Array(1) });
    bad({ name: 'x', type: 'BYTES', shape: [1], data: new Uint8Array(1) });
    bad({ name: 'x', type: 'INT64', shape: [1], data: ['1'] });
    bad({ name: 'x', type: 'FP32', shape: [-1], data: new Float32Array(0) });
    bad({ name: 'x', type: 'FP32', shape: new Array<number>(17).fill(1), data: new Float32Array(1) });
    bad({ name: 'x'.repeat(70000), type: 'FP32', shape: [1], data: new Float32Array(1) });
    const many = Array.from({ length: 1025 }, () => SAMPLES.UINT8);
    expect(() => encodeTensorFrame(many)).toThrow(CsError);
  });
});
