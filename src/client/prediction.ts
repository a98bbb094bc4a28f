import type { ErrorCode } from '../errors/registry.js';
import { isErrorCode } from '../errors/registry.js';
import type { NamedTensor } from '../protocol/tensor.js';

/** What one request came back with. */
export type Prediction =
  | { readonly kind: 'tensors'; readonly outputs: NamedTensor[] }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'error'; readonly code: ErrorCode; readonly message: string };

/** How a result hash says what its `value` holds (field `serde`; absent in hashes written by BigDL itself). */
export type ResultForm = 'tensor' | 'text' | 'bigdl' | 'error';

export const RESULT_FIELDS = {
  value: 'value',
  form: 'serde',
  error: 'error',
  code: 'code',
} as const;

/** Text BigDL's clients see as the value of a failed record. */
export const FAILED_VALUE = 'NaN';

export function errorCodeOr(value: string | undefined, fallback: ErrorCode): ErrorCode {
  return value !== undefined && isErrorCode(value) ? value : fallback;
}
