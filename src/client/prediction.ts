import type { ErrorCode } from '../errors/registry.js';
import { isErrorCode } from '../errors/registry.js';
import type { NamedTensor } from '../protocol/tensor.js';

/** What one request came back with. */
export type Prediction =
  | { readonly kind: 'tensors'; readonly outputs: NamedTensor[] }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'error'; readonly code: ErrorCode; readonly message: string };

export function errorCodeOr(value: string | undefined, fallback: ErrorCode): ErrorCode {
  return value !== undefined && isErrorCode(value) ? value : fallback;
}
