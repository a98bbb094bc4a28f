import { CsError } from '../errors/registry.js';
import type { Tensor } from '../protocol/tensor.js';

/**
 * A key that is equal for two records exactly when their inputs can be stacked into one run:
 * per input, the datatype and the dims after the batch dim, e.g. "FP32:4|INT64:2x3".
 * An input with only a batch dim gives "FP32:" (nothing after the colon).
 */
export function shapeKey(inputs: readonly Tensor[]): string {
  return inputs
    .map((t, i) => {
      if (t.shape.length === 0) {
        throw new CsError(
          'CS_ERR_INPUT_MISMATCH',
          `input ${i} is a scalar; it has no batch dimension to batch along`,
        );
      }
      return `${t.type}:${t.shape.slice(1).join('x')}`;
    })
    .join('|');
}
