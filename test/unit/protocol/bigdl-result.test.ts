import {
  DataType,
  Precision,
  RecordBatch,
  RecordBatchReader,
  RecordBatchStreamWriter,
  Schema,
  tableFromIPC,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { CsError } from '../../../src/errors/registry.js';
import { decodeBigdlResult, encodeBigdlResult } from '../../../src/protocol/bigdl-result.js';
import { floatToHalf } from '../../../src/protocol/float16.js';
import {
  DATA_TYPES,
  type DataType as TensorType,
  type NumericArray,
  type Tensor,
} from '../../../src/protocol/tensor.js';

type NumericType = Exclude<TensorType, 'BYTES'>;
import { PYTHON_SHAPES, pythonClientDecode, type PythonArray } from '../../helpers/bigdl-python-client.js';
import { Float32, Float64, Int32, column, ipcBase64, oracleResult } from './arrow-oracle.js';

/** Column values with nulls as null (toArray() gives the raw buffer, nulls as 0). */
function valuesOf(batch: RecordBatch | undefined, column: number): (number | null)[] {
  const vector = batch!.getChildAt(column)!;
  return Array.from({ length: vector.length }, (_, i) => vector.get(i) as number | null);
}

function batchesOf(value: string): RecordBatch[] {
  const reader = RecordBatchReader.from(Buffer.from(value, 'base64'));
  reader.open();
  return reader.readAll();
}

/** The one array BigDL's Python client makes of a batch (throws where Python raises). */
function pythonClientView(batch: RecordBatch): PythonArray {
  const value = Buffer.from(RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true)).toString('base64');
  return pythonClientDecode(value)[0]!;
}

const fp32 = (shape: number[], values: number[]): Tensor => ({
  type: 'FP32',
  shape,
  data: new Float32Array(values),
});

