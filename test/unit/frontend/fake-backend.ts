import { decodeTotals, type JobTotals } from '../../../src/redis/stats-schema.js';
import type { HttpOptions } from '../../../src/config/types.js';
import { CsError } from '../../../src/errors/registry.js';
import type {
  JobStatus,
  Prediction,
  PredictionBackend,
  RepositoryEntry,
} from '../../../src/frontend/backend.js';
import type { JobFigures } from '../../../src/metrics/frontend-metrics.js';
import type { ModelMetadata } from '../../../src/protocol/model-metadata.js';
import type { NamedTensor } from '../../../src/protocol/tensor.js';

export const JOB = 'test_job';

export function httpOptions(overrides: Partial<HttpOptions> = {}): HttpOptions {
  return {
    interface: '127.0.0.1',
    port: 0,
    redisHost: 'localhost',
    redisPort: 6379,
    redisUrl: undefined,
    redisInputQueue: JOB,
    redisOutputQueue: `cluster-serving_${JOB}:`,
    parallelism: 1000,
    processes: 1,
    timeWindow: 0,
    countWindow: 56,
    tokenBucketEnabled: false,
    tokensPerSecond: 100,
    tokenAcquireTimeout: 100,
    requestTimeout: 5000,
    bodyLimit: 1024 * 1024,
    httpsEnabled: false,
    securePort: 0,
    httpsCertPath: undefined,
    httpsKeyPath: undefined,
    ...overrides,
  };
}

export const MLP: ModelMetadata = {
  name: JOB,
  platform: 'onnx_onnxv1',
  modelPath: '/models/mlp.onnx',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 3] }],
  batchable: true,
  inputAlreadyBatched: false,
  maxBatchSize: 32,
};

export const TWO_IO: ModelMetadata = {
  ...MLP,
  inputs: [
    { name: 'a', datatype: 'FP32', shape: [-1, 4] },
    { name: 'b', datatype: 'INT64', shape: [-1, 2] },
  ],
  outputs: [
    { name: 'sum', datatype: 'FP32', shape: [-1, 4] },
    { name: 'score', datatype: 'FP32', shape: [-1, 1] },
  ],
};

type Answer = (inputs: readonly NamedTensor[], index: number) => Prediction | Promise<Prediction>;

/** Sums each input row: a deterministic answer whose values depend on the request. */
export const rowSums: Answer = (inputs) => {
  const first = inputs[0] as NamedTensor;
  const data = first.data as Float32Array;
  const rows = first.shape[0] ?? 1;
  const width = data.length / rows;
  const out = new Float32Array(rows * 3);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < width; c++) sum += data[r * width + c] as number;
    out.set([sum, sum * 2, -sum], r * 3);
  }
  return { kind: 'tensors', outputs: [{ name: 'output', type: 'FP32', shape: [rows, 3], data: out }] };
};

/** An in-memory PredictionBackend: records what was submitted and answers with `answer`. */
export class FakeBackend implements PredictionBackend {
  jobStatus: JobStatus = { liveWorkers: 1, model: MLP };
  statusError: CsError | undefined;
  answer: Answer = rowSums;
  readonly submitted: NamedTensor[][] = [];
  /** BigDL JSON bodies sent with the stream serde. */
  readonly submittedJson: string[] = [];
  flushes = 0;
  totalsValue: JobTotals = decodeTotals({});
  figuresValue: JobFigures = {
    processed: 42,
    errors: { CS_ERR_INPUT_MISMATCH: 2 },
    dropped: { no_uri: 1 },
    batches: 10,
    queueMsTotal: 1500,
    computeMsTotal: 250,
    batchSizes: { '1': 4, '8': 6 },
    queued: 3,
    inFlight: 1,
    queuedRequests: 9,
    liveWorkers: 2,
  };

  submit(inputs: readonly NamedTensor[], options: { timeoutMs: number }): Promise<Prediction> {
    if (options.timeoutMs <= 0) return Promise.reject(new CsError('CS_ERR_TIMEOUT', 'bad timeout'));
    const index = this.submitted.length;
    this.submitted.push([...inputs]);
    try {
      return Promise.resolve(this.answer(inputs, index));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  submitBigdlJson(body: string, options: { timeoutMs: number }): Promise<Prediction> {
    if (options.timeoutMs <= 0) return Promise.reject(new CsError('CS_ERR_TIMEOUT', 'bad timeout'));
    this.submittedJson.push(body);
    return Promise.resolve({
      kind: 'tensors',
      outputs: [{ name: 'output0', type: 'FP32', shape: [1, 2], data: new Float32Array([0.5, 0.25]) }],
    });
  }

  status(): Promise<JobStatus> {
    if (this.statusError !== undefined) return Promise.reject(this.statusError);
    return Promise.resolve(this.jobStatus);
  }

  /** Other jobs in the same Redis; this job's own entry follows jobStatus. */
  otherJobs: RepositoryEntry[] = [{ name: 'other_job', ready: false }];

  repository(): Promise<RepositoryEntry[]> {
    if (this.statusError !== undefined) return Promise.reject(this.statusError);
    const own = { name: JOB, ready: this.jobStatus.liveWorkers > 0 && this.jobStatus.model !== undefined };
    return Promise.resolve([...this.otherJobs, own].sort((a, b) => a.name.localeCompare(b.name)));
  }

  figures(): Promise<JobFigures> {
    if (this.statusError !== undefined) return Promise.reject(this.statusError);
    return Promise.resolve(this.figuresValue);
  }

  totals(): Promise<JobTotals> {
    if (this.statusError !== undefined) return Promise.reject(this.statusError);
    return Promise.resolve(this.totalsValue);
  }
}
