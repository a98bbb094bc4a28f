import { CsError, isCsError, reasonOf } from '../errors/registry.js';
import { castTensor } from '../protocol/cast.js';
import { binaryTensorData } from './oip-binary.js';
import {
  DATA_TYPES,
  allocate,
  isDataType,
  type DataType,
  type NamedTensor,
  type NumericArray,
  type TensorData,
} from '../protocol/tensor.js';

/** An Open Inference Protocol (KServe v2) inference request, decoded to tensors. */
export interface InferRequest {
  readonly id: string | undefined;
  readonly inputs: NamedTensor[];
  /** Output names the client asked for; undefined = all. */
  readonly outputs: string[] | undefined;
  /** Outputs to answer in binary (the binary tensor extension): every one, or those named. */
  readonly binaryOutputs: 'all' | ReadonlySet<string>;
  /** Outputs asked for as top-k classifications (Triton's classification extension): name → k. */
  readonly classifications: ReadonlyMap<string, number>;
}

/** Triton reads the count as an unsigned 32-bit integer; 0 means a plain output. */
const MAX_CLASSIFICATION_COUNT = 0xffffffff;

const MAX_RANK = 16;
const MAX_ELEMENTS = 1 << 28;

function bad(message: string): CsError {
  return new CsError('CS_ERR_HTTP_BAD_REQUEST', message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Decodes a parsed JSON body (the JSON header of a binary one, whose tail is `binary`); every
 * problem is a 400 that names the input and the field.
 */
export function decodeInferRequest(body: unknown, binary?: Buffer): InferRequest {
  if (!isRecord(body)) {
    throw bad(
      'the body must be a JSON object like {"inputs":[{"name":..,"shape":[..],"datatype":"FP32","data":[..]}]}',
    );
  }
  const id = body['id'];
  if (id !== undefined && typeof id !== 'string')
    throw bad(`"id" must be a string, got ${JSON.stringify(id)}`);
  const inputs = body['inputs'];
  if (inputs === undefined) {
    const near = Object.keys(body).find((k) => /^inputs?$/i.test(k) || k.toLowerCase() === 'instances');
    const hint =
      near === undefined
        ? ''
        : ` (found "${near}"${near === 'instances' ? ': that is the /predict format' : ''})`;
    throw bad(`the body has no "inputs" array${hint}`);
  }
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw bad('"inputs" must be a non-empty array of {name, shape, datatype, data}');
  }
  const seen = new Set<string>();
  const tail = { bytes: binary, used: 0 };
  const tensors = inputs.map((input: unknown, index) => {
    const tensor = decodeInput(input, index, tail);
    if (seen.has(tensor.name)) throw bad(`input "${tensor.name}" appears more than once`);
    seen.add(tensor.name);
    return tensor;
  });
  if (binary !== undefined && tail.used !== binary.length) {
    throw bad(
      `the binary part of the body holds ${binary.length} bytes, but the inputs' binary_data_size add up to ${tail.used}`,
    );
  }
  const parameters = body['parameters'];
  const allBinary = isRecord(parameters) && parameters['binary_data_output'] === true;
  const filter = decodeOutputFilter(body['outputs']);
  return {
    id,
    inputs: tensors,
    outputs: filter?.names,
    binaryOutputs: allBinary ? 'all' : (filter?.binary ?? new Set()),
    classifications: filter?.classifications ?? new Map(),
  };
}

interface OutputFilter {
  names: string[];
  binary: Set<string>;
  classifications: Map<string, number>;
}

function decodeOutputFilter(outputs: unknown): OutputFilter | undefined {
  if (outputs === undefined) return undefined;
  if (!Array.isArray(outputs)) throw bad('"outputs" must be an array of {"name": ...}');
  const binary = new Set<string>();
  const classifications = new Map<string, number>();
  const names = outputs.map((entry: unknown, index) => {
    if (!isRecord(entry) || typeof entry['name'] !== 'string') {
      throw bad(`outputs[${index}] must be an object with a string "name"`);
    }
    const name = entry['name'];
    const parameters = entry['parameters'];
    if (!isRecord(parameters)) return name;
    if (parameters['binary_data'] === true) binary.add(name);
    const count = parameters['classification'];
    if (count === undefined) return name;
    if (
      typeof count !== 'number' ||
      !Number.isInteger(count) ||
      count < 0 ||
      count > MAX_CLASSIFICATION_COUNT
    ) {
      throw bad(
        `output "${name}": parameters.classification must be the number of classes to return (an integer, 1 or more), got ${shown(count)}`,
      );
    }
    if (count > 0) classifications.set(name, count);
    return name;
  });
  return { names, binary, classifications };
}

/** The binary tail of a request and how much of it the inputs before have taken. */
interface BinaryTail {
  readonly bytes: Buffer | undefined;
  used: number;
}

function decodeInput(input: unknown, index: number, tail: BinaryTail): NamedTensor {
  if (!isRecord(input)) throw bad(`inputs[${index}] must be an object with name, shape, datatype and data`);
  const name = input['name'];
  if (typeof name !== 'string' || name.length === 0)
    throw bad(`inputs[${index}].name must be a non-empty string`);
  const label = `input "${name}"`;
  const shape = decodeShape(input['shape'], label);
  const datatype = input['datatype'];
  if (typeof datatype !== 'string' || !isDataType(datatype)) {
    throw bad(`${label}: datatype ${JSON.stringify(datatype)} is not one of ${DATA_TYPES.join(', ')}`);
  }
  const count = shape.reduce((n, d) => n * d, 1);
  if (count > MAX_ELEMENTS)
    throw new CsError('CS_ERR_INPUT_TOO_LARGE', `${label}: shape ${JSON.stringify(shape)} is too large`);
  const parameters = input['parameters'];
  const size = isRecord(parameters) ? parameters['binary_data_size'] : undefined;
  if (size !== undefined) {
    return { name, type: datatype, shape, data: binaryInput(input, size, datatype, count, label, tail) };
  }
  const raw = input['data'];
  if (!Array.isArray(raw) && !(raw instanceof Float32Array) && !(raw instanceof Float64Array)) {
    throw bad(`${label}: "data" must be an array (flat or nested, row-major)`);
  }
  const data = decodeData(raw, datatype, count, label);
  return { name, type: datatype, shape, data };
}

function binaryInput(
  input: Record<string, unknown>,
  size: unknown,
  datatype: DataType,
  count: number,
  label: string,
  tail: BinaryTail,
): TensorData {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw bad(`${label}: parameters.binary_data_size must be a byte count, got ${shown(size)}`);
  }
  if (input['data'] !== undefined) throw bad(`${label}: give "data" or binary_data_size, not both`);
  if (tail.bytes === undefined) {
    throw bad(
      `${label}: binary_data_size needs a binary body: the JSON header's length in an Inference-Header-Content-Length header, the tensor bytes after it`,
    );
  }
  if (tail.used + size > tail.bytes.length) {
    throw bad(
      `${label}: binary_data_size ${size} runs past the end of the body (${tail.bytes.length - tail.used} bytes left)`,
    );
  }
  const bytes = tail.bytes.subarray(tail.used, tail.used + size);
  tail.used += size;
  return binaryTensorData(bytes, datatype, count, label);
}

