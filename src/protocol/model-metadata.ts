import type { DataType } from './tensor.js';

export interface TensorSpec {
  readonly name: string;
  readonly datatype: DataType;
  /** Dims as the model declares them; -1 where a dim is dynamic. */
  readonly shape: readonly number[];
}

/** What a worker publishes about its model once it has loaded and warmed it. */
export interface ModelMetadata {
  /** The job name, also the OIP model name. */
  readonly name: string;
  readonly platform: 'onnx_onnxv1';
  readonly modelPath: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** True when every input's first dim is dynamic, so records can be stacked into one run. */
  readonly batchable: boolean;
  readonly inputAlreadyBatched: boolean;
  readonly maxBatchSize: number;
  /** How long a worker waits to fill a batch (config maxBatchDelayMs); absent from older workers. */
  readonly maxBatchDelayMs?: number;
  /** The job's queue bound (config maxQueueLength), for producers that were not given one. */
  readonly maxQueueLength?: number;
  /** The job's record bounds (config maxRecordBatch, maxRecordBytes), for producers that were not given them. */
  readonly maxRecordBatch?: number;
  readonly maxRecordBytes?: number;
}
