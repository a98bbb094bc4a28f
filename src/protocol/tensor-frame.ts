/**
 * Our binary tensor form, for `serde: "tensor"` entries and their results. Little endian:
 *   "CST1" | u32 tensor count | per tensor:
 *     u16 name byte length, utf8 name | u8 index in DATA_TYPES | u8 rank | rank × u32 dims |
 *     u32 payload byte length | zero padding to a multiple of 8 from the frame start | payload
 * The payload is the raw element bytes (BOOL one byte 0/1, FP16 half bits, 64-bit ints as
 * 8 bytes) or, for BYTES, per element a u32 byte length and the utf8 bytes.
 * The padding lets a decoder hand out typed-array views over the frame instead of copies.
 */
import { CsError } from '../errors/registry.js';
import { BYTES_PER_ELEMENT, DATA_TYPES, elementCount, viewAs } from './tensor.js';
import type { DataType, NamedTensor, NumericArray } from './tensor.js';

export const MAX_FRAME_TENSORS = 1024;
export const MAX_FRAME_RANK = 16;

const MAGIC = 0x31545343; // "CST1" read as a little-endian u32
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const pad8 = (n: number): number => (n + 7) & ~7;

function invalid(name: string, why: string): CsError {
  return new CsError('CS_ERR_INPUT_MISMATCH', `tensor "${name}": ${why}`);
}

interface Planned {
  readonly tensor: NamedTensor;
  readonly name: Buffer;
  readonly typeIndex: number;
  /** Per BYTES element, its utf8 bytes. */
  readonly strings: readonly Buffer[] | undefined;
  readonly payloadBytes: number;
}

function plan(tensor: NamedTensor): Planned {
  const { name, type, shape, data } = tensor;
  const typeIndex = DATA_TYPES.indexOf(type);
  if (typeIndex < 0) throw invalid(name, `unknown datatype ${String(type)}`);
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length > 0xffff)
    throw invalid(name.slice(0, 64), `name is ${nameBytes.length} bytes, at most 65535`);
  if (shape.length > MAX_FRAME_RANK) throw invalid(name, `rank ${shape.length} is above ${MAX_FRAME_RANK}`);
  if (shape.some((d) => !Number.isInteger(d) || d < 0 || d > 0xffffffff)) {
    throw invalid(name, `shape [${shape.join(',')}] must hold integers in 0..4294967295`);
  }
  if (data.length !== elementCount(shape)) {
    throw invalid(name, `shape [${shape.join(',')}] needs ${elementCount(shape)} values, got ${data.length}`);
  }
  if (type === 'BYTES') {
    if (!Array.isArray(data)) throw invalid(name, 'BYTES data must be an array of strings');
    const strings = data.map((s) => Buffer.from(s, 'utf8'));
    const payloadBytes = strings.reduce((sum, s) => sum + 4 + s.length, 0);
    return { tensor, name: nameBytes, typeIndex, strings, payloadBytes };
  }
  if (Array.isArray(data) || data.BYTES_PER_ELEMENT !== BYTES_PER_ELEMENT[type]) {
    throw invalid(name, `${type} data must be a typed array of ${BYTES_PER_ELEMENT[type]}-byte elements`);
  }
  return { tensor, name: nameBytes, typeIndex, strings: undefined, payloadBytes: data.byteLength };
}

export function encodeTensorFrame(tensors: readonly NamedTensor[]): Buffer {
  if (tensors.length > MAX_FRAME_TENSORS) {
    throw new CsError(
      'CS_ERR_INPUT_MISMATCH',
      `${tensors.length} tensors, at most ${MAX_FRAME_TENSORS} per frame`,
    );
  }
  const plans = tensors.map(plan);
  let total = 8;
  for (const p of plans)
    total = pad8(total + 2 + p.name.length + 2 + 4 * p.tensor.shape.length + 4) + p.payloadBytes;
  // Zero-filled, so the padding needs no writes.
  const frame = Buffer.alloc(total);
  frame.writeUInt32LE(MAGIC, 0);
  frame.writeUInt32LE(plans.length, 4);
  let at = 8;
  for (const p of plans) {
    const { shape, data } = p.tensor;
    at = frame.writeUInt16LE(p.name.length, at);
    at += p.name.copy(frame, at);
    at = frame.writeUInt8(p.typeIndex, at);
    at = frame.writeUInt8(shape.length, at);
    for (const d of shape) at = frame.writeUInt32LE(d, at);
    at = pad8(frame.writeUInt32LE(p.payloadBytes, at));
    if (p.strings !== undefined) {
      for (const s of p.strings) {
        at = frame.writeUInt32LE(s.length, at);
        at += s.copy(frame, at);
      }
    } else {
      const numeric = data as NumericArray;
      frame.set(new Uint8Array(numeric.buffer, numeric.byteOffset, numeric.byteLength), at);
      at += numeric.byteLength;
    }
  }
  return frame;
}

