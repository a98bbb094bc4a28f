/**
 * The result `value` of BigDL entries: base64 of an Arrow IPC stream with schema
 * {data: float32, shape: int32} (both nullable) and one record batch per model output.
 * A batch has max(elements, rank) rows: `data` holds the values row-major, `shape` the dims
 * in its first rows and null after. An output with fewer elements than dims (shape [1, 1],
 * or a zero-size [0, 3]) gets rank rows, its `data` padded with nulls after the values:
 * the only case with nulls in `data`. decodeBigdlResult reads those back; BigDL's Python
 * client cannot (pyarrow's to_numpy refuses nulls, and the reshape would not fit anyway).
 *
 * The schema message is built once by apache-arrow; the record batch messages are written
 * here directly, because the generic writer costs more than the inference of a small model.
 * Their flatbuffer layout is fixed (see writeBatch) and tests read them back with
 * apache-arrow's reader and compare with its generic writer.
 */
import {
  Field,
  Float32,
  Int32,
  makeData,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
} from 'apache-arrow';
import { CsError } from '../errors/registry.js';
import { isFloat32, isInt32, primitiveValues } from './arrow-columns.js';
import { columnsOf, isValidAt, readIpcStream, typeText } from './arrow-ipc-reader.js';
import type { IpcColumn } from './arrow-ipc-reader.js';
import { decodeBase64 } from './base64.js';
import { castTensor } from './cast.js';
import { elementCount } from './tensor.js';
import type { Tensor } from './tensor.js';

export const RESULT_SCHEMA = new Schema([
  new Field('data', new Float32(), true),
  new Field('shape', new Int32(), true),
]);

const SCHEMA_MESSAGE: Uint8Array = (() => {
  const empty = new RecordBatch(
    RESULT_SCHEMA,
    makeData({
      type: new Struct(RESULT_SCHEMA.fields),
      length: 0,
      nullCount: 0,
      children: [makeData({ type: new Float32(), length: 0 }), makeData({ type: new Int32(), length: 0 })],
    }),
  );
  const stream = RecordBatchStreamWriter.writeAll([empty]).toUint8Array(true);
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  if (view.getUint32(0, true) !== 0xffffffff) throw new Error('unexpected Arrow stream framing');
  return stream.slice(0, 8 + view.getInt32(4, true));
})();

const BATCH_METADATA_BYTES = 184;
const BATCH_HEADER_BYTES = 8 + BATCH_METADATA_BYTES;
const EOS_BYTES = 8;

const pad8 = (n: number): number => (n + 7) & ~7;

interface BatchPlan {
  readonly values: Float32Array;
  readonly shape: readonly number[];
  readonly rows: number;
  readonly bitmapBytes: number;
  /** Byte size of the body (every buffer padded to 8). */
  readonly bodyBytes: number;
}

function planBatch(output: Tensor, index: number): BatchPlan {
  const { type, shape, data } = output;
  if (type === 'BYTES' || Array.isArray(data)) {
    throw new CsError(
      'CS_ERR_INFERENCE_FAILED',
      `output ${index} holds strings; BigDL's result form holds only numbers (use the tensor serde for string outputs)`,
    );
  }
  if (
    elementCount(shape) !== data.length ||
    shape.some((d) => !Number.isInteger(d) || d < 0 || d > 0x7fffffff)
  ) {
    throw new CsError(
      'CS_ERR_INTERNAL',
      `output ${index} has shape [${shape.join(',')}] but ${data.length} values`,
    );
  }
  let values: Float32Array;
  if (data instanceof Float32Array && type === 'FP32') values = data;
  else if (type === 'FP16' || type === 'INT64' || type === 'UINT64')
    values = castTensor(output, 'FP32').data as Float32Array;
  // A float cast of the other types never fails (FP64 beyond float32 becomes ±Infinity).
  else values = Float32Array.from(data as Float64Array);
  const rows = Math.max(values.length, shape.length);
  const bitmapBytes = Math.ceil(rows / 8);
  const withNulls = (nulls: number): number => (nulls > 0 ? pad8(bitmapBytes) : 0);
  const bodyBytes =
    withNulls(rows - values.length) + pad8(rows * 4) + withNulls(rows - shape.length) + pad8(rows * 4);
  return { values, shape, rows, bitmapBytes, bodyBytes };
}

/** A non-negative int64 (sizes here stay far below 2^53), without creating BigInts. */
function setLong(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % 0x100000000, true);
  view.setUint32(at + 4, Math.floor(value / 0x100000000), true);
}

/** Sets the first `count` bits of the bitmap at `at`. */
function writeValidity(bytes: Uint8Array, at: number, count: number): void {
  bytes.fill(0xff, at, at + (count >> 3));
  if (count & 7) bytes[at + (count >> 3)] = (1 << (count & 7)) - 1;
}

/**
 * One RecordBatch message: continuation marker, metadata length, the flatbuffer, the body.
 * Flatbuffer layout (offsets from its start; all tables and vectors in one fixed shape):
 *   0 root → 16 | 4 Message vtable (version@16, header_type@18, header@4, bodyLength@8)
 *   16 Message table: header → 48, bodyLength i64, version V5, header_type RecordBatch
 *   36 RecordBatch vtable (length@8, nodes@4, buffers@16)
 *   48 RecordBatch table | 76 nodes vector (2 FieldNodes) | 116 buffers vector (4 Buffers) | 184 end
 */
