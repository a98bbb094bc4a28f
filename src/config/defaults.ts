import { IMAGE_DEFAULTS, type ImageDefaults } from './image-keys.js';
import { defaultsOf, HTTP_TABLE, TOP_LEVEL_TABLE, type DefaultsOf } from './keys.js';
import type { HttpOptions } from './types.js';

/**
 * The value every config.yaml key takes when it is absent or empty, named as in the file,
 * taken from the key tables (keys.ts, image-keys.ts); config/config.yaml states the same
 * values (a test keeps them in step). modelPath has no default: it is required.
 */
export type ConfigDefaults = DefaultsOf<typeof TOP_LEVEL_TABLE> &
  ImageDefaults & {
    /** What an `http:` section gives for keys it leaves out, before inheritance. */
    readonly http: HttpOptions;
  };

export const DEFAULTS: ConfigDefaults = Object.freeze({
  ...defaultsOf(TOP_LEVEL_TABLE),
  ...IMAGE_DEFAULTS,
  http: Object.freeze(defaultsOf(HTTP_TABLE)),
});