/**
 * The tensors of a frame. Numeric data are views over `frame` when their offset is aligned
 * for the type (copies otherwise): the caller must not reuse the frame's memory while it
 * holds the tensors.
 */
export function decodeTensorFrame(frame: Uint8Array): NamedTensor[] {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let at = 0;
  let where = 'tensor frame';
  const need = (bytes: number, what: string): void => {
    if (at + bytes > frame.length) {
      throw new CsError(
        'CS_ERR_INPUT_DECODE',
        `${where}: truncated at byte ${at}: ${what} needs ${bytes} bytes, ${frame.length - at} left`,
      );
    }
  };
  need(8, 'the header');
  if (view.getUint32(0, true) !== MAGIC) {
    throw new CsError('CS_ERR_INPUT_DECODE', 'tensor frame: does not start with "CST1"');
  }
  const count = view.getUint32(4, true);
  if (count > MAX_FRAME_TENSORS) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `tensor frame: claims ${count} tensors, at most ${MAX_FRAME_TENSORS}`,
    );
  }
  at = 8;
  const tensors: NamedTensor[] = [];
  for (let i = 0; i < count; i++) {
    where = `tensor frame, tensor ${i}`;
    need(2, 'the name length');
    const nameLength = view.getUint16(at, true);
    at += 2;
    need(nameLength, 'the name');
    const name = utf8(frame.subarray(at, at + nameLength), `${where}: name`);
    at += nameLength;
    where = `tensor frame, tensor ${i} "${name}"`;
    need(2, 'the datatype and rank');
    const type = DATA_TYPES[frame[at]!];
    const rank = frame[at + 1]!;
    if (type === undefined)
      throw new CsError('CS_ERR_INPUT_DECODE', `${where}: unknown datatype index ${frame[at]!}`);
    if (rank > MAX_FRAME_RANK)
      throw new CsError('CS_ERR_INPUT_DECODE', `${where}: rank ${rank} is above ${MAX_FRAME_RANK}`);
    at += 2;
    need(4 * rank + 4, 'the dims and payload length');
    const shape: number[] = [];
    for (let d = 0; d < rank; d++) shape.push(view.getUint32(at + 4 * d, true));
    at += 4 * rank;
    const payloadBytes = view.getUint32(at, true);
    at = pad8(at + 4);
    need(payloadBytes, 'the payload');
    const payload = frame.subarray(at, at + payloadBytes);
    tensors.push({ name, type, shape, data: decodePayload(type, shape, payload, where) });
    at += payloadBytes;
  }
  if (at !== frame.length) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `tensor frame: ${frame.length - at} bytes follow the last tensor`,
    );
  }
  return tensors;
}

function utf8(bytes: Uint8Array, where: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new CsError('CS_ERR_INPUT_DECODE', `${where} is not valid UTF-8`);
  }
}

function decodePayload(
  type: DataType,
  shape: readonly number[],
  payload: Uint8Array,
  where: string,
): NamedTensor['data'] {
  const count = elementCount(shape);
  if (type === 'BYTES') return decodeStrings(count, payload, where);
  const expected = count * BYTES_PER_ELEMENT[type];
  if (expected !== payload.length) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `${where}: shape [${shape.join(',')}] of ${type} needs ${expected} payload bytes, got ${payload.length}`,
    );
  }
  if (type === 'BOOL') {
    const bad = payload.findIndex((b) => b > 1);
    if (bad >= 0)
      throw new CsError(
        'CS_ERR_INPUT_DECODE',
        `${where}: BOOL element ${bad} is ${payload[bad]!}, not 0 or 1`,
      );
  }
  return viewAs(type, payload);
}

function decodeStrings(count: number, payload: Uint8Array, where: string): string[] {
  // Each element takes at least its 4-byte length: a larger count cannot be honest.
  if (count > payload.length / 4) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `${where}: ${count} BYTES elements cannot fit in a ${payload.length}-byte payload`,
    );
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const out: string[] = new Array<string>(count);
  let at = 0;
  for (let k = 0; k < count; k++) {
    if (at + 4 > payload.length) {
      throw new CsError('CS_ERR_INPUT_DECODE', `${where}: payload ends inside the length of element ${k}`);
    }
    const length = view.getUint32(at, true);
    at += 4;
    if (at + length > payload.length) {
      throw new CsError(
        'CS_ERR_INPUT_DECODE',
        `${where}: element ${k} claims ${length} bytes, ${payload.length - at} left in the payload`,
      );
    }
    out[k] = utf8(payload.subarray(at, at + length), `${where}: element ${k}`);
    at += length;
  }
  if (at !== payload.length) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `${where}: ${payload.length - at} payload bytes follow the last element`,
    );
  }
  return out;
}
