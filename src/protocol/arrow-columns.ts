/**
 * Reading Arrow columns straight from their buffers. apache-arrow's row accessors and
 * `toJSON` build one JS object per value; on the worker's hot path we only ever need the
 * value buffers, concatenated. Every offset is checked against the buffer it points into,
 * because a payload that parses as Arrow can still lie about its sizes.
 */
import { DataType, Precision, RecordBatchReader } from 'apache-arrow';
import type { Data, RecordBatch, Schema } from 'apache-arrow';
import { CsError } from '../errors/registry.js';

/** Schema and batches of an Arrow IPC stream (with or without continuation markers). */
export function readIpcStream(bytes: Uint8Array, what: string): { schema: Schema; batches: RecordBatch[] } {
  let schema: Schema | undefined;
  let batches: RecordBatch[];
  try {
    const reader = RecordBatchReader.from(bytes);
    reader.open();
    schema = reader.schema as Schema | undefined;
    batches = reader.readAll();
  } catch (error) {
    throw new CsError('CS_ERR_INPUT_DECODE', `${what} is not a readable Arrow IPC stream: ${String(error)}`, {
      cause: error,
    });
  }
  if (schema === undefined) {
    throw new CsError('CS_ERR_INPUT_DECODE', `${what} is not an Arrow IPC stream: no schema message found`);
  }
  if (batches.length === 0) {
    throw new CsError('CS_ERR_INPUT_DECODE', `${what} holds an Arrow schema but no record batch`);
  }
  return { schema, batches };
}

export function isInt32(type: DataType): boolean {
  return DataType.isInt(type) && type.bitWidth === 32 && type.isSigned;
}

export function isFloat32(type: DataType): boolean {
  return DataType.isFloat(type) && type.precision === Precision.SINGLE;
}

/** True when `list` is list<element>, for the element test given. */
export function isListOf(type: DataType, element: (t: DataType) => boolean): boolean {
  if (!DataType.isList(type)) return false;
  const child = type.children[0];
  return child !== undefined && element(child.type);
}

/** False for a null row (a row of a column without nulls is always valid). */
export function isRowValid(data: Data, row: number): boolean {
  return data.nullCount === 0 || data.getValid(row);
}

/** Typed array constructor of the list's element values (Float32Array or Int32Array). */
type ValuesCtor = Float32ArrayConstructor | Int32ArrayConstructor;

/**
 * The element values of list column chunks, concatenated over every non-null row of every
 * chunk where `rowValid` allows. A single contributing row is returned as a view (no copy).
 */
export function concatListValues<C extends ValuesCtor>(
  chunks: readonly Data[],
  rowValid: (chunk: number, row: number) => boolean,
  ctor: C,
  where: string,
): InstanceType<C> {
  const pieces: InstanceType<C>[] = [];
  let total = 0;
  for (let c = 0; c < chunks.length; c++) {
    const list = chunks[c]!;
    const offsets = list.valueOffsets as Int32Array | undefined;
    const child = list.children[0];
    const values = child?.values as InstanceType<C> | undefined;
    if (offsets === undefined || child === undefined || !(values instanceof ctor)) {
      throw new CsError('CS_ERR_INPUT_DECODE', `${where}: list buffers are missing`);
    }
    if (child.nullCount > 0) throw new CsError('CS_ERR_INPUT_DECODE', `${where}: holds null elements`);
    if (offsets.length < list.length + 1) {
      throw new CsError(
        'CS_ERR_INPUT_DECODE',
        `${where}: offsets buffer is shorter than its ${list.length} rows`,
      );
    }
    for (let row = 0; row < list.length; row++) {
      if (!rowValid(c, row) || !isRowValid(list, row)) continue;
      const start = offsets[row]!;
      const end = offsets[row + 1]!;
      if (start < 0 || end < start || end > values.length) {
        throw new CsError(
          'CS_ERR_INPUT_DECODE',
          `${where}: row ${row} points at values ${start}..${end} of ${values.length}`,
        );
      }
      if (end > start) {
        pieces.push(values.subarray(start, end) as InstanceType<C>);
        total += end - start;
      }
    }
  }
  if (pieces.length === 1) return pieces[0]!;
  const out = new ctor(total) as InstanceType<C>;
  let at = 0;
  for (const piece of pieces) {
    out.set(piece as ArrayLike<number>, at);
    at += piece.length;
  }
  return out;
}

/** Every non-null string of utf8 / large utf8 column chunks, in row order. */
export function stringValues(chunks: readonly Data[], where: string): string[] {
  const out: string[] = [];
  for (const data of chunks) {
    const offsets = data.valueOffsets as Int32Array | BigInt64Array | undefined;
    const bytes = data.values as Uint8Array | undefined;
    if (offsets === undefined || !(bytes instanceof Uint8Array)) {
      throw new CsError('CS_ERR_INPUT_DECODE', `${where}: string buffers are missing`);
    }
    if (offsets.length < data.length + 1) {
      throw new CsError(
        'CS_ERR_INPUT_DECODE',
        `${where}: offsets buffer is shorter than its ${data.length} rows`,
      );
    }
    for (let row = 0; row < data.length; row++) {
      if (!isRowValid(data, row)) continue;
      const start = Number(offsets[row]);
      const end = Number(offsets[row + 1]);
      if (start < 0 || end < start || end > bytes.length) {
        throw new CsError(
          'CS_ERR_INPUT_DECODE',
          `${where}: row ${row} points at bytes ${start}..${end} of ${bytes.length}`,
        );
      }
      out.push(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8'));
    }
  }
  return out;
}
