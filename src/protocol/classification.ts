/**
 * Triton's classification extension: an output asked for with `parameters.classification: k`
 * is answered as BYTES strings `"<value>:<index>"` of its k highest values, per batch entry.
 * The strings are what Triton's server writes (src/classification.cc): the value as C++'s
 * std::to_string gives it (six decimals for floats, `0.900000:3`), the index in the row. There
 * are no label files, so no `:<label>` part.
 */
import { CsError } from '../errors/registry.js';
import type { DataType, NamedTensor, NumericArray } from './tensor.js';

/** Triton's own bound on the values classified per batch entry. */
export const MAX_CLASSIFICATION_ELEMENTS = 1_000_000;

const FLOAT_TYPES: ReadonlySet<DataType> = new Set(['FP32', 'FP64']);

/** Triton classifies every numeric type but FP16 (and not BOOL or BYTES). */
export function canClassify(type: DataType): boolean {
  return type !== 'FP16' && type !== 'BOOL' && type !== 'BYTES';
}

/** C's `%f`, which std::to_string(float/double) uses. */
function fixed6(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const magnitude = Math.abs(value);
  // toFixed turns to exponent form from 1e21; doubles that large are integers.
  return sign + (magnitude < 1e21 ? magnitude.toFixed(6) : `${BigInt(magnitude)}.000000`);
}

/**
 * The classification strings of `tensor` as Triton answers them. `batched`: the model takes
 * a batch dimension (max_batch_size > 0), so each entry of the first dimension is classified
 * apart, giving shape [batch, min(k, entry size)]; otherwise the whole tensor gives [min(k, size)].
 */
export function classify(tensor: NamedTensor, count: number, batched: boolean): NamedTensor {
  if (!canClassify(tensor.type)) {
    throw new CsError(
      'CS_ERR_HTTP_BAD_REQUEST',
      `output "${tensor.name}": classification is not available for ${tensor.type} outputs`,
    );
  }
  const data = tensor.data as NumericArray;
  const batch = batched && tensor.shape.length > 0 ? (tensor.shape[0] as number) : 0;
  const rows = Math.max(1, batch);
  const size = batch === 0 ? data.length : tensor.shape.slice(1).reduce((n, d) => n * d, 1);
  if (size > MAX_CLASSIFICATION_ELEMENTS) {
    throw new CsError(
      'CS_ERR_HTTP_BAD_REQUEST',
      `output "${tensor.name}": ${size} values per entry are too many to classify (at most ${MAX_CLASSIFICATION_ELEMENTS})`,
    );
  }
  const kept = Math.min(count, size);
  const format = FLOAT_TYPES.has(tensor.type) ? (v: number | bigint) => fixed6(Number(v)) : String;
  const out: string[] = [];
  for (let row = 0; row < rows; row++) {
    const values = Array.from(data.subarray(row * size, (row + 1) * size) as ArrayLike<number | bigint>);
    const order = values.map((_, i) => i);
    // Highest first; ties keep index order; NaN last (Triton's comparison leaves it unordered).
    order.sort((a, b) => {
      const x = values[a] as number | bigint;
      const y = values[b] as number | bigint;
      const xNaN = typeof x === 'number' && Number.isNaN(x);
      const yNaN = typeof y === 'number' && Number.isNaN(y);
      if (xNaN || yNaN) return xNaN === yNaN ? a - b : xNaN ? 1 : -1;
      return x > y ? -1 : x < y ? 1 : a - b;
    });
    for (let k = 0; k < kept; k++) {
      const index = order[k] as number;
      out.push(`${format(values[index] as number | bigint)}:${index}`);
    }
  }
  return { name: tensor.name, type: 'BYTES', shape: batch > 0 ? [batch, kept] : [kept], data: out };
}
