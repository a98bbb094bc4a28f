/**
 * Arrow payloads built with apache-arrow's generic builders and writer, independent of the
 * codecs under test: what BigDL's Python client (pyarrow) writes, and what BigDL's result
 * writer produces.
 */
import {
  Field,
  Float32,
  Float64,
  Int32,
  List,
  RecordBatchStreamWriter,
  Struct,
  Table,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import type { DataType, Vector } from 'apache-arrow';

export const int32List = (): List<Int32> => new List(new Field('item', new Int32(), true));
export const float32List = (): List<Float32> => new List(new Field('item', new Float32(), true));

export const TENSOR_STRUCT = new Struct([
  new Field('indiceData', int32List(), true),
  new Field('indiceShape', int32List(), true),
  new Field('data', float32List(), true),
  new Field('shape', int32List(), true),
]);

export interface TensorRow {
  indiceData?: number[] | null;
  indiceShape?: number[] | null;
  data?: number[] | null;
  shape?: number[] | null;
}

/** A tensor column from row objects, as pyarrow's `pa.array([{...}, ...], type=tensor_type)`. */
export function tensorColumn(rows: readonly TensorRow[]): Vector {
  // The struct builder needs every key; an absent child is null, as in pyarrow.
  const full = rows.map((r) => ({
    indiceData: r.indiceData ?? null,
    indiceShape: r.indiceShape ?? null,
    data: r.data ?? null,
    shape: r.shape ?? null,
  }));
  return vectorFromArray(full, TENSOR_STRUCT);
}

/** BigDL's Python client: four rows, one child per row. */
export function pythonTensorRows(
  data: number[],
  shape: number[],
  indiceData: number[] = [],
  indiceShape: number[] = [],
): TensorRow[] {
  return [{ indiceData }, { indiceShape }, { data }, { shape }];
}

export function stringColumn(values: readonly (string | null)[]): Vector {
  return vectorFromArray(values, new Utf8());
}

export function column<T extends DataType>(values: readonly unknown[], type: T): Vector<T> {
  return vectorFromArray(values, type);
}

/** Base64 of the Arrow stream of one record batch holding `columns`. */
export function ipcBase64(columns: Record<string, Vector>, options: { legacy?: boolean } = {}): string {
  return Buffer.from(ipcBytes(columns, options)).toString('base64');
}

export function ipcBytes(columns: Record<string, Vector>, options: { legacy?: boolean } = {}): Uint8Array {
  const table = new Table(columns);
  return RecordBatchStreamWriter.writeAll(table, {
    writeLegacyIpcFormat: options.legacy ?? false,
  }).toUint8Array(true);
}

/**
 * What BigDL's ArrowSerializer wrote for each output, built with the generic writer: rows =
 * element count, the dims in the first rows of `shape` (cut at the element count), null after.
 */
export function oracleResult(
  outputs: readonly { data: ArrayLike<number>; shape: readonly number[] }[],
): Uint8Array {
  const tables = outputs.map(({ data, shape }) => {
    const rows = data.length;
    const dataValues = Array.from(data);
    const shapeValues = Array.from({ length: rows }, (_, i) => (i < shape.length ? shape[i]! : null));
    return new Table({
      data: vectorFromArray(dataValues, new Float32()),
      shape: vectorFromArray(shapeValues, new Int32()),
    });
  });
  const batches = tables.flatMap((t) => t.batches);
  return RecordBatchStreamWriter.writeAll(batches).toUint8Array(true);
}

export { Float32, Float64, Int32, Struct, Utf8, Field, List };
