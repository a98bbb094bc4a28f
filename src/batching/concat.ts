/**
 * Stacking records into one model run and cutting the results apart again, along dim 0
 * (the batch dim). Pure: plain tensors in, plain tensors out.
 */
import { CsError } from '../errors/registry.js';
import { allocate, elementCount, type DataType, type NumericArray, type Tensor } from '../protocol/tensor.js';

function describe(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function checkWellFormed(tensor: Tensor, what: string): void {
  if (tensor.shape.length === 0) {
    throw new CsError(
      'CS_ERR_INPUT_MISMATCH',
      `${what} is a scalar; batching needs a leading batch dimension (send shape [1] or larger)`,
    );
  }
  const expected = elementCount(tensor.shape);
  if (tensor.data.length !== expected) {
    throw new CsError(
      'CS_ERR_INPUT_MISMATCH',
      `${what} has shape ${describe(tensor.shape)}, which needs ${expected} values, but carries ${tensor.data.length}`,
    );
  }
}

function sameInnerDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => i === 0 || d === b[i]);
}

/**
 * Concatenates along dim 0. Every tensor must have the same datatype and the same dims after
 * dim 0; a single tensor is returned as is (no copy). Numeric results go into what `into`
 * gives (a new array by default).
 */
export function concatBatch(
  tensors: readonly Tensor[],
  into: (type: Exclude<DataType, 'BYTES'>, length: number) => NumericArray = allocate,
): Tensor {
  const first = tensors[0];
  if (first === undefined) throw new CsError('CS_ERR_INTERNAL', 'concatBatch needs at least one tensor');
  tensors.forEach((t, i) => {
    checkWellFormed(t, `tensor ${i}`);
    if (t.type !== first.type || !sameInnerDims(t.shape, first.shape)) {
      throw new CsError(
        'CS_ERR_INPUT_MISMATCH',
        `tensor ${i} is ${t.type} ${describe(t.shape)} but tensor 0 is ${first.type} ${describe(first.shape)}; ` +
          'records batched together need the same datatype and the same dims after the batch dim',
      );
    }
  });
  if (tensors.length === 1) return first;
  const rows = tensors.reduce((sum, t) => sum + (t.shape[0] ?? 0), 0);
  const shape = [rows, ...first.shape.slice(1)];
  if (first.type === 'BYTES') {
    const data: string[] = [];
    for (const t of tensors) for (const s of t.data as string[]) data.push(s);
    return { type: first.type, shape, data };
  }
  const data = into(first.type, elementCount(shape));
  let offset = 0;
  for (const t of tensors) {
    // Same datatype means same typed-array class, which `set` needs for bigint arrays.
    (data as Uint8Array).set(t.data as Uint8Array, offset);
    offset += t.data.length;
  }
  return { type: first.type, shape, data };
}

/**
 * Cuts a tensor along dim 0 into pieces of `sizes` rows. Numeric pieces are views into the
 * same buffer (no copy), so a caller that mutates one sees it in the others.
 */
export function splitBatch(tensor: Tensor, sizes: readonly number[]): Tensor[] {
  checkWellFormed(tensor, 'tensor');
  const rows = tensor.shape[0] ?? 0;
  const bad = sizes.find((s) => !Number.isInteger(s) || s < 0);
  if (bad !== undefined) {
    throw new CsError('CS_ERR_INTERNAL', `split sizes must be whole numbers ≥ 0; got ${String(bad)}`);
  }
  const total = sizes.reduce((sum, s) => sum + s, 0);
  if (total !== rows) {
    throw new CsError(
      'CS_ERR_INPUT_MISMATCH',
      `tensor ${describe(tensor.shape)} has ${rows} rows but the split asks for ${total} (${sizes.join('+')})`,
    );
  }
  const inner = tensor.shape.slice(1);
  const rowSize = elementCount(inner);
  const pieces: Tensor[] = [];
  let start = 0;
  for (const size of sizes) {
    const from = start * rowSize;
    const to = (start + size) * rowSize;
    const data =
      tensor.type === 'BYTES'
        ? (tensor.data as string[]).slice(from, to)
        : (tensor.data as NumericArray).subarray(from, to);
    pieces.push({ type: tensor.type, shape: [size, ...inner], data });
    start += size;
  }
  return pieces;
}
