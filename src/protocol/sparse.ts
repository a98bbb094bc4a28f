import { CsError } from '../errors/registry.js';

/**
 * Most elements a decoded input may hold. A sparse tensor is small on the wire but its
 * dense form is not: without this bound a few bytes could ask for gigabytes.
 */
export const MAX_DENSE_ELEMENTS = 1 << 26;

/**
 * Checks a dense shape (non-negative integer dims, bounded element count) and returns its
 * element count. `where` names the input in messages.
 */
export function checkDenseShape(shape: ArrayLike<number>, where: string): number {
  let count = 1;
  for (let d = 0; d < shape.length; d++) {
    const dim = shape[d]!;
    if (!Number.isInteger(dim) || dim < 0) {
      throw new CsError(
        'CS_ERR_INPUT_DECODE',
        `${where}: shape dims must be non-negative integers, got ${String(dim)} at dim ${d}`,
      );
    }
    count *= dim;
  }
  if (count > MAX_DENSE_ELEMENTS) {
    throw new CsError(
      'CS_ERR_INPUT_TOO_LARGE',
      `${where}: shape [${Array.from(shape).join(',')}] holds ${count} elements, more than the ${MAX_DENSE_ELEMENTS} allowed`,
    );
  }
  return count;
}

/**
 * The dense float32 form of a COO sparse tensor. `indices` holds rank × nnz coordinates,
 * row-major by dim (all coordinates of dim 0, then dim 1, ...), 0-based; `values` the nnz
 * values. A coordinate given twice is refused: summing or overwriting would both hide a
 * mistake in the caller's data.
 */
export function cooToDense(
  shape: ArrayLike<number>,
  indices: ArrayLike<number>,
  values: ArrayLike<number>,
  where: string,
): Float32Array {
  const count = checkDenseShape(shape, where);
  const rank = shape.length;
  const nnz = values.length;
  if (indices.length !== rank * nnz) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `${where}: sparse tensor of rank ${rank} with ${nnz} values needs ${rank * nnz} coordinates, got ${indices.length}`,
    );
  }
  if (rank === 0 && nnz > 1) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `${where}: a scalar sparse tensor holds at most 1 value, got ${nnz}`,
    );
  }
  const dense = new Float32Array(count);
  const seen = new Uint8Array(count);
  for (let k = 0; k < nnz; k++) {
    let flat = 0;
    for (let d = 0; d < rank; d++) {
      const coord = indices[d * nnz + k]!;
      const dim = shape[d]!;
      if (!Number.isInteger(coord) || coord < 0 || coord >= dim) {
        throw new CsError(
          'CS_ERR_INPUT_DECODE',
          `${where}: sparse coordinate ${String(coord)} of value ${k} is out of range for dim ${d} (size ${dim})`,
        );
      }
      flat = flat * dim + coord;
    }
    if (seen[flat] === 1) {
      throw new CsError('CS_ERR_INPUT_DECODE', `${where}: sparse value ${k} repeats an earlier coordinate`);
    }
    seen[flat] = 1;
    dense[flat] = values[k]!;
  }
  return dense;
}
