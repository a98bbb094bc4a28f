import { IMAGE_TABLE } from './image-keys.js';
import { defaultsOf, type DefaultsOf } from './key-spec.js';
import { HTTP_TABLE, TOP_LEVEL_TABLE } from './keys.js';

/**
 * The value every config.yaml key takes when it is absent or empty, named as in the file,
 * taken from the key tables (keys.ts, image-keys.ts); config/config.yaml states the same
 * values (a test keeps them in step). modelPath has no default: it is required.
 */
export type ConfigDefaults = DefaultsOf<typeof TOP_LEVEL_TABLE> &
  DefaultsOf<typeof IMAGE_TABLE> & {
    /** What an `http:` section gives for keys it leaves out, before inheritance. */
    readonly http: DefaultsOf<typeof HTTP_TABLE>;
  };

export const DEFAULTS: ConfigDefaults = Object.freeze({
  ...defaultsOf(TOP_LEVEL_TABLE),
  ...defaultsOf(IMAGE_TABLE),
  http: Object.freeze(defaultsOf(HTTP_TABLE)),
});
