import type { ImageOptions } from './types.js';
import { choice, parseImageResize, type Parsed, type ValueParser } from './value-parsers.js';

/**
 * The image preprocessing keys. BigDL had only `imageResize` and always produced BGR, float
 * 0..255, CHW; the other keys default to exactly that, so a BigDL config behaves as before.
 * A pixel becomes `(pixel × imageScale − imageMean[c]) / imageStd[c]`.
 */

export type Triple = readonly [number, number, number];

export interface ImageDefaults {
  readonly imageResizeMode: ImageOptions['resizeMode'];
  readonly imageChannelOrder: ImageOptions['channelOrder'];
  readonly imageLayout: ImageOptions['layout'];
  readonly imageScale: number;
  readonly imageMean: Triple;
  readonly imageStd: Triple;
  readonly imagePadValue: number;
}

export const IMAGE_DEFAULTS: ImageDefaults = Object.freeze({
  imageResizeMode: 'stretch',
  imageChannelOrder: 'bgr',
  imageLayout: 'chw',
  imageScale: 1,
  imageMean: Object.freeze([0, 0, 0] as const),
  imageStd: Object.freeze([1, 1, 1] as const),
  imagePadValue: 0,
});

/** The image options of a config that sets no image key: BigDL's preprocessing. */
export const BIGDL_IMAGE_OPTIONS: ImageOptions = Object.freeze({
  resize: undefined,
  resizeMode: IMAGE_DEFAULTS.imageResizeMode,
  channelOrder: IMAGE_DEFAULTS.imageChannelOrder,
  layout: IMAGE_DEFAULTS.imageLayout,
  scale: IMAGE_DEFAULTS.imageScale,
  mean: IMAGE_DEFAULTS.imageMean,
  std: IMAGE_DEFAULTS.imageStd,
  padValue: IMAGE_DEFAULTS.imagePadValue,
});

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

/** Our image keys' parsers (imageResize, BigDL's, is in the key table with BigDL's keys). */
export const IMAGE_PARSERS = {
  imageResizeMode: choice(['stretch', 'keepAspect'] as const),
  imageChannelOrder: choice(['bgr', 'rgb'] as const),
  imageLayout: choice(['chw', 'hwc'] as const),
  imageScale: numberParser('a number above 0, or a fraction like 1/255', (n) => n > 0),
  imageMean: tripleParser('a number, or three separated by commas (e.g. 0.5,0.5,0.5)', () => true),
  imageStd: tripleParser('a number above 0, or three separated by commas (e.g. 0.5,0.5,0.5)', (n) => n > 0),
  imagePadValue: numberParser('a number', () => true),
} as const satisfies Record<string, ValueParser<unknown>>;

/** Our image keys, in the template's order (imageResize is BigDL's and sits with BigDL's keys). */
export const IMAGE_KEYS: readonly string[] = [
  'imageResizeMode',
  'imageChannelOrder',
  'imageLayout',
  'imageScale',
  'imageMean',
  'imageStd',
  'imagePadValue',
];

/** Reads one key with its parser: undefined when absent, empty or invalid (the caller records the problem). */
export type KeyReader = <T>(key: string, parser: ValueParser<T>) => T | undefined;

/**
 * The image options of a config. Takes a reader rather than the key map so that this module
 * does not import the key collection (which imports the key table, which imports this).
 */
export function resolveImage(read: KeyReader, resizeDefault: ImageOptions['resize']): ImageOptions {
  const P = IMAGE_PARSERS;
  const D = BIGDL_IMAGE_OPTIONS;
  return {
    resize: read('imageResize', parseImageResize) ?? resizeDefault,
    resizeMode: read('imageResizeMode', P.imageResizeMode) ?? D.resizeMode,
    channelOrder: read('imageChannelOrder', P.imageChannelOrder) ?? D.channelOrder,
    layout: read('imageLayout', P.imageLayout) ?? D.layout,
    scale: read('imageScale', P.imageScale) ?? D.scale,
    mean: read('imageMean', P.imageMean) ?? D.mean,
    std: read('imageStd', P.imageStd) ?? D.std,
    padValue: read('imagePadValue', P.imagePadValue) ?? D.padValue,
  };
}
