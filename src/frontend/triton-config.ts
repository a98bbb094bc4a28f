/**
 * A job's model as Triton's model configuration (`GET /v2/models/{m}/config`), which tools
 * built on Triton's clients read before anything else.
 */
import type { ModelMetadata, TensorSpec } from '../protocol/model-metadata.js';
import type { DataType } from '../protocol/tensor.js';

const TRITON_TYPE: Readonly<Record<DataType, string>> = {
  BOOL: 'TYPE_BOOL',
  UINT8: 'TYPE_UINT8',
  UINT16: 'TYPE_UINT16',
  UINT32: 'TYPE_UINT32',
  UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8',
  INT16: 'TYPE_INT16',
  INT32: 'TYPE_INT32',
  INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16',
  FP32: 'TYPE_FP32',
  FP64: 'TYPE_FP64',
  BYTES: 'TYPE_STRING',
};

export interface TritonTensorConfig {
  readonly name: string;
  readonly data_type: string;
  readonly dims: readonly number[];
}

export interface TritonModelConfig {
  readonly name: string;
  readonly platform: 'onnxruntime_onnx';
  readonly backend: 'onnxruntime';
  readonly version_policy: { readonly latest: { readonly num_versions: 1 } };
  readonly max_batch_size: number;
  readonly input: readonly TritonTensorConfig[];
  readonly output: readonly TritonTensorConfig[];
  readonly dynamic_batching?: {
    readonly preferred_batch_size: readonly number[];
    readonly max_queue_delay_microseconds: number;
  };
}

/**
 * As Triton states a batching model: when the worker stacks records (inputAlreadyBatched
 * false), max_batch_size is maxBatchSize and dims leave out the batch dimension, and the
 * worker's batching is Triton's dynamic batching with maxBatchDelayMs as the queue delay.
 * When each record is already a batch, max_batch_size is 0 and dims are the model's own.
 */
export function tritonModelConfig(job: string, model: ModelMetadata): TritonModelConfig {
  const batching = !model.inputAlreadyBatched;
  const tensor = (spec: TensorSpec): TritonTensorConfig => ({
    name: spec.name,
    data_type: TRITON_TYPE[spec.datatype],
    dims: batching ? spec.shape.slice(1) : spec.shape,
  });
  const config: TritonModelConfig = {
    name: job,
    platform: 'onnxruntime_onnx',
    backend: 'onnxruntime',
    version_policy: { latest: { num_versions: 1 } },
    max_batch_size: batching ? model.maxBatchSize : 0,
    input: model.inputs.map(tensor),
    output: model.outputs.map(tensor),
  };
  if (!batching) return config;
  return {
    ...config,
    dynamic_batching: {
      preferred_batch_size: [],
      max_queue_delay_microseconds: (model.maxBatchDelayMs ?? 0) * 1000,
    },
  };
}