function decodeShape(value: unknown, label: string): number[] {
  if (!Array.isArray(value)) throw bad(`${label}: "shape" must be an array of non-negative integers`);
  if (value.length > MAX_RANK) throw bad(`${label}: rank ${value.length} is above the limit of ${MAX_RANK}`);
  for (const d of value) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw bad(`${label}: shape ${JSON.stringify(value)} must hold non-negative integers`);
    }
  }
  return value as number[];
}

/**
 * `data` as parsed: JSON arrays, or a typed array where parseInferBody read a flat run of
 * numbers (the same values JSON.parse gives).
 */
type RawData = readonly unknown[] | Float32Array | Float64Array;

/** Walks flat or nested arrays in row-major order, handing each leaf to `put`. */
function walk(
  data: RawData,
  count: number,
  label: string,
  put: (value: unknown, index: number) => void,
): void {
  let index = 0;
  const visit = (list: RawData): void => {
    for (const item of list) {
      if (Array.isArray(item)) {
        visit(item);
        continue;
      }
      if (index >= count) throw bad(`${label}: "data" holds more elements than the shape's ${count}`);
      put(item, index);
      index += 1;
    }
  };
  visit(data);
  if (index !== count) throw bad(`${label}: "data" holds ${index} elements, the shape needs ${count}`);
}

