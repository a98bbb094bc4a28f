/**
 * BigDL's `data` field: base64 of an Arrow IPC stream with one column per model input.
 * A tensor column is struct<indiceData: list<int32>, indiceShape: list<int32>,
 * data: list<float32>, shape: list<int32>>; BigDL's Python client spreads the four children
 * over four rows (one set per row), other writers put them in one row, so each child is read
 * by concatenating its list values over all rows. A string column carries an image (base64)
 * or `|`-joined strings; which one is decided later against the model's input type.
 */
import { Field, Float32, Int32, List, makeData, RecordBatch, RecordBatchStreamWriter } from 'apache-arrow';
import { Schema, Struct, Utf8 } from 'apache-arrow';
import type { Data } from 'apache-arrow';
import { CsError } from '../errors/registry.js';
import { decodeBase64 } from './base64.js';
import { concatListValues, isFloat32, isInt32, isListOf, stringValues } from './arrow-columns.js';
import { columnsOf, isValidAt, readIpcStream, typeText } from './arrow-ipc-reader.js';
import type { IpcColumn, IpcField } from './arrow-ipc-reader.js';
import { castTensor } from './cast.js';
import { checkDenseShape, cooToDense } from './sparse.js';
import { elementCount, type NamedTensor } from './tensor.js';

const TENSOR_CHILDREN = ['indiceData', 'indiceShape', 'data', 'shape'] as const;
const TENSOR_TYPE_TEXT =
  'struct<indiceData: list<int32>, indiceShape: list<int32>, data: list<float32>, shape: list<int32>>';

/**
 * The raw IPC bytes of a `data` field. A Buffer is normally the base64 text as Redis returns
 * it; a Buffer that starts like an IPC message instead (0xFFFFFFFF, or a legacy length whose
 * high byte is 0, neither possible in base64 text) is taken as the raw stream.
 */
function ipcBytesOf(data: Buffer | string): Uint8Array {
  if (typeof data === 'string') return decodeBase64(data, 'data');
  if (data.length >= 8 && (data[0] === 0xff || data[3] === 0)) return data;
  return decodeBase64(data.toString('latin1'), 'data');
}

export function decodeBigdlInput(data: Buffer | string): NamedTensor[] {
  const { fields, batches } = readIpcStream(ipcBytesOf(data), 'data');
  if (fields.length === 0)
    throw new CsError('CS_ERR_INPUT_DECODE', 'data holds an Arrow schema without columns');
  const names = new Set<string>();
  for (const field of fields) {
    const where = `column "${field.name}"`;
    if (names.has(field.name)) throw new CsError('CS_ERR_INPUT_DECODE', `${where} appears twice`);
    names.add(field.name);
    if (field.type.kind !== 'utf8' && !isTensorStruct(field)) {
      throw new CsError(
        'CS_ERR_INPUT_DECODE',
        `${where}: expected a tensor ${TENSOR_TYPE_TEXT} or a utf8 string, found ${typeText(field)}`,
      );
    }
  }
  // Column c of every batch: the rows of one input, however many batches carry them.
  const columns = batches.map((batch) => columnsOf(fields, batch, 'data'));
  return fields.map((field, c) => {
    const chunks = columns.map((batchColumns) => batchColumns[c]!);
    const where = `column "${field.name}"`;
    return field.type.kind === 'utf8'
      ? decodeString(field.name, chunks, where)
      : decodeTensor(field, chunks, where);
  });
}

function isTensorStruct(field: IpcField): boolean {
  if (field.type.kind !== 'struct' || field.children.length !== TENSOR_CHILDREN.length) return false;
  return TENSOR_CHILDREN.every((name) => {
    const child = field.children.find((f) => f.name === name);
    return child !== undefined && isListOf(child, name === 'data' ? isFloat32 : isInt32);
  });
}

function decodeString(name: string, chunks: readonly IpcColumn[], where: string): NamedTensor {
  const values = stringValues(chunks);
  if (values.length !== 1) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `${where}: expected one string (an image in base64 or strings joined with "|"), found ${values.length}`,
    );
  }
  return { name, type: 'BYTES', shape: [1], data: values };
}

