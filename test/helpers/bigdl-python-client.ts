/**
 * BigDL 2.4's Python client (`OutputQueue.get_ndarray_from_b64` and
 * `get_ndarray_from_record_batch`), emulated over apache-arrow's reader, independent of our
 * decoder: Debian bookworm has no python3-pyarrow package, so no real pyarrow runs here.
 *
 *   data = record_batch[0].to_numpy()          # pyarrow refuses a column holding nulls
 *   shape = [i for i in record_batch[1].to_pylist() if i]   # drops nulls and zeros
 *   ndarray = data.reshape(shape)              # numpy: product must equal the size; [] = scalar
 *
 * Every step throws where Python would raise.
 */
import { RecordBatchReader } from 'apache-arrow';

export interface PythonArray {
  readonly data: number[];
  readonly shape: number[];
}

/** The arrays BigDL's Python client returns for a result `value`, one per record batch. */
export function pythonClientDecode(value: string): PythonArray[] {
  const reader = RecordBatchReader.from(Buffer.from(value, 'base64'));
  reader.open();
  const batches = reader.readAll();
  if (batches.length === 0) throw new Error('len(r) should be positive, but got 0');
  return batches.map((batch) => {
    const data = batch.getChildAt(0);
    const shapeColumn = batch.getChildAt(1);
    if (data === null || shapeColumn === null) throw new Error('IndexError: a column is missing');
    if (data.nullCount !== 0) throw new Error('pyarrow: to_numpy() refuses an array with nulls');
    const shape: number[] = [];
    for (let row = 0; row < shapeColumn.length; row++) {
      const d = shapeColumn.get(row) as number | null;
      if (d) shape.push(d);
    }
    const values = Array.from({ length: data.length }, (_, i) => Number(data.get(i)));
    if (values.length !== shape.reduce((a, b) => a * b, 1)) {
      throw new Error(
        `numpy: cannot reshape array of size ${values.length} into shape (${shape.join(', ')})`,
      );
    }
    return { data: values, shape };
  });
}

/** Output shapes (what the model gives for one record) and the shape BigDL's Python client then sees. */
export const PYTHON_SHAPES: readonly { readonly shape: number[]; readonly python: number[] }[] = [
  { shape: [], python: [] },
  { shape: [1], python: [1] },
  { shape: [5], python: [5] },
  { shape: [1, 1], python: [1] },
  { shape: [2, 1], python: [2, 1] },
  { shape: [1, 1, 1], python: [1] },
  { shape: [1, 2, 1], python: [1, 2] },
  { shape: [1, 3, 1, 1], python: [1, 3, 1] },
  { shape: [1, 1000], python: [1, 1000] },
  // BigDL's cut would give [1, 1], which does not hold 2 values: the dims of size 1 are dropped.
  { shape: [1, 1, 1, 2], python: [2] },
];