const INT_RANGES: Readonly<Partial<Record<DataType, readonly [number, number]>>> = {
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
};

const BIG_RANGES: Readonly<Record<'INT64' | 'UINT64', readonly [bigint, bigint]>> = {
  INT64: [-(1n << 63n), (1n << 63n) - 1n],
  UINT64: [0n, (1n << 64n) - 1n],
};

function shown(value: unknown): string {
  const text = typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function decodeData(raw: RawData, type: DataType, count: number, label: string): TensorData {
  if (type === 'FP32' && raw instanceof Float32Array && raw.length === count) return raw;
  const at = (index: number): string => `${label}: data[${index}]`;
  if (type === 'BYTES') {
    const out = new Array<string>(count);
    walk(raw, count, label, (v, i) => {
      if (typeof v !== 'string') throw bad(`${at(i)} must be a string for BYTES, got ${shown(v)}`);
      out[i] = v;
    });
    return out;
  }
  if (type === 'BOOL') {
    const out = allocate('BOOL', count);
    walk(raw, count, label, (v, i) => {
      if (typeof v !== 'boolean') throw bad(`${at(i)} must be true or false for BOOL, got ${shown(v)}`);
      out[i] = v ? 1 : 0;
    });
    return out;
  }
  if (type === 'INT64' || type === 'UINT64') {
    const [min, max] = BIG_RANGES[type];
    const out = allocate(type, count) as BigInt64Array | BigUint64Array;
    walk(raw, count, label, (v, i) => {
      let big: bigint;
      if (typeof v === 'bigint') {
        big = v;
      } else if (typeof v === 'number') {
        if (!Number.isInteger(v)) throw bad(`${at(i)} = ${v} is not an integer (${type})`);
        if (!Number.isSafeInteger(v)) {
          throw bad(
            `${at(i)} = ${v} is beyond 2^53 and was not read exactly (write "datatype" before "data", or send it as a string of digits)`,
          );
        }
        big = BigInt(v);
      } else if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) {
        big = BigInt(v);
      } else {
        throw bad(`${at(i)} must be an integer (or a string of digits) for ${type}, got ${shown(v)}`);
      }
      if (big < min || big > max) throw bad(`${at(i)} = ${big} is out of range for ${type}`);
      out[i] = big;
    });
    return out;
  }
  // Floating types are read as float32/float64 straight away; FP16 goes through float32.
  const target: Exclude<DataType, 'BYTES' | 'BOOL' | 'INT64' | 'UINT64'> = type;
  const out: NumericArray = allocate(target === 'FP16' ? 'FP32' : target, count);
  const range = INT_RANGES[target];
  walk(raw, count, label, (v, i) => {
    if (typeof v !== 'number') throw bad(`${at(i)} must be a number for ${type}, got ${shown(v)}`);
    if (range !== undefined && (!Number.isInteger(v) || v < range[0] || v > range[1])) {
      throw bad(`${at(i)} = ${v} is not an integer in ${range[0]}..${range[1]} (${type})`);
    }
    out[i] = v;
  });
  if (target !== 'FP16') return out;
  try {
    return castTensor({ type: 'FP32', shape: [count], data: out }, 'FP16').data;
  } catch (error) {
    throw bad(`${label}: ${isCsError(error) ? error.message : reasonOf(error)}`);
  }
}
