import type { CpuAffinity } from '../placement/cpu-plan.js';
import type { PostProcessing } from '../protocol/post-processing.js';

/** The HTTP frontend options (DESIGN.md section 5); same names as flags of `cluster-serving http`. */
export interface HttpOptions {
  readonly interface: string;
  readonly port: number;
  readonly redisHost: string;
  readonly redisPort: number;
  /** Wins over redisHost/redisPort when set (passwords, TLS). */
  readonly redisUrl: string | undefined;
  readonly redisInputQueue: string;
  readonly redisOutputQueue: string;
  readonly parallelism: number;
  /** Frontend processes sharing the port (node:cluster); JSON parsing is per-process CPU work. */
  readonly processes: number;
  readonly timeWindow: number;
  readonly countWindow: number;
  readonly tokenBucketEnabled: boolean;
  readonly tokensPerSecond: number;
  readonly tokenAcquireTimeout: number;
  /** ms before a prediction is answered 504. */
  readonly requestTimeout: number;
  /** bytes */
  readonly bodyLimit: number;
  /** Also serve HTTPS on securePort (plain HTTP stays on port), as BigDL's frontend did. */
  readonly httpsEnabled: boolean;
  readonly securePort: number;
  /** Absolute paths of the PEM certificate (chain) and private key; set when httpsEnabled. */
  readonly httpsCertPath: string | undefined;
  readonly httpsKeyPath: string | undefined;
}

export interface ImageOptions {
  /** `w,h` of BigDL's imageResize; undefined = the model's fixed H and W if it declares them, else the decoded size. */
  readonly resize: { readonly width: number; readonly height: number } | undefined;
  /**
   * stretch: resize to exactly the target size (BigDL). keepAspect: height to the target
   * height, width by the aspect ratio capped at the target width, the rest padded on the
   * right with padValue (PaddleOCR's text classifier and recogniser).
   */
  readonly resizeMode: 'stretch' | 'keepAspect';
  readonly channelOrder: 'bgr' | 'rgb';
  readonly layout: 'chw' | 'hwc';
  /** Each value is (pixel × scale − mean[c]) / std[c], c in channelOrder's order. */
  readonly scale: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /** What padded elements hold, in the final (scaled, normalised) units. */
  readonly padValue: number;
}

/** A loaded, validated, frozen config.yaml. */
export interface ServingConfig {
  /** Absolute path of the config file it came from (undefined when built in code). */
  readonly configPath: string | undefined;
  /** Absolute path of the `.onnx` file. */
  readonly modelPath: string;
  readonly jobName: string;
  readonly postProcessing: PostProcessing;
  readonly inputAlreadyBatched: boolean;
  readonly modelParallelism: number;
  readonly threadPerModel: number;
  /** Normalised to `redis://[:password@]host:port` or `rediss://...`. */
  readonly redisUrl: string;
  readonly redisMaxmemory: string;
  /** A Redis that we start keeps an append-only file in the home (`shutdown` removes it). */
  readonly redisPersistence: boolean;
  readonly redisTimeout: number;
  /** Producers confirm an entry once this many replicas hold it (Redis WAIT); 0: off. */
  readonly redisMinReplicas: number;
  readonly redisSecureEnabled: boolean;
  readonly redisSecureTrustStorePath: string | undefined;
  readonly redisSecureTrustStorePassword: string | undefined;
  readonly image: ImageOptions;
  readonly maxBatchSize: number;
  readonly maxBatchDelayMs: number;
  readonly maxQueueLength: number;
  readonly resultTtlSeconds: number;
  readonly maxDeliveries: number;
  /** Most rows in one record's own batch dimension. */
  readonly maxRecordBatch: number;
  /** Most bytes of one record's tensors. */
  readonly maxRecordBytes: number;
  /** auto: a job whose inference threads leave CPUs spare keeps its other processes on those. */
  readonly cpuAffinity: CpuAffinity;
  /** Present when config.yaml has an `http:` section. */
  readonly http: HttpOptions | undefined;
}

export interface LoadedConfig {
  readonly config: ServingConfig;
  /** One line per BigDL key that is accepted and ignored, or per overridden key. */
  readonly warnings: readonly string[];
}
