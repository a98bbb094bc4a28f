/**
 * KServe's binary tensor extension, as Triton's clients use it by default: the body is a JSON
 * header of `Inference-Header-Content-Length` bytes followed by raw tensor bytes. An input
 * with `parameters.binary_data_size` takes that many bytes of the tail, in input order; an
 * output asked for with `parameters.binary_data: true` (or every output, with the request's
 * `parameters.binary_data_output: true`) is answered the same way. Values are little-endian,
 * BOOL one byte each, FP16 the raw half bits, BYTES each element as a 4-byte little-endian
 * length and its bytes.
 */
import { CsError } from '../errors/registry.js';
import {
  allocate,
  BYTES_PER_ELEMENT,
  type DataType,
  type Tensor,
  type TensorData,
} from '../protocol/tensor.js';

export const HEADER_LENGTH = 'inference-header-content-length';

function bad(message: string): CsError {
  return new CsError('CS_ERR_HTTP_BAD_REQUEST', message);
}

/** The JSON header and the binary tail of a body; no tail when the request names no header length. */
export function splitBinaryBody(
  bytes: Buffer,
  headerLength: string | string[] | undefined,
): { json: Buffer; binary: Buffer | undefined } {
  if (headerLength === undefined) return { json: bytes, binary: undefined };
  const text = Array.isArray(headerLength) ? headerLength.join(',') : headerLength;
  const length = /^\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(length) || length < 1 || length > bytes.length) {
    throw bad(
      `Inference-Header-Content-Length must be the JSON header's length in bytes, from 1 to the body's ${bytes.length}; got ${JSON.stringify(text)}`,
    );
  }
  return { json: bytes.subarray(0, length), binary: bytes.subarray(length) };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** JPEG, PNG or WebP magic: raw image bytes, which the image path takes as base64. */
function isImage(bytes: Uint8Array): boolean {
  const ascii = (from: number, to: number): string => String.fromCharCode(...bytes.subarray(from, to));
  return (
    (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) ||
    (bytes[0] === 0x89 && ascii(1, 4) === 'PNG') ||
    (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP')
  );
}

/**
 * One input's values from its `size` bytes. BYTES elements that are UTF-8 text are that text;
 * raw JPEG, PNG or WebP bytes become base64 (how images travel to the workers); anything else
 * is refused.
 */
export function binaryTensorData(bytes: Buffer, type: DataType, count: number, label: string): TensorData {
  if (type === 'BYTES') return binaryStrings(bytes, count, label);
  const expected = count * BYTES_PER_ELEMENT[type];
  if (bytes.length !== expected) {
    throw bad(
      `${label}: binary_data_size is ${bytes.length} bytes, but ${count} ${type} values take ${expected}`,
    );
  }
  const out = allocate(type, count);
  // Copied into an array of its own: the tail's offsets need not be aligned for the type.
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
  if (type === 'BOOL') for (let i = 0; i < count; i++) out[i] = out[i] === 0 ? 0 : 1;
  return out;
}

function binaryStrings(bytes: Buffer, count: number, label: string): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (out.length === count) {
      throw bad(`${label}: the binary data holds more than the shape's ${count} BYTES elements`);
    }
    if (at + 4 > bytes.length) throw bad(`${label}: BYTES element ${out.length} has a cut length prefix`);
    const length = bytes.readUInt32LE(at);
    const element = bytes.subarray(at + 4, at + 4 + length);
    if (element.length !== length) {
      throw bad(`${label}: BYTES element ${out.length} says ${length} bytes, ${element.length} are left`);
    }
    out.push(elementText(element, out.length, label));
    at += 4 + length;
  }
  if (out.length !== count) {
    throw bad(`${label}: the binary data holds ${out.length} BYTES elements, the shape needs ${count}`);
  }
  return out;
}

function elementText(element: Buffer, index: number, label: string): string {
  try {
    return UTF8.decode(element);
  } catch {
    if (isImage(element)) return element.toString('base64');
    throw bad(
      `${label}: BYTES element ${index} is neither UTF-8 text nor a JPEG, PNG or WebP image (first bytes ${element.subarray(0, 8).toString('hex')})`,
    );
  }
}

/** A tensor's values laid out as the extension sends them. */
export function binaryTensorBytes(tensor: Tensor): Buffer {
  if (tensor.type !== 'BYTES') {
    const data = tensor.data as Exclude<TensorData, string[]>;
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }
  const parts: Buffer[] = [];
  for (const text of tensor.data as string[]) {
    const element = Buffer.from(text, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(element.length);
    parts.push(length, element);
  }
  return Buffer.concat(parts);
}
