import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { CsError } from '../../../src/errors/registry.js';
import { decodeBigdlInput, encodeBigdlInput } from '../../../src/protocol/bigdl-input.js';
import type { NamedTensor } from '../../../src/protocol/tensor.js';
import {
  Field,
  Float64,
  Int32,
  List,
  Struct,
  column,
  float32List,
  int32List,
  ipcBase64,
  ipcBytes,
  pythonTensorRows,
  stringColumn,
  tensorColumn,
} from './arrow-oracle.js';

function decodeError(run: () => unknown): CsError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CsError);
    expect((error as CsError).code).toBe('CS_ERR_INPUT_DECODE');
    return error as CsError;
  }
  throw new Error('expected a CS_ERR_INPUT_DECODE error, nothing was thrown');
}

describe('decodeBigdlInput: tensors as BigDL clients write them', () => {
  it('reads the 4-row form of BigDL’s Python client (one child set per row)', () => {
    const payload = ipcBase64({ x: tensorColumn(pythonTensorRows([1, 2, 3, 4, 5, 6], [2, 3])) });
    const [x, ...rest] = decodeBigdlInput(payload);
    expect(rest).toHaveLength(0);
    expect(x?.name).toBe('x');
    expect(x?.type).toBe('FP32');
    expect(x?.shape).toEqual([2, 3]);
    expect(x?.data).toBeInstanceOf(Float32Array);
    expect(Array.from(x?.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads the 1-row form (all four children in one row)', () => {
    const rows = [{ indiceData: [], indiceShape: [], data: [0.5, -1.5], shape: [2] }];
    const [x] = decodeBigdlInput(ipcBase64({ x: tensorColumn(rows) }));
    expect(x?.shape).toEqual([2]);
    expect(Array.from(x?.data as Float32Array)).toEqual([0.5, -1.5]);
  });

  it('concatenates a child split over several rows', () => {
    const rows = [{ data: [1, 2] }, { data: [3], shape: [3] }, { indiceData: [], indiceShape: [] }];
    const [x] = decodeBigdlInput(ipcBase64({ x: tensorColumn(rows) }));
    expect(x?.shape).toEqual([3]);
    expect(Array.from(x?.data as Float32Array)).toEqual([1, 2, 3]);
  });

  it('reads several columns, tensors and strings, in schema order', () => {
    const payload = ipcBase64({
      a: tensorColumn(pythonTensorRows([7], [])),
      b: tensorColumn(pythonTensorRows([1, 2], [1, 2])),
    });
    const [a, b] = decodeBigdlInput(payload);
    expect(a).toMatchObject({ name: 'a', type: 'FP32', shape: [] });
    expect(Array.from(a?.data as Float32Array)).toEqual([7]);
    expect(b).toMatchObject({ name: 'b', shape: [1, 2] });
  });

  it('accepts the legacy IPC form of pyarrow < 0.15 (no continuation markers)', () => {
    const columns = { x: tensorColumn(pythonTensorRows([1, 2, 3], [3])) };
    const legacy = ipcBytes(columns, { legacy: true });
    expect(Buffer.from(legacy.subarray(0, 4)).readUInt32LE(0)).not.toBe(0xffffffff);
    expect(Buffer.from(ipcBytes(columns).subarray(0, 4)).readUInt32LE(0)).toBe(0xffffffff);
    const [x] = decodeBigdlInput(Buffer.from(legacy).toString('base64'));
    expect(Array.from(x?.data as Float32Array)).toEqual([1, 2, 3]);
  });

  it('reads streams that share a schema each with its own values, and a schema that differs in one byte anew', () => {
    // The schema is parsed once and then found by its bytes: values must still come from each stream.
    for (const value of [1, 2, 3]) {
      const [x] = decodeBigdlInput(ipcBase64({ x: tensorColumn(pythonTensorRows([value, -value], [2])) }));
      expect(Array.from(x?.data as Float32Array)).toEqual([value, -value]);
    }
    // Same length, one byte apart: column "y" instead of "x".
    const [y] = decodeBigdlInput(ipcBase64({ y: tensorColumn(pythonTensorRows([7, 8], [2])) }));
    expect(y?.name).toBe('y');
    expect(Array.from(y?.data as Float32Array)).toEqual([7, 8]);
    // A known schema followed by a cut-off stream is still refused.
    const bytes = ipcBytes({ x: tensorColumn(pythonTensorRows([1, 2], [2])) });
    const schemaLength = 8 + Buffer.from(bytes).readInt32LE(4);
    decodeError(() => decodeBigdlInput(Buffer.from(bytes.subarray(0, schemaLength + 12)).toString('base64')));
  });

  it('accepts the base64 text as a Buffer, and the raw IPC bytes as a Buffer', () => {
    const columns = { x: tensorColumn(pythonTensorRows([4, 5], [2])) };
    const text = ipcBase64(columns);
    expect(Array.from(decodeBigdlInput(Buffer.from(text, 'latin1'))[0]?.data as Float32Array)).toEqual([
      4, 5,
    ]);
    expect(Array.from(decodeBigdlInput(Buffer.from(ipcBytes(columns)))[0]?.data as Float32Array)).toEqual([
      4, 5,
    ]);
    const legacy = Buffer.from(ipcBytes(columns, { legacy: true }));
    expect(Array.from(decodeBigdlInput(legacy)[0]?.data as Float32Array)).toEqual([4, 5]);
  });

  it('makes a sparse COO tensor dense (indiceShape = [rank, nnz], coordinates row-major by dim)', () => {
    // values 10 at (0,1), 20 at (1,0), 30 at (1,2) of a 2×3 matrix
    const rows = pythonTensorRows([10, 20, 30], [2, 3], [0, 1, 1, 1, 0, 2], [2, 3]);
    const [x] = decodeBigdlInput(ipcBase64({ x: tensorColumn(rows) }));
    expect(x?.shape).toEqual([2, 3]);
    expect(Array.from(x?.data as Float32Array)).toEqual([0, 10, 0, 20, 0, 30]);
  });

  it('reads a string column as a BYTES tensor of one value', () => {
    const [s] = decodeBigdlInput(ipcBase64({ s: stringColumn(['héllo|wörld']) }));
    expect(s).toEqual({ name: 's', type: 'BYTES', shape: [1], data: ['héllo|wörld'] });
  });
});

describe('decodeBigdlInput: bad input', () => {
  it('refuses corrupt base64 and says what was expected', () => {
    expect(decodeError(() => decodeBigdlInput('not base64 at all!')).message).toMatch(
      /not valid base64.*Arrow IPC/,
    );
    expect(decodeError(() => decodeBigdlInput('QUJD$')).message).toMatch(/not valid base64/);
    expect(decodeError(() => decodeBigdlInput('')).message).toMatch(/empty/);
  });

  it('refuses base64 of bytes that are not an Arrow stream', () => {
    const garbage = Buffer.from('this is certainly not an arrow stream, just text').toString('base64');
    expect(decodeError(() => decodeBigdlInput(garbage)).message).toMatch(/Arrow IPC stream/);
  });

  it('refuses a truncated stream', () => {
    const bytes = ipcBytes({ x: tensorColumn(pythonTensorRows([1, 2, 3], [3])) });
    for (const cut of [4, 12, 100, bytes.length - 40]) {
      decodeError(() => decodeBigdlInput(Buffer.from(bytes.subarray(0, cut)).toString('base64')));
    }
  });

  it('refuses a stream with a schema and no record batch', () => {
    const bytes = ipcBytes({ x: tensorColumn(pythonTensorRows([1], [1])) });
    const schemaLength = 8 + Buffer.from(bytes).readInt32LE(4);
    const schemaOnly = Buffer.concat([
      bytes.subarray(0, schemaLength),
      Buffer.from([255, 255, 255, 255, 0, 0, 0, 0]),
    ]);
    expect(decodeError(() => decodeBigdlInput(schemaOnly.toString('base64'))).message).toMatch(
      /no record batch/,
    );
  });

  it('refuses columns of another type, naming the column, what was expected and what was found', () => {
    const message = decodeError(() =>
      decodeBigdlInput(ipcBase64({ x: column([1.5], new Float64()) })),
    ).message;
    expect(message).toContain('column "x"');
    expect(message).toContain('struct<indiceData: list<int32>');
    expect(message).toContain('float64');

    const float64Data = new Struct([
      new Field('indiceData', int32List(), true),
      new Field('indiceShape', int32List(), true),
      new Field('data', new List(new Field('item', new Float64(), true)), true),
      new Field('shape', int32List(), true),
    ]);
    const rows = [{ indiceData: [], indiceShape: [], data: [1], shape: [1] }];
    expect(
      decodeError(() => decodeBigdlInput(ipcBase64({ y: column(rows, float64Data) }))).message,
    ).toContain('column "y"');
    const missingChild = new Struct([
      new Field('data', float32List(), true),
      new Field('shape', int32List(), true),
    ]);
    decodeError(() => decodeBigdlInput(ipcBase64({ z: column([{ data: [1], shape: [1] }], missingChild) })));
    decodeError(() =>
      decodeBigdlInput(ipcBase64({ w: column([[1, 2]], new List(new Field('item', new Int32()))) })),
    );
  });

  it('refuses dense data whose length does not match the shape, naming the column', () => {
    const payload = ipcBase64({ img: tensorColumn(pythonTensorRows([1, 2, 3], [2, 2])) });
    expect(decodeError(() => decodeBigdlInput(payload)).message).toBe(
      'column "img": shape [2,2] needs 4 values, data holds 3',
    );
    decodeError(() => decodeBigdlInput(ipcBase64({ n: tensorColumn(pythonTensorRows([], [-1])) })));
  });

  it('refuses inconsistent or out-of-range sparse tensors with the reason', () => {
    const bad = (data: number[], shape: number[], indiceData: number[], indiceShape: number[]): string =>
      decodeError(() =>
        decodeBigdlInput(
          ipcBase64({ s: tensorColumn(pythonTensorRows(data, shape, indiceData, indiceShape)) }),
        ),
      ).message;
    expect(bad([1, 2], [2, 2], [0, 1, 0], [2, 2])).toMatch(/needs 4 coordinates, got 3/);
    expect(bad([1, 2], [2, 2], [0, 1, 0, 2], [2, 2])).toMatch(
      /coordinate 2 .* out of range for dim 1 \(size 2\)/,
    );
    expect(bad([1, 2], [2, 2], [0, 0, 1, 1], [2, 2])).toMatch(/repeats an earlier coordinate/);
    expect(bad([1, 2, 3], [2, 2], [0, 1, 0, 1], [2, 2])).toMatch(/indiceShape \[2,2\] does not match/);
    expect(bad([1], [4], [0], [1, 1, 1])).toMatch(/\[rank, nnz\]/);
    expect(bad([1], [4], [0, 1], [])).toMatch(/indiceShape is empty/);
  });

  it('refuses a sparse shape too large to make dense', () => {
    const rows = pythonTensorRows([1], [100000, 100000], [0, 0], [2, 1]);
    expect(() => decodeBigdlInput(ipcBase64({ s: tensorColumn(rows) }))).toThrow(
      expect.objectContaining({ code: 'CS_ERR_INPUT_TOO_LARGE' }),
    );
  });

  it('refuses a string column without exactly one value', () => {
    expect(decodeError(() => decodeBigdlInput(ipcBase64({ s: stringColumn(['a', 'b']) }))).message).toMatch(
      /found 2/,
    );
    expect(decodeError(() => decodeBigdlInput(ipcBase64({ s: stringColumn([null]) }))).message).toMatch(
      /found 0/,
    );
  });

  it('refuses huge lengths anywhere in the metadata at once, without trying to honour them', () => {
    const bytes = ipcBytes({ x: tensorColumn(pythonTensorRows([1, 2, 3, 4], [2, 2])) });
    const schemaLength = 8 + Buffer.from(bytes).readInt32LE(4);
    for (const huge of [0x7fffffff, 0xffffffff, 0x10000000]) {
      for (let at = 8; at + 4 <= schemaLength; at += 4) {
        const copy = Buffer.from(bytes);
        copy.writeUInt32LE(huge, at);
        try {
          decodeBigdlInput(copy.toString('base64'));
        } catch (error) {
          expect(error).toBeInstanceOf(CsError);
        }
      }
    }
  });

  it('answers every corruption of a valid payload with a decode error or a valid result, never a crash', () => {
    const bytes = ipcBytes({
      x: tensorColumn(pythonTensorRows([1, 2, 3, 4], [2, 2], [], [])),
      s: tensorColumn(pythonTensorRows([5, 6], [2])),
    });
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    let failures = 0;
    for (let trial = 0; trial < 400; trial++) {
      const copy = Buffer.from(bytes);
      for (let k = 0; k < 3; k++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
      try {
        for (const tensor of decodeBigdlInput(copy.toString('base64'))) {
          expect(tensor.data.length).toBeLessThanOrEqual(1 << 26);
        }
      } catch (error) {
        expect(error).toBeInstanceOf(CsError);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
  });
});

describe('encodeBigdlInput', () => {
  const x: NamedTensor = { name: 'x', type: 'FP32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) };

  it('writes the 4-row form by default, with the child layout of BigDL’s Python client', () => {
    const table = tableFromIPC(Buffer.from(encodeBigdlInput([x]), 'base64'));
    expect(table.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual([
      [
        'x',
        'Struct<{indiceData:List<Int32>, indiceShape:List<Int32>, data:List<Float32>, shape:List<Int32>}>',
        true,
      ],
    ]);
    expect(table.numRows).toBe(4);
    expect(JSON.parse(JSON.stringify(table.getChild('x')?.toJSON()))).toEqual([
      { indiceData: [], indiceShape: null, data: null, shape: null },
      { indiceData: null, indiceShape: [], data: null, shape: null },
      { indiceData: null, indiceShape: null, data: [1, 2, 3, 4], shape: null },
      { indiceData: null, indiceShape: null, data: null, shape: [2, 2] },
    ]);
  });

  it('writes the 1-row form on request', () => {
    const table = tableFromIPC(Buffer.from(encodeBigdlInput([x], { rows: 1 }), 'base64'));
    expect(JSON.parse(JSON.stringify(table.getChild('x')?.toJSON()))).toEqual([
      { indiceData: [], indiceShape: [], data: [1, 2, 3, 4], shape: [2, 2] },
    ]);
  });

  it('writes a stream per signature from a template: each record decodes to its own values, whatever they are', () => {
    const shapes = [[4], [2, 3], [1, 1, 5], [0, 2], []];
    for (const rows of [1, 4] as const) {
      for (const legacyIpc of [false, true]) {
        for (let round = 0; round < 3; round++) {
          const tensors: NamedTensor[] = shapes.map((shape, i) => {
            const n = shape.reduce((a, b) => a * b, 1);
            // Includes the values the template itself is written with, NaN and -0.
            const data = Float32Array.from(
              { length: n },
              (_, k) =>
                [1.2345678e-29 * (i + 1), Number.NaN, -0, Math.fround(Math.sin(round * 31 + k) * 1e3)][
                  (k + round) % 4
                ] as number,
            );
            return { name: `in${i}`, type: 'FP32', shape, data };
          });
          const decoded = decodeBigdlInput(encodeBigdlInput(tensors, { rows, legacyIpc }));
          decoded.forEach((t, i) => {
            expect(t.shape).toEqual(tensors[i]?.shape);
            expect(Array.from(t.data as Float32Array)).toEqual(Array.from(tensors[i]?.data as Float32Array));
          });
        }
      }
    }
  });

  it('writes values that do not fill their shape as given, for the worker to refuse', () => {
    const short: NamedTensor = { name: 'x', type: 'FP32', shape: [2, 2], data: new Float32Array([1, 2, 3]) };
    expect(() => decodeBigdlInput(encodeBigdlInput([short]))).toThrow(/3 values|does not match|shape/);
  });

  it('writes the legacy IPC form on request, and both forms decode to the same tensors', () => {
    const legacy = Buffer.from(encodeBigdlInput([x], { legacyIpc: true }), 'base64');
    expect(legacy.readUInt32LE(0)).not.toBe(0xffffffff);
    expect(decodeBigdlInput(legacy.toString('base64'))).toEqual(decodeBigdlInput(encodeBigdlInput([x])));
  });

  it('round-trips tensors and strings, casting numerics to float32', () => {
    const tensors: NamedTensor[] = [
      { name: 'ids', type: 'INT64', shape: [3], data: new BigInt64Array([1n, -2n, 3n]) },
      { name: 'img', type: 'BYTES', shape: [1], data: ['aGVsbG8='] },
      { name: 'scalar', type: 'FP64', shape: [], data: new Float64Array([0.25]) },
      { name: 'empty', type: 'FP32', shape: [0, 3], data: new Float32Array(0) },
    ];
    for (const rows of [1, 4] as const) {
      const decoded = decodeBigdlInput(encodeBigdlInput(tensors, { rows }));
      expect(decoded.map((t) => [t.name, t.type, t.shape])).toEqual([
        ['ids', 'FP32', [3]],
        ['img', 'BYTES', [1]],
        ['scalar', 'FP32', []],
        ['empty', 'FP32', [0, 3]],
      ]);
      expect(Array.from(decoded[0]?.data as Float32Array)).toEqual([1, -2, 3]);
      expect(decoded[1]?.data).toEqual(['aGVsbG8=']);
      expect(Array.from(decoded[2]?.data as Float32Array)).toEqual([0.25]);
    }
  });

  it('joins several strings with "|" as BigDL’s client does, and refuses strings that contain "|"', () => {
    const joined = decodeBigdlInput(
      encodeBigdlInput([{ name: 's', type: 'BYTES', shape: [2], data: ['a', 'b'] }]),
    );
    expect(joined[0]?.data).toEqual(['a|b']);
    expect(() => encodeBigdlInput([{ name: 's', type: 'BYTES', shape: [2], data: ['a|b', 'c'] }])).toThrow(
      /"\|"/,
    );
    expect(() => encodeBigdlInput([])).toThrow(CsError);
  });
});
