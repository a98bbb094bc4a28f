/**
 * The result `value` of BigDL entries: base64 of an Arrow IPC stream with schema
 * {data: float32, shape: int32} (both nullable) and one record batch per model output,
 * written as BigDL's ArrowSerializer wrote it: rows = element count, `data` = the values
 * row-major (never a null), `shape` = the dims in its first rows and null after. An output
 * with more dims than elements ([1, 1], [1, 3, 1, 1]) has its dims cut at the element count,
 * as BigDL cut them, so BigDL's Python client (`record_batch[0].to_numpy()`, which refuses
 * nulls, then `data.reshape([d for d in shape if d])`) reads every result. Where BigDL's cut
 * would not fit the values ([1, 1, 1, 2] cut to [1, 1]), the dims of size 1 are dropped
 * instead, so the reshape still fits. An output with no elements cannot be reshaped by
 * numpy: it is refused here, and the worker answers the record as a failure.
 *
 * The full shapes go where pyarrow's reader does not look: the schema's custom metadata,
 * key `cluster-serving.shapes`, a JSON list with one shape per record batch. Our decoder
 * returns those; a result without that key (BigDL's own) gets the shape from the column.
 *
 * The schema message is built once by apache-arrow, each result's metadata value spliced in
 * (bigdl-result-schema.ts); the record batch messages are written here directly, because the
 * generic writer costs more than the inference of a small model. Their flatbuffer layout is
 * fixed (see writeBatch) and tests read them back with apache-arrow's reader and compare with
 * its generic writer.
 */
import { pad8, schemaMessage, SHAPES_METADATA_KEY } from './bigdl-result-schema.js';
import { CsError } from '../errors/registry.js';
import { isFloat32, isInt32, primitiveValues } from './arrow-columns.js';
import { columnsOf, isValidAt, readIpcStream, typeText } from './arrow-ipc-reader.js';
import type { IpcColumn } from './arrow-ipc-reader.js';
import { decodeBase64 } from './base64.js';
import { castTensor } from './cast.js';
import { elementCount } from './tensor.js';
import type { Tensor } from './tensor.js';

/**
 * The dims written into the `shape` column of an output of `count` (> 0) elements: all of
 * them when they fit in `count` rows, else BigDL's cut at `count`, unless that cut would not
 * reshape the values (then the dims of size 1 are dropped: fewer than `count` remain).
 */
export function bigdlShapeColumn(shape: readonly number[], count: number): readonly number[] {
  if (shape.length <= count) return shape;
  const cut = shape.slice(0, count);
  if (elementCount(cut) === count) return cut;
  return shape.filter((d) => d !== 1);
}

const BATCH_METADATA_BYTES = 184;
const BATCH_HEADER_BYTES = 8 + BATCH_METADATA_BYTES;
const EOS_BYTES = 8;

interface BatchPlan {
  readonly values: Float32Array;
  /** The dims written into the `shape` column (see bigdlShapeColumn). */
  readonly shapeColumn: readonly number[];
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
  if (data.length === 0) {
    throw new CsError(
      'CS_ERR_INFERENCE_FAILED',
      `output ${index} has shape [${shape.join(',')}], no elements: BigDL's result form cannot carry an empty output (BigDL's Python client cannot reshape it); read it with our client's tensor serde or the Open Inference Protocol`,
    );
  }
  let values: Float32Array;
  if (data instanceof Float32Array && type === 'FP32') values = data;
  else if (type === 'FP16' || type === 'INT64' || type === 'UINT64')
    values = castTensor(output, 'FP32').data as Float32Array;
  // A float cast of the other types never fails (FP64 beyond float32 becomes ±Infinity).
  else values = Float32Array.from(data as Float64Array);
  const rows = values.length;
  const shapeColumn = bigdlShapeColumn(shape, rows);
  const bitmapBytes = Math.ceil(rows / 8);
  const shapeBitmap = shapeColumn.length < rows ? pad8(bitmapBytes) : 0;
  const bodyBytes = pad8(rows * 4) + shapeBitmap + pad8(rows * 4);
  return { values, shapeColumn, rows, bitmapBytes, bodyBytes };
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
  const { rows, values, shapeColumn } = plan;
  const shapeNulls = rows - shapeColumn.length;
  const buffers = [0, rows * 4, shapeNulls > 0 ? plan.bitmapBytes : 0, rows * 4];
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
  setLong(view, m + 88, 0); // `data` never holds a null
  setLong(view, m + 96, rows);
  setLong(view, m + 104, shapeNulls);
  view.setUint32(m + 116, 4, true);
  const body = at + BATCH_HEADER_BYTES;
  let offset = 0;
  for (const [k, length] of buffers.entries()) {
    setLong(view, m + 120 + 16 * k, offset);
    setLong(view, m + 128 + 16 * k, length);
    const start = body + offset;
    if (k === 1) new Float32Array(bytes.buffer, bytes.byteOffset + start, values.length).set(values);
    if (k === 2 && length > 0) writeValidity(bytes, start, shapeColumn.length);
    if (k === 3) new Int32Array(bytes.buffer, bytes.byteOffset + start, shapeColumn.length).set(shapeColumn);
    offset += pad8(length);
  }
  return body + plan.bodyBytes;
}

