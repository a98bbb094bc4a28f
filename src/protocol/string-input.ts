import type { TensorSpec } from './model-metadata.js';
import type { Tensor } from './tensor.js';

/**
 * BigDL's string input for a model input declared as string: one text, split on `|`. Used by
 * the worker (Arrow string columns, BigDL JSON) and the frontend (`/predict`), so both give
 * the model the same tensor.
 *
 * With `addBatch` (each record is one sample): a model input of rank 2 or more ([N,k]) gets
 * the k strings as one row, [1,k]; a rank-1 input ([N]) has no room for a sample dimension,
 * so the k strings are its k rows, [k]. Without `addBatch` the strings are returned as [k].
 */
export function bigdlStringTensor(text: string, spec: TensorSpec, addBatch: boolean): Tensor {
  const parts = text.split('|');
  const rowsAreStrings = !addBatch || spec.shape.length === 1;
  return { type: 'BYTES', shape: rowsAreStrings ? [parts.length] : [1, parts.length], data: parts };
}
