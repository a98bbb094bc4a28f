import type { Tensor } from './tensor.js';

/**
 * How large one record (one stream entry: one request of the client, one OIP infer, one
 * instance of /predict) may be: its own batch dimension and the bytes of its tensors. A
 * record past either is refused with CS_ERR_RECORD_TOO_LARGE by the client and the frontend
 * before it reaches Redis, and by the worker (for writers such as BigDL's Python client)
 * without being run. Config keys maxRecordBatch and maxRecordBytes.
 */
export interface RecordBounds {
  readonly maxRecordBatch: number;
  readonly maxRecordBytes: number;
}

export const RECORD_BOUND_DEFAULTS: RecordBounds = Object.freeze({
  maxRecordBatch: 256,
  maxRecordBytes: 64 * 1024 * 1024,
});

/**
 * An encoded record may take this many times maxRecordBytes before a worker refuses it
 * without decoding: base64 Arrow carries float32 (4/3 of the bytes, up to 4 times more
 * when the model's type is narrower) and JSON text takes a few characters per value.
 */
export const ENCODED_BYTES_FACTOR = 8;

function tensorBytes(tensor: Tensor): number {
  const { data } = tensor;
  if (Array.isArray(data)) return data.reduce((n, s) => n + Buffer.byteLength(s), 0);
  return data.byteLength;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * Why the record is over a bound, or undefined. `carriesBatch`: the tensors' first dim is
 * the record's batch dimension (false for a BigDL sample, to which the worker adds it).
 */
export function recordOverBounds(
  tensors: readonly Tensor[],
  carriesBatch: boolean,
  bounds: RecordBounds,
): string | undefined {
  const rows = carriesBatch ? (tensors.find((t) => t.shape.length > 0)?.shape[0] ?? 1) : 1;
  if (rows > bounds.maxRecordBatch) {
    return `the record has a batch dimension of ${rows}; this job takes at most ${bounds.maxRecordBatch} rows per record (maxRecordBatch): send it as several requests`;
  }
  const bytes = tensors.reduce((n, t) => n + tensorBytes(t), 0);
  if (bytes > bounds.maxRecordBytes) {
    return `the record holds ${megabytes(bytes)} of tensors; this job takes at most ${megabytes(bounds.maxRecordBytes)} per record (maxRecordBytes): send it as several requests`;
  }
  return undefined;
}

/** Why an encoded payload is too large to be worth decoding, or undefined. */
export function encodedOverBounds(payloadBytes: number, bounds: RecordBounds): string | undefined {
  const limit = bounds.maxRecordBytes * ENCODED_BYTES_FACTOR;
  if (payloadBytes <= limit) return undefined;
  return `the record's data field is ${megabytes(payloadBytes)}, more than ${ENCODED_BYTES_FACTOR} x maxRecordBytes (${megabytes(bounds.maxRecordBytes)}); it was not decoded: send it as several requests`;
}