export function encodeBigdlResult(outputs: readonly Tensor[]): string {
  const plans = outputs.map(planBatch);
  const schema = schemaMessage(outputs.map((o) => o.shape));
  let total = schema.length + EOS_BYTES;
  for (const plan of plans) total += BATCH_HEADER_BYTES + plan.bodyBytes;
  // A fresh zero-filled buffer: padding and null slots must be zero, and offset 0 keeps every
  // value buffer aligned for the typed-array views written through.
  const bytes = Buffer.alloc(total);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  bytes.set(schema, 0);
  let at = schema.length;
  for (const plan of plans) at = writeBatch(bytes, view, at, plan);
  view.setUint32(at, 0xffffffff, true);
  return bytes.toString('base64');
}

/** The outputs in a BigDL result `value`, as FP32 tensors of their full shapes. */
export function decodeBigdlResult(value: string): Tensor[] {
  const what = 'result value';
  const { fields, metadata, batches } = readIpcStream(decodeBase64(value, what), what);
  const [dataField, shapeField] = fields;
  if (fields.length !== 2 || !isFloat32(dataField!) || !isInt32(shapeField!)) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `${what}: expected schema {data: float32, shape: int32}, found {${fields.map((f) => `${f.name}: ${typeText(f)}`).join(', ')}}`,
    );
  }
  const fullShapes = shapesFromMetadata(metadata.get(SHAPES_METADATA_KEY), batches.length, what);
  return batches.map((batch, index) => {
    const [dataColumn, shapeColumn] = columnsOf(fields, batch, what) as [IpcColumn, IpcColumn];
    let shape = fullShapes?.[index];
    if (shape === undefined) {
      const shapeValues = primitiveValues(shapeColumn, 'INT32');
      shape = [];
      for (let row = 0; row < shapeColumn.length; row++) {
        if (isValidAt(shapeColumn, row)) shape.push(shapeValues[row]!);
      }
    }
    const count = elementCount(shape);
    // Values fill the first rows; only padding rows after them may be null (our results
    // before the BigDL form was matched padded `data` with nulls).
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

/** The full shapes of the schema metadata, checked; undefined when the result has none. */
function shapesFromMetadata(text: string | undefined, batches: number, what: string): number[][] | undefined {
  if (text === undefined) return undefined;
  let shapes: unknown;
  try {
    shapes = JSON.parse(text);
  } catch {
    shapes = undefined;
  }
  const isShape = (s: unknown): s is number[] =>
    Array.isArray(s) && s.every((d) => Number.isSafeInteger(d) && (d as number) >= 0);
  if (!Array.isArray(shapes) || shapes.length !== batches || !shapes.every(isShape)) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `${what}: schema metadata "${SHAPES_METADATA_KEY}" must be a JSON list of ${batches} shapes, found ${text.slice(0, 200)}`,
    );
  }
  return shapes;
}

/** How many rows lead before the first null, or -1 when a value follows a null. */
function validPrefix(column: IpcColumn): number {
  if (column.validity === undefined) return column.length;
  let prefix = 0;
  while (prefix < column.length && isValidAt(column, prefix)) prefix++;
  for (let row = prefix; row < column.length; row++) if (isValidAt(column, row)) return -1;
  return prefix;
}