describe('encodeBigdlResult, read back with apache-arrow', () => {
  it('writes the schema {data: float32, shape: int32}, both nullable, one batch per output', () => {
    const value = encodeBigdlResult([fp32([2, 3], [1, 2, 3, 4, 5, 6]), fp32([1], [9])]);
    const table = tableFromIPC(Buffer.from(value, 'base64'));
    expect(table.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual([
      ['data', 'Float32', true],
      ['shape', 'Int32', true],
    ]);
    const [data, shape] = table.schema.fields.map((f) => f.type);
    expect(DataType.isFloat(data) && data.precision).toBe(Precision.SINGLE);
    expect(DataType.isInt(shape) && [shape.bitWidth, shape.isSigned]).toEqual([32, true]);
    expect(table.batches).toHaveLength(2);
  });

  it('holds the values row-major without nulls, and the dims in the first rows of `shape` then nulls', () => {
    const [batch] = batchesOf(encodeBigdlResult([fp32([2, 3], [1, 2, 3, 4, 5, 6])]));
    expect(batch?.numRows).toBe(6);
    expect(batch?.getChildAt(0)?.nullCount).toBe(0);
    expect(Array.from(batch?.getChildAt(0)?.toArray() as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(valuesOf(batch, 1)).toEqual([2, 3, null, null, null, null]);
    expect(pythonClientView(batch!)).toEqual({ data: [1, 2, 3, 4, 5, 6], shape: [2, 3] });
  });

  it('gives a scalar output one row and an all-null shape', () => {
    const [batch] = batchesOf(encodeBigdlResult([fp32([], [2.5])]));
    expect(batch?.numRows).toBe(1);
    expect(valuesOf(batch, 1)).toEqual([null]);
    expect(pythonClientView(batch!)).toEqual({ data: [2.5], shape: [] });
  });

  it('writes rows = element count with no null in `data`, and cuts the dims at the element count as BigDL did', () => {
    const [single, pooled] = batchesOf(
      encodeBigdlResult([fp32([1, 1, 1], [4]), fp32([1, 3, 1, 1], [1, 2, 3])]),
    );
    expect(single?.numRows).toBe(1);
    expect(valuesOf(single, 0)).toEqual([4]);
    expect(valuesOf(single, 1)).toEqual([1]);
    expect(pooled?.numRows).toBe(3);
    expect(valuesOf(pooled, 0)).toEqual([1, 2, 3]);
    expect(valuesOf(pooled, 1)).toEqual([1, 3, 1]);
  });

  it('drops the dims of size 1 where BigDL’s cut would not reshape the values', () => {
    const [batch] = batchesOf(encodeBigdlResult([fp32([1, 1, 1, 2], [5, 6])]));
    expect(valuesOf(batch, 1)).toEqual([2, null]);
    expect(pythonClientView(batch!)).toEqual({ data: [5, 6], shape: [2] });
  });

  it('refuses an output with no elements, naming it and the forms that carry it', () => {
    expect(() => encodeBigdlResult([fp32([2], [1, 2]), fp32([0, 3], [])])).toThrow(
      expect.objectContaining({
        code: 'CS_ERR_INFERENCE_FAILED',
        message: expect.stringMatching(/output 1 has shape \[0,3\], no elements.*tensor serde/),
      }),
    );
  });

  it('writes shapes metadata of any length that apache-arrow and our decoder read back', () => {
    for (let n = 1; n <= 40; n++) {
      const outputs = Array.from({ length: n % 7 }, (_, i) =>
        fp32(
          [1, n + i],
          Array.from({ length: n + i }, () => i),
        ),
      );
      const value = encodeBigdlResult([
        fp32(
          [n],
          Array.from({ length: n }, (_, i) => i),
        ),
        ...outputs,
      ]);
      const table = tableFromIPC(Buffer.from(value, 'base64'));
      const shapes = [[n], ...outputs.map((o) => o.shape)];
      expect(JSON.parse(table.schema.metadata.get('cluster-serving.shapes') ?? ''), `n=${n}`).toEqual(shapes);
      expect(decodeBigdlResult(value).map((t) => t.shape)).toEqual(shapes);
    }
  });

  it('keeps the full shapes in the schema metadata, one per batch', () => {
    const value = encodeBigdlResult([fp32([1, 1], [3]), fp32([], [2]), fp32([1, 2, 1], [1, 2])]);
    const table = tableFromIPC(Buffer.from(value, 'base64'));
    expect(JSON.parse(table.schema.metadata.get('cluster-serving.shapes') ?? '')).toEqual([
      [1, 1],
      [],
      [1, 2, 1],
    ]);
  });

  it('keeps validity bits and padding right for row counts that are not multiples of 8', () => {
    for (const n of [1, 7, 8, 9, 13, 1000, 1001]) {
      const values = Array.from({ length: n }, (_, i) => i * 0.5 - 3);
      const [batch] = batchesOf(encodeBigdlResult([fp32([n], values)]));
      expect(pythonClientView(batch!)).toEqual({ data: values, shape: [n] });
      expect(batch?.getChildAt(1)?.nullCount).toBe(n - 1);
    }
  });

  it('casts every numeric output type to float32', () => {
    const outputs: Tensor[] = [
      { type: 'INT64', shape: [2], data: new BigInt64Array([-5n, 1n << 40n]) },
      { type: 'FP16', shape: [1], data: new Uint16Array([0x3c00]) },
      { type: 'FP64', shape: [2], data: new Float64Array([0.1, 1e300]) },
      { type: 'UINT8', shape: [1], data: new Uint8Array([255]) },
      { type: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
    ];
    const views = batchesOf(encodeBigdlResult(outputs)).map(pythonClientView);
    expect(views).toEqual([
      { data: [-5, 2 ** 40], shape: [2] },
      { data: [1], shape: [1] },
      { data: [Math.fround(0.1), Infinity], shape: [2] },
      { data: [255], shape: [1] },
      { data: [1, 0], shape: [2] },
    ]);
  });

  it('reads back the same as the output of apache-arrow’s generic writer (the oracle)', () => {
    const outputs = [
      fp32([2, 2], [1, -2, 3.5, 4]),
      fp32([3], [0, 0, 1]),
      fp32([], [7]),
      fp32([4], [1, 2, 3, 4]),
    ];
    const ours = batchesOf(encodeBigdlResult(outputs));
    const oracle = batchesOf(
      Buffer.from(
        oracleResult(outputs.map((o) => ({ data: o.data as Float32Array, shape: o.shape }))),
      ).toString('base64'),
    );
    expect(ours).toHaveLength(oracle.length);
    ours.forEach((batch, i) => {
      expect(batch.numRows).toBe(oracle[i]!.numRows);
      expect(batch.toArray().map((row) => row.toJSON())).toEqual(
        oracle[i]!.toArray().map((row) => row.toJSON()),
      );
    });
    expect(
      decodeBigdlResult(Buffer.from(oracleResult([{ data: [1, 2], shape: [2] }])).toString('base64')),
    ).toEqual([fp32([2], [1, 2])]);
  });

  it('refuses string outputs', () => {
    expect(() => encodeBigdlResult([{ type: 'BYTES', shape: [1], data: ['x'] }])).toThrow(
      expect.objectContaining({ code: 'CS_ERR_INFERENCE_FAILED' }),
    );
    expect(() => encodeBigdlResult([fp32([3], [1, 2])])).toThrow(CsError);
  });
});

describe('decodeBigdlResult', () => {
  it('round-trips outputs as FP32 tensors', () => {
    const outputs = [
      fp32([2, 3], [1, 2, 3, 4, 5, 6]),
      fp32([], [3]),
      fp32([1, 1, 1], [-1]),
      fp32([1, 3, 1, 1], [1, 2, 3]),
      fp32([1, 1, 1, 2], [7, 8]),
    ];
    expect(decodeBigdlResult(encodeBigdlResult(outputs))).toEqual(outputs);
  });

  it('refuses garbage with CS_ERR_INPUT_DECODE', () => {
    for (const value of ['', 'NaN', '%%%%', Buffer.from('not arrow at all, no').toString('base64')]) {
      expect(() => decodeBigdlResult(value)).toThrow(
        expect.objectContaining({ code: 'CS_ERR_INPUT_DECODE' }),
      );
    }
    const truncated = Buffer.from(encodeBigdlResult([fp32([4], [1, 2, 3, 4])]), 'base64').subarray(0, 200);
    expect(() => decodeBigdlResult(truncated.toString('base64'))).toThrow(CsError);
  });

  it('answers corrupted values with a decode error or a valid result, never a crash', () => {
    const bytes = Buffer.from(
      encodeBigdlResult([fp32([2, 3], [1, 2, 3, 4, 5, 6]), fp32([1, 2, 1], [7, 8])]),
      'base64',
    );
    let seed = 4242;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    let refused = 0;
    for (let trial = 0; trial < 400; trial++) {
      const copy = Buffer.from(bytes);
      for (let k = 0; k < 3; k++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
      try {
        decodeBigdlResult(copy.toString('base64'));
      } catch (error) {
        expect(error).toBeInstanceOf(CsError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });

  it('refuses another schema, saying what it expected and found', () => {
    const value = ipcBase64({ data: column([1.5], new Float64()), shape: column([1], new Int32()) });
    expect(() => decodeBigdlResult(value)).toThrow(
      /expected schema \{data: float32, shape: int32\}, found \{data: float64, shape: int32\}/,
    );
  });

  it('still reads results written before the BigDL form was matched (data padded with nulls)', () => {
    const value = ipcBase64({
      data: column([4, null, null], new Float32()),
      shape: column([1, 1, 1], new Int32()),
    });
    expect(decodeBigdlResult(value)).toEqual([fp32([1, 1, 1], [4])]);
  });

  it('refuses a batch whose values do not fill its shape', () => {
    const value = ipcBase64({
      data: column([1, 2, 3], new Float32()),
      shape: column([2, 2, null], new Int32()),
    });
    expect(() => decodeBigdlResult(value)).toThrow(/shape \[2,2\] but 3 values/);
    const gap = ipcBase64({
      data: column([1, null, 3], new Float32()),
      shape: column([2, null, null], new Int32()),
    });
    expect(() => decodeBigdlResult(gap)).toThrow(/nulls among/);
  });
});

/** Small integers, so that every numeric type holds them exactly (BOOL: 0 and 1). */
function valuesFor(type: NumericType, count: number): NumericArray {
  const ints = Array.from({ length: count }, (_, i) => (type === 'BOOL' ? (i + 1) % 2 : (i % 7) + 1));
  if (type === 'INT64') return BigInt64Array.from(ints, BigInt);
  if (type === 'UINT64') return BigUint64Array.from(ints, BigInt);
  if (type === 'FP16') return Uint16Array.from(ints, (v) => floatToHalf(v));
  return new TYPED_ARRAYS[type](ints);
}

const TYPED_ARRAYS = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  FP32: Float32Array,
  FP64: Float64Array,
} as const;

describe('every output shape and numeric type, as BigDL’s Python client decodes it', () => {
  const types = DATA_TYPES.filter((t): t is NumericType => t !== 'BYTES');

  it.each(types)('%s: the reshape fits, values cast to float, our decoder keeps the true shape', (type) => {
    const outputs: Tensor[] = PYTHON_SHAPES.map(({ shape }) => ({
      type,
      shape,
      data: valuesFor(
        type,
        shape.reduce((a, b) => a * b, 1),
      ),
    }));
    const value = encodeBigdlResult(outputs);
    const views = pythonClientDecode(value);
    expect(views.map((v) => v.shape)).toEqual(PYTHON_SHAPES.map((row) => row.python));
    views.forEach((view, i) => {
      const n = view.data.length;
      const expected = Array.from({ length: n }, (_, k) => (type === 'BOOL' ? (k + 1) % 2 : (k % 7) + 1));
      expect(view.data, `${type} ${JSON.stringify(PYTHON_SHAPES[i]!.shape)}`).toEqual(expected);
    });
    const decoded = decodeBigdlResult(value);
    expect(decoded.map((t) => t.shape)).toEqual(PYTHON_SHAPES.map((row) => row.shape));
    expect(decoded.every((t) => t.type === 'FP32')).toBe(true);
  });

  it('reads a result BigDL itself wrote (no shapes metadata) with the shape its column holds', () => {
    const value = Buffer.from(
      oracleResult([
        { data: [3], shape: [1, 1] },
        { data: [1, 2, 3], shape: [1, 3, 1, 1] },
      ]),
    ).toString('base64');
    expect(batchesOf(value).map(pythonClientView)).toEqual([
      { data: [3], shape: [1] },
      { data: [1, 2, 3], shape: [1, 3, 1] },
    ]);
    expect(decodeBigdlResult(value)).toEqual([fp32([1], [3]), fp32([1, 3, 1], [1, 2, 3])]);
  });

  it('refuses shapes metadata that does not match the batches', () => {
    const withMetadata = (json: string): string => {
      const table = tableFromIPC(oracleResult([{ data: [1, 2], shape: [2] }]));
      const schema = new Schema(table.schema.fields, new Map([['cluster-serving.shapes', json]]));
      const batches = table.batches.map((b) => new RecordBatch(schema, b.data));
      return Buffer.from(RecordBatchStreamWriter.writeAll(batches).toUint8Array(true)).toString('base64');
    };
    expect(decodeBigdlResult(withMetadata('[[2,1]]'))).toEqual([fp32([2, 1], [1, 2])]);
    for (const bad of ['[[3]]', '[[2],[1]]', '{"a":1}', '[[-2]]', 'not json']) {
      expect(() => decodeBigdlResult(withMetadata(bad)), bad).toThrow(
        expect.objectContaining({ code: 'CS_ERR_INPUT_DECODE' }),
      );
    }
  });
});