function writeBatch(bytes: Uint8Array, view: DataView, at: number, plan: BatchPlan): number {
  const { rows, values, shape } = plan;
  const dataNulls = rows - values.length;
  const shapeNulls = rows - shape.length;
  const buffers = [
    dataNulls > 0 ? plan.bitmapBytes : 0,
    rows * 4,
    shapeNulls > 0 ? plan.bitmapBytes : 0,
    rows * 4,
  ];
  view.setUint32(at, 0xffffffff, true);
  view.setInt32(at + 4, BATCH_METADATA_BYTES, true);
  const m = at + 8;
  view.setUint32(m, 16, true);
  for (const [k, v] of [12, 20, 16, 18, 4, 8].entries()) view.setUint16(m + 4 + 2 * k, v, true);
  view.setInt32(m + 16, 12, true);
  view.setUint32(m + 20, 28, true);
  setLong(view, m + 24, plan.bodyBytes);
  view.setInt16(m + 32, 4, true); // MetadataVersion.V5
  bytes[m + 34] = 3; // MessageHeader.RecordBatch
  for (const [k, v] of [10, 24, 8, 4, 16].entries()) view.setUint16(m + 36 + 2 * k, v, true);
  view.setInt32(m + 48, 12, true);
  view.setUint32(m + 52, 24, true);
  setLong(view, m + 56, rows);
  view.setUint32(m + 64, 52, true);
  view.setUint32(m + 76, 2, true);
  setLong(view, m + 80, rows);
  setLong(view, m + 88, dataNulls);
  setLong(view, m + 96, rows);
  setLong(view, m + 104, shapeNulls);
  view.setUint32(m + 116, 4, true);
  const body = at + BATCH_HEADER_BYTES;
  let offset = 0;
  for (const [k, length] of buffers.entries()) {
    setLong(view, m + 120 + 16 * k, offset);
    setLong(view, m + 128 + 16 * k, length);
    const start = body + offset;
    if (k === 0 && length > 0) writeValidity(bytes, start, values.length);
    if (k === 1) new Float32Array(bytes.buffer, bytes.byteOffset + start, values.length).set(values);
    if (k === 2 && length > 0) writeValidity(bytes, start, shape.length);
    if (k === 3) new Int32Array(bytes.buffer, bytes.byteOffset + start, shape.length).set(shape);
    offset += pad8(length);
  }
  return body + plan.bodyBytes;
}

export function encodeBigdlResult(outputs: readonly Tensor[]): string {
  const plans = outputs.map(planBatch);
  let total = SCHEMA_MESSAGE.length + EOS_BYTES;
  for (const plan of plans) total += BATCH_HEADER_BYTES + plan.bodyBytes;
  // A fresh zero-filled buffer: padding and null slots must be zero, and offset 0 keeps every
  // value buffer aligned for the typed-array views written through.
  const bytes = Buffer.alloc(total);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  bytes.set(SCHEMA_MESSAGE, 0);
  let at = SCHEMA_MESSAGE.length;
  for (const plan of plans) at = writeBatch(bytes, view, at, plan);
  view.setUint32(at, 0xffffffff, true);
  return bytes.toString('base64');
}

/** The outputs in a BigDL result `value`, as FP32 tensors. */
export function decodeBigdlResult(value: string): Tensor[] {
  const what = 'result value';
  const { fields, batches } = readIpcStream(decodeBase64(value, what), what);
  const [dataField, shapeField] = fields;
  if (fields.length !== 2 || !isFloat32(dataField!) || !isInt32(shapeField!)) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `${what}: expected schema {data: float32, shape: int32}, found {${fields.map((f) => `${f.name}: ${typeText(f)}`).join(', ')}}`,
    );
  }
  return batches.map((batch, index) => {
    const [dataColumn, shapeColumn] = columnsOf(fields, batch, what) as [IpcColumn, IpcColumn];
    const shapeValues = primitiveValues(shapeColumn, 'INT32');
    const shape: number[] = [];
    for (let row = 0; row < shapeColumn.length; row++) {
      if (isValidAt(shapeColumn, row)) shape.push(shapeValues[row]!);
    }
    const count = elementCount(shape);
    // Values fill the first rows; only padding rows after them may be null.
    const valid = validPrefix(dataColumn);
    if (valid !== count || shape.some((d) => d < 0)) {
      throw new CsError(
        'CS_ERR_INPUT_DECODE',
        `${what}: output ${index} has shape [${shape.join(',')}] but ${valid < 0 ? 'nulls among its' : valid} values`,
      );
    }
    return { type: 'FP32', shape, data: primitiveValues(dataColumn, 'FP32').slice(0, count) };
  });
}

/** How many rows lead before the first null, or -1 when a value follows a null. */
function validPrefix(column: IpcColumn): number {
  if (column.validity === undefined) return column.length;
  let prefix = 0;
  while (prefix < column.length && isValidAt(column, prefix)) prefix++;
  for (let row = prefix; row < column.length; row++) if (isValidAt(column, row)) return -1;
  return prefix;
}