function decodeTensor(field: IpcField, chunks: readonly IpcColumn[], where: string): NamedTensor {
  const { name } = field;
  const child = (key: (typeof TENSOR_CHILDREN)[number]): IpcColumn[] => {
    const at = field.children.findIndex((f) => f.name === key);
    return chunks.map((chunk) => chunk.children[at]!);
  };
  const rowValid = (c: number, row: number): boolean => isValidAt(chunks[c]!, row);
  const indiceData = concatListValues(child('indiceData'), rowValid, 'INT32', `${where} indiceData`);
  const indiceShape = concatListValues(child('indiceShape'), rowValid, 'INT32', `${where} indiceShape`);
  const values = concatListValues(child('data'), rowValid, 'FP32', `${where} data`);
  const shape = Array.from(concatListValues(child('shape'), rowValid, 'INT32', `${where} shape`));

  if (indiceShape.length === 0) {
    if (indiceData.length > 0) {
      throw new CsError(
        'CS_ERR_INPUT_DECODE',
        `${where}: indiceData holds ${indiceData.length} values but indiceShape is empty (dense tensors carry neither)`,
      );
    }
    const count = checkDenseShape(shape, where);
    if (values.length !== count) {
      throw new CsError(
        'CS_ERR_INPUT_DECODE',
        `${where}: shape [${shape.join(',')}] needs ${count} values, data holds ${values.length}`,
      );
    }
    return { name, type: 'FP32', shape, data: values };
  }

  if (indiceShape.length !== 2) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `${where}: indiceShape must be [rank, nnz] for a sparse tensor, got [${Array.from(indiceShape).join(',')}]`,
    );
  }
  const [rank, nnz] = [indiceShape[0]!, indiceShape[1]!];
  if (rank !== shape.length || nnz !== values.length) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `${where}: indiceShape [${rank},${nnz}] does not match shape [${shape.join(',')}] (rank ${shape.length}) and ${values.length} data values`,
    );
  }
  return { name, type: 'FP32', shape, data: cooToDense(shape, indiceData, values, where) };
}

export interface EncodeBigdlInputOptions {
  /** 4 (default): one child set per row, as BigDL's Python client writes; 1: all four children in one row. */
  readonly rows?: 1 | 4;
  /** Write without the 0xFFFFFFFF continuation markers, as pyarrow < 0.15 did. */
  readonly legacyIpc?: boolean;
}

const int32List = (): List<Int32> => new List(new Field('item', new Int32(), true));
const float32List = (): List<Float32> => new List(new Field('item', new Float32(), true));
const TENSOR_STRUCT = new Struct([
  new Field('indiceData', int32List(), true),
  new Field('indiceShape', int32List(), true),
  new Field('data', float32List(), true),
  new Field('shape', int32List(), true),
]);

/** A list column where only row `row` holds `values`; the other rows are null. */
function listColumn(values: Int32Array | Float32Array, rows: number, row: number): Data {
  const offsets = new Int32Array(rows + 1).fill(values.length, row + 1);
  const bitmap = new Uint8Array(8).fill(1 << row, 0, 1);
  const list = { length: rows, nullCount: rows - 1, nullBitmap: bitmap, valueOffsets: offsets };
  if (values instanceof Float32Array) {
    const child = makeData({ type: new Float32(), length: values.length, nullCount: 0, data: values });
    return makeData({ type: float32List(), ...list, child });
  }
  const child = makeData({ type: new Int32(), length: values.length, nullCount: 0, data: values });
  return makeData({ type: int32List(), ...list, child });
}

function tensorColumn(tensor: NamedTensor, rows: 1 | 4): Data {
  const values = castTensor(tensor, 'FP32').data as Float32Array;
  checkShape(tensor);
  const shape = Int32Array.from(tensor.shape);
  const empty = new Int32Array(0);
  const parts = [empty, empty, values, shape];
  const children = parts.map((part, k) => listColumn(part, rows, rows === 4 ? k : 0));
  return makeData({ type: TENSOR_STRUCT, length: rows, nullCount: 0, children });
}

function stringColumn(tensor: NamedTensor, rows: number): Data {
  const strings = tensor.data as string[];
  if (strings.length === 0)
    throw new CsError('CS_ERR_INPUT_MISMATCH', `input "${tensor.name}": holds no string`);
  if (strings.length > 1 && strings.some((s) => s.includes('|'))) {
    throw new CsError(
      'CS_ERR_INPUT_MISMATCH',
      `input "${tensor.name}": BigDL joins several strings with "|", so none of them may contain "|"`,
    );
  }
  const bytes = Buffer.from(strings.join('|'), 'utf8');
  const offsets = new Int32Array(rows + 1).fill(bytes.length, 1);
  // Only row 0 holds the string; a 4-row batch (needed when tensor columns share it) pads with nulls.
  const bitmap = new Uint8Array(8).fill(1, 0, 1);
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  return makeData({
    type: new Utf8(),
    length: rows,
    nullCount: rows - 1,
    nullBitmap: bitmap,
    valueOffsets: offsets,
    data,
  });
}

