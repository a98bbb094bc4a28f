/**
 * Tensors as every process sees them: a datatype named as the Open Inference Protocol
 * names it, a full shape, and the values in a typed array (strings for BYTES).
 * BOOL values are a Uint8Array of 0/1; FP16 values are the raw IEEE half bits in a Uint16Array.
 */
export const DATA_TYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;

export type DataType = (typeof DATA_TYPES)[number];

export type NumericArray =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

export type TensorData = NumericArray | string[];

export interface Tensor {
  readonly type: DataType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export interface NamedTensor extends Tensor {
  readonly name: string;
}

/** The onnxruntime-node type name for each datatype. */
export const ONNX_TYPE_OF: Readonly<Record<DataType, string>> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

const DATA_TYPE_OF_ONNX: Readonly<Record<string, DataType>> = Object.fromEntries(
  Object.entries(ONNX_TYPE_OF).map(([k, v]) => [v, k as DataType]),
);

export function dataTypeFromOnnx(onnxType: string): DataType | undefined {
  return DATA_TYPE_OF_ONNX[onnxType];
}

export function isDataType(value: string): value is DataType {
  return (DATA_TYPES as readonly string[]).includes(value);
}

/** Bytes per element; 0 for BYTES (variable length). */
export const BYTES_PER_ELEMENT: Readonly<Record<DataType, number>> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
  BYTES: 0,
};

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

type NumericCtor = {
  new (length: number): NumericArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
};

const CTOR_OF: Readonly<Record<Exclude<DataType, 'BYTES'>, NumericCtor>> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

/** A zero-filled array of `length` elements of a numeric datatype. */
export function allocate(type: Exclude<DataType, 'BYTES'>, length: number): NumericArray {
  return new CTOR_OF[type](length);
}

/**
 * A typed-array view over `bytes` (copied first when the offset is not aligned for the type,
 * so the caller may always keep the result).
 */
export function viewAs(type: Exclude<DataType, 'BYTES'>, bytes: Uint8Array): NumericArray {
  const size = BYTES_PER_ELEMENT[type];
  const length = bytes.byteLength / size;
  if (bytes.byteOffset % size === 0) return new CTOR_OF[type](bytes.buffer, bytes.byteOffset, length);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new CTOR_OF[type](copy.buffer, 0, length);
}

/** The bytes behind a numeric array, without copying. */
export function bytesOf(data: NumericArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
