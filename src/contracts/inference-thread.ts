import type { ErrorCode } from '../errors/registry.js';
import type { ModelMetadata } from '../protocol/model-metadata.js';
import type { RecordBounds } from '../protocol/record-bounds.js';
import type { NamedTensor, Tensor } from '../protocol/tensor.js';

/**
 * The messages between a worker's main thread (src/worker/model-runner.ts) and its inference
 * thread (src/worker/inference-thread.ts), which holds the onnxruntime session.
 */

export interface LoadOptions {
  /** The CPUs the inference thread runs on (set when the rest of the worker is kept off some). */
  readonly cpus?: readonly number[] | undefined;
  readonly modelPath: string;
  readonly job: string;
  readonly threads: number;
  readonly inputAlreadyBatched: boolean;
  readonly maxBatchSize: number;
  readonly maxBatchDelayMs: number;
  readonly maxQueueLength: number;
  /** Published with the metadata, so producers refuse records the workers would refuse. */
  readonly bounds?: RecordBounds;
}

/** Main → thread. */
export type InferenceRequest =
  | { readonly type: 'load'; readonly options: LoadOptions }
  | { readonly type: 'run'; readonly id: number; readonly inputs: readonly Tensor[] }
  | { readonly type: 'release' };

/** Thread → main. */
export type InferenceReply =
  | { readonly type: 'loaded'; readonly metadata: ModelMetadata; readonly placementProblem?: string }
  | { readonly type: 'ran'; readonly id: number; readonly outputs: NamedTensor[]; readonly computeMs: number }
  | { readonly type: 'failed'; readonly id: number; readonly code: ErrorCode; readonly message: string }
  | { readonly type: 'released' };