/** Base64 of the Arrow IPC stream BigDL's Python client would write for these inputs. */
export function encodeBigdlInput(
  tensors: readonly NamedTensor[],
  options: EncodeBigdlInputOptions = {},
): string {
  if (tensors.length === 0) throw new CsError('CS_ERR_INPUT_MISMATCH', 'at least one input tensor is needed');
  // Strings change the layout with their length; every other stream of a given signature is the
  // same bytes but for the values, so it is written from a template (see streamTemplate).
  if (tensors.some((t) => t.type === 'BYTES')) return toBase64(writeStream(tensors, options));
  const values = tensors.map((t) => {
    checkShape(t);
    return castTensor(t, 'FP32').data as Float32Array;
  });
  // Values that do not fill their shape are written as given, for the worker to refuse.
  if (tensors.some((t, i) => elementCount(t.shape) !== values[i]?.length))
    return toBase64(writeStream(tensors, options));
  const template = streamTemplate(tensors, options);
  const stream = Buffer.from(template.bytes);
  template.valuesAt.forEach((at, i) => {
    const data = values[i] as Float32Array;
    stream.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
  });
  return stream.toString('base64');
}

interface StreamTemplate {
  readonly bytes: Uint8Array;
  /** Where each tensor's float32 values start in `bytes`. */
  readonly valuesAt: readonly number[];
}

/** Templates by signature (names, shapes, options); cleared when it grows past TEMPLATES_KEPT. */
const templates = new Map<string, StreamTemplate>();
const TEMPLATES_KEPT = 256;

/**
 * The stream apache-arrow writes for tensors of these names and shapes, written once with a
 * marker value in every element, and where each tensor's values sit in it: writing the stream
 * with apache-arrow for every record cost the client more than the worker's inference.
 */
function streamTemplate(tensors: readonly NamedTensor[], options: EncodeBigdlInputOptions): StreamTemplate {
  const signature = JSON.stringify([
    options.rows ?? 4,
    options.legacyIpc ?? false,
    tensors.map((t) => [t.name, t.shape]),
  ]);
  const cached = templates.get(signature);
  if (cached !== undefined) return cached;
  // Each tensor's elements hold a value of their own that no header byte sequence spells.
  const markers = tensors.map((t, i) => ({
    ...t,
    type: 'FP32' as const,
    data: new Float32Array(elementCount(t.shape)).fill(MARKER_BASE * (i + 1)),
  }));
  const bytes = writeStream(markers, options);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let from = 0;
  const valuesAt = markers.map((marker) => {
    if (marker.data.length === 0) return from;
    const at = buffer.indexOf(new Uint8Array(marker.data.buffer), from);
    if (at < 0) throw new CsError('CS_ERR_INTERNAL', 'the BigDL input template lost its values');
    from = at + marker.data.byteLength;
    return at;
  });
  if (templates.size >= TEMPLATES_KEPT) templates.clear();
  const template = { bytes, valuesAt };
  templates.set(signature, template);
  return template;
}

const MARKER_BASE = 1.2345678e-29;

function checkShape(tensor: NamedTensor): void {
  if (tensor.shape.some((d) => !Number.isInteger(d) || d < 0 || d > 0x7fffffff)) {
    throw new CsError(
      'CS_ERR_INPUT_MISMATCH',
      `input "${tensor.name}": shape [${tensor.shape.join(',')}] is not valid`,
    );
  }
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** The Arrow IPC stream of these inputs, written by apache-arrow. */
function writeStream(tensors: readonly NamedTensor[], options: EncodeBigdlInputOptions): Uint8Array {
  const tensorRows = options.rows ?? 4;
  const rows = tensors.some((t) => t.type !== 'BYTES') ? tensorRows : 1;
  const fields: Field[] = [];
  const columns: Data[] = [];
  for (const tensor of tensors) {
    if (tensor.type === 'BYTES') {
      fields.push(new Field(tensor.name, new Utf8(), true));
      columns.push(stringColumn(tensor, rows));
    } else {
      fields.push(new Field(tensor.name, TENSOR_STRUCT, true));
      columns.push(tensorColumn(tensor, tensorRows));
    }
  }
  const schema = new Schema(fields);
  const batch = new RecordBatch(
    schema,
    makeData({ type: new Struct(fields), length: rows, nullCount: 0, children: columns }),
  );
  const writer = RecordBatchStreamWriter.writeAll([batch], {
    writeLegacyIpcFormat: options.legacyIpc ?? false,
  });
  return writer.toUint8Array(true);
}
