import { CsError } from '../errors/registry.js';
import { instanceValueToTensor } from '../protocol/json-instances.js';
import { castTensor } from '../protocol/cast.js';
import {
  elementCount,
  type DataType,
  type NamedTensor,
  type NumericArray,
  type Tensor,
} from '../protocol/tensor.js';

/** A tensor as a caller gives it: typed array (or plain array) with a shape, or nested number arrays. */
export type TensorInput =
  | {
      readonly data: NumericArray | readonly number[] | readonly bigint[] | readonly string[];
      readonly shape: readonly number[];
      readonly type?: DataType;
    }
  | NestedNumbers;

export type NestedNumbers = number | readonly NestedNumbers[];

/** Named inputs, or inputs in the model's order. */
export type Inputs = Readonly<Record<string, TensorInput>> | readonly TensorInput[];

const TYPE_OF_ARRAY: ReadonlyArray<[new (...args: never[]) => NumericArray, DataType]> = [
  [Float32Array, 'FP32'],
  [Float64Array, 'FP64'],
  [Int8Array, 'INT8'],
  [Int16Array, 'INT16'],
  [Int32Array, 'INT32'],
  [BigInt64Array, 'INT64'],
  [Uint8Array, 'UINT8'],
  [Uint16Array, 'UINT16'],
  [Uint32Array, 'UINT32'],
  [BigUint64Array, 'UINT64'],
];

export function toNamedTensors(inputs: Inputs): NamedTensor[] {
  if (Array.isArray(inputs)) return inputs.map((input, i) => toTensor(`input${i}`, input as TensorInput));
  return Object.entries(inputs as Readonly<Record<string, TensorInput>>).map(([name, input]) =>
    toTensor(name, input),
  );
}

export function toTensor(name: string, input: TensorInput): NamedTensor {
  if (typeof input === 'number' || Array.isArray(input)) return instanceValueToTensor(name, input);
  const given = input as Exclude<TensorInput, NestedNumbers>;
  const { data, shape } = given;
  if (data.length !== elementCount(shape)) {
    throw new CsError(
      'CS_ERR_INPUT_MISMATCH',
      `input "${name}": shape [${shape.join(',')}] holds ${elementCount(shape)} values but data has ${data.length}`,
    );
  }
  const tensor = fromData(name, data, given.type);
  const shaped: Tensor = { ...tensor, shape: [...shape] };
  const converted =
    given.type === undefined || given.type === shaped.type ? shaped : castTensor(shaped, given.type);
  return { ...converted, name };
}

function fromData(
  name: string,
  data: Exclude<TensorInput, NestedNumbers>['data'],
  type: DataType | undefined,
): Tensor {
  for (const [ctor, dataType] of TYPE_OF_ARRAY) {
    if (data instanceof ctor) {
      // A Uint8Array declared BOOL, or a Uint16Array declared FP16, is already in that form.
      const as =
        (type === 'BOOL' && dataType === 'UINT8') || (type === 'FP16' && dataType === 'UINT16')
          ? type
          : dataType;
      return { type: as, shape: [data.length], data: data as NumericArray };
    }
  }
  const list = data as readonly unknown[];
  if (list.every((v) => typeof v === 'string'))
    return { type: 'BYTES', shape: [list.length], data: [...(list as string[])] };
  if (list.every((v) => typeof v === 'bigint')) {
    return { type: 'INT64', shape: [list.length], data: BigInt64Array.from(list as bigint[]) };
  }
  if (list.every((v) => typeof v === 'number')) {
    const wide = type === 'FP64' ? Float64Array.from(list as number[]) : Float32Array.from(list as number[]);
    return { type: type === 'FP64' ? 'FP64' : 'FP32', shape: [list.length], data: wide };
  }
  throw new CsError(
    'CS_ERR_INPUT_MISMATCH',
    `input "${name}": data must be a typed array, numbers, bigints or strings`,
  );
}

/** Plain tensors by output name, as predict returns them. */
export function byName(tensors: readonly NamedTensor[]): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const t of tensors) out[t.name] = { type: t.type, shape: t.shape, data: t.data };
  return out;
}
