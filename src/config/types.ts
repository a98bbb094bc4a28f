import type { ImageOptions } from './image-keys.js';
import type { HttpValues, TopLevelValues } from './keys.js';

export type { ImageOptions } from './image-keys.js';

/**
 * The HTTP frontend options (DESIGN.md section 5), one per key of HTTP_TABLE (keys.ts) with
 * the type its parser and default give; same names as flags of `cluster-serving http`.
 * redisHost/redisPort always name the server used, also when redisUrl is set.
 */
export type HttpOptions = HttpValues;

/**
 * A loaded, validated, frozen config.yaml: one field per key of TOP_LEVEL_TABLE (keys.ts),
 * typed from its parser and default, and the fields that are more than one key.
 * coreNumberPerMachine is not kept: it is resolved into modelParallelism and threadPerModel.
 * redisUrl is normalised to `redis://[:password@]host:port`, `rediss://...` (TLS, also when
 * redisSecureEnabled asked for it) or `redis-sentinel://...`.
 */
export interface ServingConfig extends Omit<TopLevelValues, 'coreNumberPerMachine'> {
  /** Absolute path of the config file it came from (undefined when built in code). */
  readonly configPath: string | undefined;
  /** Absolute path of the `.onnx` file. */
  readonly modelPath: string;
  /** The image keys (image-keys.ts), without their `image` prefix. */
  readonly image: ImageOptions;
  /** Present when config.yaml has an `http:` section. */
  readonly http: HttpOptions | undefined;
}

export interface LoadedConfig {
  readonly config: ServingConfig;
  /** One line per BigDL key that is accepted and ignored, or per overridden key. */
  readonly warnings: readonly string[];
}
