import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { LoadOptions } from '../contracts/inference-thread.js';
import { CsError, reasonOf } from '../errors/registry.js';
import type { ModelMetadata, TensorSpec } from '../protocol/model-metadata.js';
import {
  allocate,
  dataTypeFromOnnx,
  ONNX_TYPE_OF,
  type DataType,
  type NamedTensor,
  type NumericArray,
  type Tensor,
} from '../protocol/tensor.js';

/** A run's outputs, and how long the session took (not counting a wait in a queue). */
export interface ModelRun {
  readonly outputs: NamedTensor[];
  readonly computeMs: number;
}

/** What the worker needs of a model: its declared inputs and outputs and a run. */
export interface Model {
  readonly metadata: ModelMetadata;
  /**
   * One session.run; `inputs` are in the order of metadata.inputs. `handOver`: the caller made
   * the inputs' memory for this run alone and will not touch it again, so it may be moved
   * rather than copied.
   */
  run(inputs: readonly Tensor[], handOver?: boolean): Promise<ModelRun>;
  /**
   * Runs are done one after another, in the order they were asked for, away from the caller's
   * thread: the caller may ask for the next run before this one is over, so the model does not
   * wait for the caller between runs.
   */
  readonly queuesRuns?: boolean;
  release(): Promise<void>;
  /**
   * Where a stacked batch for input `index` may be written, when the model lets go of its
   * inputs once a run is over (a session in this thread does; one on another thread is handed
   * them instead).
   */
  inputBuffer?(index: number, type: Exclude<DataType, 'BYTES'>, length: number): NumericArray;
}

/**
 * Runs once on zeros (batch 1, dynamic dims 1) so the first request does not pay for lazy
 * initialisation. Resolves to the reason when the model refuses that input (some need real
 * sizes, e.g. Silero VAD a minimum audio length): the model loaded, so it is served anyway.
 */
export async function warmUp(model: Model): Promise<string | undefined> {
  try {
    await model.run(zeroInputs(model.metadata));
    return undefined;
  } catch (error) {
    return reasonOf(error);
  }
}

/** A loaded ONNX model: its declared inputs and outputs and a run over our tensor types. */
export class ModelSession implements Model {
  /** One buffer per input and datatype, grown as batches need, written again by each run. */
  private readonly buffers = new Map<string, NumericArray>();

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly metadata: ModelMetadata,
  ) {}

  static async load(options: LoadOptions): Promise<ModelSession> {
    let session: ort.InferenceSession;
    try {
      const bytes = readFileSync(options.modelPath);
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: options.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // onnxruntime's CPU arena keeps the peak of the largest run for the life of the session:
        // one [256,3,64,64] run of the test CNN left a worker at 1.1 GB for good. Without it,
        // a run's buffers go back to the allocator when it ends (the worker was back at 0.2 GB).
        // Its cost, in CPU time per run (one thread, arena on and off alternated, median of 20
        // rounds): test CNN batch 1 +0.1%, batch 32 +2.7%; PaddleOCR classifier batch 1 +1.2%,
        // batch 16 +0.3%. Wall-clock figures on the shared machine swung ±20% either way. At a
        // few % at most, recreating sessions after large runs to keep the arena was not worth
        // its complexity (docs/benchmarks.md).
        enableCpuMemArena: false,
      });
    } catch (error) {
      throw new CsError('CS_ERR_MODEL_LOAD', `cannot load model ${options.modelPath}: ${reasonOf(error)}`, {
        cause: error,
      });
    }
    const inputs = session.inputMetadata.map((m) => specOf(m, 'input', options.modelPath));
    const outputs = session.outputMetadata.map((m) => specOf(m, 'output', options.modelPath));
    const metadata: ModelMetadata = {
      name: options.job,
      platform: 'onnx_onnxv1',
      modelPath: options.modelPath,
      inputs,
      outputs,
      batchable: inputs.every((i) => i.shape.length === 0 || i.shape[0] === -1),
      inputAlreadyBatched: options.inputAlreadyBatched,
      maxBatchSize: options.maxBatchSize,
      maxBatchDelayMs: options.maxBatchDelayMs,
      maxQueueLength: options.maxQueueLength,
      ...options.bounds,
    };
    return new ModelSession(session, metadata);
  }

  /** One session.run; `inputs` are in the order of metadata.inputs. */
  async run(inputs: readonly Tensor[]): Promise<ModelRun> {
    const feeds: Record<string, ort.Tensor> = {};
    this.metadata.inputs.forEach((spec, i) => {
      const t = inputs[i];
      if (t === undefined) throw new CsError('CS_ERR_INPUT_MISMATCH', `input "${spec.name}" is missing`);
      feeds[spec.name] = new ort.Tensor(
        ONNX_TYPE_OF[t.type] as ort.Tensor.Type,
        t.data as ort.Tensor.DataType,
        [...t.shape],
      );
    });
    const started = performance.now();
    const results = await this.session.run(feeds);
    const computeMs = performance.now() - started;
    const outputs: NamedTensor[] = this.metadata.outputs.map((spec) => {
      const value = results[spec.name];
      if (value === undefined)
        throw new CsError('CS_ERR_INFERENCE_FAILED', `the model gave no output "${spec.name}"`);
      const type = dataTypeFromOnnx(value.type) ?? spec.datatype;
      return {
        name: spec.name,
        type,
        shape: [...value.dims],
        data: value.data as Tensor['data'],
      } as NamedTensor;
    });
    return { outputs, computeMs };
  }

  inputBuffer(index: number, type: Exclude<DataType, 'BYTES'>, length: number): NumericArray {
    const key = `${index}:${type}`;
    let buffer = this.buffers.get(key);
    if (buffer === undefined || buffer.length < length) {
      buffer = allocate(type, length);
      this.buffers.set(key, buffer);
    }
    return buffer.length === length ? buffer : buffer.subarray(0, length);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function specOf(meta: ort.InferenceSession.ValueMetadata, role: string, path: string): TensorSpec {
  if (!meta.isTensor) {
    throw new CsError(
      'CS_ERR_MODEL_LOAD',
      `model ${path}: ${role} "${meta.name}" is not a tensor; only tensor ${role}s are served`,
    );
  }
  const datatype = dataTypeFromOnnx(meta.type);
  if (datatype === undefined) {
    throw new CsError(
      'CS_ERR_MODEL_LOAD',
      `model ${path}: ${role} "${meta.name}" has type ${meta.type}, which is not served`,
    );
  }
  return {
    name: meta.name,
    datatype,
    shape: meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
  };
}

/** Zeros for every input (batch 1, dynamic dims 1): the warm-up run's inputs. */
export function zeroInputs(metadata: ModelMetadata): Tensor[] {
  return metadata.inputs.map((spec) => {
    const shape = spec.shape.length === 0 ? [1] : spec.shape.map((d) => (d < 0 ? 1 : d));
    const count = shape.reduce((a, b) => a * b, 1);
    const data =
      spec.datatype === 'BYTES' ? new Array<string>(count).fill('') : allocate(spec.datatype, count);
    return { type: spec.datatype, shape, data };
  });
}
