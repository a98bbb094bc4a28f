/**
 * Values of Arrow columns read straight from their buffers, concatenated over rows. The
 * offsets were already checked by the IPC reader, so slicing by them stays in bounds.
 */
import { CsError } from '../errors/registry.js';
import { isValidAt } from './arrow-ipc-reader.js';
import type { IpcColumn, IpcField } from './arrow-ipc-reader.js';
import { viewAs } from './tensor.js';

export function isInt32(field: IpcField): boolean {
  return field.type.kind === 'int' && field.type.bitWidth === 32 && field.type.signed;
}

export function isFloat32(field: IpcField): boolean {
  return field.type.kind === 'float' && field.type.bits === 32;
}

/** True when `field` is list<element> for the element test given. */
export function isListOf(field: IpcField, element: (f: IpcField) => boolean): boolean {
  const child = field.children[0];
  return field.type.kind === 'list' && child !== undefined && element(child);
}

/** A typed view of the values of an int32 or float32 column (copied when unaligned). */
export function primitiveValues(column: IpcColumn, type: 'INT32'): Int32Array;
export function primitiveValues(column: IpcColumn, type: 'FP32'): Float32Array;
export function primitiveValues(column: IpcColumn, type: 'INT32' | 'FP32'): Int32Array | Float32Array {
  return viewAs(type, column.values ?? new Uint8Array(0)) as Int32Array | Float32Array;
}

/**
 * The element values of list columns (int32 or float32 elements), concatenated over every
 * row that is valid in the list and that `rowValid` allows. A single contributing row is
 * returned as a view (no copy).
 */
export function concatListValues<T extends 'INT32' | 'FP32'>(
  lists: readonly IpcColumn[],
  rowValid: (chunk: number, row: number) => boolean,
  type: T,
  where: string,
): T extends 'FP32' ? Float32Array : Int32Array {
  type Out = T extends 'FP32' ? Float32Array : Int32Array;
  const pieces: Out[] = [];
  let total = 0;
  for (let c = 0; c < lists.length; c++) {
    const list = lists[c]!;
    const child = list.children[0]!;
    if (child.validity !== undefined)
      throw new CsError('CS_ERR_INPUT_DECODE', `${where}: holds null elements`);
    const values = primitiveValues(child, type as 'FP32') as Out;
    const offsets = list.offsets!;
    for (let row = 0; row < list.length; row++) {
      if (!rowValid(c, row) || !isValidAt(list, row)) continue;
      const start = offsets[row]!;
      const end = offsets[row + 1]!;
      if (end > start) {
        pieces.push(values.subarray(start, end) as Out);
        total += end - start;
      }
    }
  }
  if (pieces.length === 1) return pieces[0]!;
  const out = (type === 'FP32' ? new Float32Array(total) : new Int32Array(total)) as Out;
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/** Every non-null string of utf8 columns, in row order. */
export function stringValues(columns: readonly IpcColumn[]): string[] {
  const out: string[] = [];
  for (const column of columns) {
    const offsets = column.offsets!;
    const bytes = column.values!;
    for (let row = 0; row < column.length; row++) {
      if (!isValidAt(column, row)) continue;
      const start = offsets[row]!;
      out.push(
        Buffer.from(bytes.buffer, bytes.byteOffset + start, offsets[row + 1]! - start).toString('utf8'),
      );
    }
  }
  return out;
}
