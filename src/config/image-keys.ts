import { key, type ValueOf } from './key-spec.js';
import { choice, parseImageResize, type Parsed, type ValueParser } from './value-parsers.js';

/**
 * The image preprocessing keys. BigDL had only `imageResize` and always produced BGR, float
 * 0..255, CHW; the other keys default to exactly that, so a BigDL config behaves as before.
 * A pixel becomes `(pixel × imageScale − imageMean[c]) / imageStd[c]`.
 */

export type Triple = readonly [number, number, number];

function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

function fail<T>(expected: string): Parsed<T> {
  return { ok: false, expected };
}

/** A finite number, or a fraction `a/b` (so `1/255` can be written as such). */
function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  const fraction = /^([^/]+)\/([^/]+)$/.exec(text);
  if (fraction !== null) {
    const a = numberOf(fraction[1]);
    const b = numberOf(fraction[2]);
    return a === undefined || b === undefined || b === 0 ? undefined : a / b;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return undefined;
  return Number(text);
}

function numberParser(expected: string, accept: (n: number) => boolean): ValueParser<number> {
  return (value) => {
    const n = numberOf(value);
    return n !== undefined && accept(n) ? ok(n) : fail(expected);
  };
}

/** One number for every channel, or three (`a,b,c` or a YAML list), in the order of imageChannelOrder. */
function tripleParser(expected: string, accept: (n: number) => boolean): ValueParser<Triple> {
  return (value) => {
    let parts: unknown[];
    if (Array.isArray(value)) parts = value;
    else if (typeof value === 'string') parts = value.split(',');
    else parts = [value];
    const numbers = parts.map(numberOf);
    if (numbers.some((n) => n === undefined || !accept(n))) return fail(expected);
    const [a, b, c] = numbers as number[];
    if (numbers.length === 1 && a !== undefined) return ok([a, a, a]);
    if (numbers.length === 3 && a !== undefined && b !== undefined && c !== undefined) return ok([a, b, c]);
    return fail(expected);
  };
}

/**
 * The image keys, in the template's order after imageResize (BigDL's, which sits with
 * BigDL's keys there). Each option of ImageOptions is its key without `image`.
 */
export const IMAGE_TABLE = {
  imageResize: key(parseImageResize, undefined, "`w,h` in pixels (empty: the model's own size)"),
  imageResizeMode: key(
    choice(['stretch', 'keepAspect'] as const),
    'stretch',
    '`stretch`, or `keepAspect` (then padded)',
  ),
  imageChannelOrder: key(choice(['bgr', 'rgb'] as const), 'bgr', '`bgr` (BigDL, OpenCV) or `rgb`'),
  imageLayout: key(choice(['chw', 'hwc'] as const), 'chw', '`chw` (channels first) or `hwc`'),
  imageScale: key(
    numberParser('a number above 0, or a fraction like 1/255', (n) => n > 0),
    1,
    'multiplies each pixel first (`1/255`: 0..1)',
  ),
  imageMean: key(
    tripleParser('a number, or three separated by commas (e.g. 0.5,0.5,0.5)', () => true),
    Object.freeze([0, 0, 0] as const),
    'subtracted per channel after scaling',
  ),
  imageStd: key(
    tripleParser('a number above 0, or three separated by commas (e.g. 0.5,0.5,0.5)', (n) => n > 0),
    Object.freeze([1, 1, 1] as const),
    'divides per channel after the mean',
  ),
  imagePadValue: key(
    numberParser('a number', () => true),
    0,
    'value of padded elements, in final units',
  ),
} as const;

export const IMAGE_KEYS: readonly string[] = Object.keys(IMAGE_TABLE);

type OptionName<K> = K extends `image${infer Rest}` ? Uncapitalize<Rest> : never;

/** How images become tensors: each key of IMAGE_TABLE without its `image` prefix. */
export type ImageOptions = {
  readonly [K in keyof typeof IMAGE_TABLE as OptionName<K>]: ValueOf<(typeof IMAGE_TABLE)[K]>;
};

/** The image options of a config that sets no image key: BigDL's preprocessing. */
export const BIGDL_IMAGE_OPTIONS: ImageOptions = Object.freeze(resolveImage(() => undefined));

/** Reads one key with its parser: undefined when absent, empty or invalid (the caller records the problem). */
export type KeyReader = <T>(key: string, parser: ValueParser<T>) => T | undefined;

/**
 * The image options of a config. Takes a reader rather than the key map so that this module
 * does not import the key collection (which imports the key table, which imports this).
 */
export function resolveImage(read: KeyReader): ImageOptions {
  const T = IMAGE_TABLE;
  const value = <K extends keyof typeof T>(name: K): ValueOf<(typeof T)[K]> =>
    (read(name, T[name].parse as ValueParser<ValueOf<(typeof T)[K]>>) ?? T[name].default) as ValueOf<
      (typeof T)[K]
    >;
  return {
    resize: value('imageResize'),
    resizeMode: value('imageResizeMode'),
    channelOrder: value('imageChannelOrder'),
    layout: value('imageLayout'),
    scale: value('imageScale'),
    mean: value('imageMean'),
    std: value('imageStd'),
    padValue: value('imagePadValue'),
  };
}
