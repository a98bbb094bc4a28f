import type { PostProcessing } from '../protocol/post-processing.js';

/**
 * Parsers for config values. Each one accepts what YAML produces and also the same value
 * written as a string, because the `cluster-serving http` flags arrive as strings and
 * BigDL users quote numbers freely. A failure carries the expected form, so the loader can
 * write "key: expected ..., got ..." without knowing the parser.
 */
export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly expected: string };

export type ValueParser<T> = (value: unknown) => Parsed<T>;

function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

function fail<T>(expected: string): Parsed<T> {
  return { ok: false, expected };
}

/** The value as a trimmed string when it is a scalar, else undefined. */
function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return String(value);
  return undefined;
}

export function integerIn(min: number, max: number): ValueParser<number> {
  const expected = `an integer from ${min} to ${max}`;
  return (value) => {
    // YAML reads `32.0` as the number 32, whose text is "32"; `32.5` stays non-integer text.
    const text = scalarText(value);
    if (text === undefined || !/^[+-]?\d+$/.test(text)) return fail(expected);
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min || n > max) return fail(expected);
    return ok(n);
  };
}

/** SnakeYAML (BigDL) read YAML 1.1, where yes/no/on/off are booleans; js-yaml's core schema does not. */
const BOOLEAN_WORDS: ReadonlyMap<string, boolean> = new Map([
  ['true', true],
  ['false', false],
  ['yes', true],
  ['no', false],
  ['on', true],
  ['off', false],
]);

export const parseBoolean: ValueParser<boolean> = (value) => {
  if (typeof value === 'boolean') return ok(value);
  const word = typeof value === 'string' ? BOOLEAN_WORDS.get(value.trim().toLowerCase()) : undefined;
  return word === undefined ? fail('true or false') : ok(word);
};

/** One of `values`, matched case-insensitively, returned as spelled there. */
export function choice<T extends string>(values: readonly T[]): ValueParser<T> {
  const expected = `one of ${values.join(', ')}`;
  return (value) => {
    if (typeof value !== 'string') return fail(expected);
    const found = values.find((v) => v.toLowerCase() === value.trim().toLowerCase());
    return found === undefined ? fail(expected) : ok(found);
  };
}

export function textMatching(pattern: RegExp, expected: string): ValueParser<string> {
  return (value) => {
    const text = scalarText(value);
    return text !== undefined && pattern.test(text) ? ok(text) : fail(expected);
  };
}

/** Any non-empty scalar, as text (paths, passwords). */
export const parseText: ValueParser<string> = (value) => {
  const text = scalarText(value);
  return text === undefined || text === '' ? fail('a text value') : ok(text);
};

/** Redis memory units (redis.conf): k = 1000, kb = 1024, m = 10^6, mb = 2^20, g = 10^9, gb = 2^30. */
const SIZE_UNITS: ReadonlyMap<string, number> = new Map([
  ['', 1],
  ['b', 1],
  ['k', 1e3],
  ['kb', 1024],
  ['m', 1e6],
  ['mb', 1024 ** 2],
  ['g', 1e9],
  ['gb', 1024 ** 3],
]);

export interface Size {
  /** Lower-case, no spaces: the form Redis accepts, e.g. `8g`, `512mb`, `1073741824`. */
  readonly text: string;
  readonly bytes: number;
}

export function sizeIn(minBytes: number, maxBytes: number): ValueParser<Size> {
  const expected = `a size like 8g, 512mb or 1073741824 (bytes), from ${minBytes} to ${maxBytes} bytes`;
  return (value) => {
    const text = scalarText(value)?.toLowerCase();
    const match = text === undefined ? null : /^(\d+)\s*([kmg]?b?)$/.exec(text);
    if (match === null) return fail(expected);
    const digits = match[1] ?? '';
    const unit = match[2] ?? '';
    const multiplier = SIZE_UNITS.get(unit);
    if (multiplier === undefined) return fail(expected);
    const bytes = Number(digits) * multiplier;
    if (!Number.isSafeInteger(bytes) || bytes < minBytes || bytes > maxBytes) return fail(expected);
    return ok({ text: `${digits}${unit}`, bytes });
  };
}

/** Bytes written as sizeIn reads them, in the largest binary unit that divides them (`64mb`). */
export function formatSize(bytes: number): string {
  for (const unit of ['gb', 'mb', 'kb']) {
    const multiplier = SIZE_UNITS.get(unit) ?? 1;
    if (bytes >= multiplier && bytes % multiplier === 0) return `${bytes / multiplier}${unit}`;
  }
  return String(bytes);
}

/** The parsed value passed through `map`; a failure stays as it is. */
export function mapParsed<T, U>(parser: ValueParser<T>, map: (value: T) => U): ValueParser<U> {
  return (value) => {
    const parsed = parser(value);
    return parsed.ok ? ok(map(parsed.value)) : parsed;
  };
}

/** A size read as its number of bytes (limits the code compares against). */
export function bytesIn(minBytes: number, maxBytes: number): ValueParser<number> {
  return mapParsed(sizeIn(minBytes, maxBytes), (size) => size.bytes);
}

/** A size kept as Redis writes it (`8g`), for settings handed to redis-server as they are. */
export function sizeTextIn(minBytes: number, maxBytes: number): ValueParser<string> {
  return mapParsed(sizeIn(minBytes, maxBytes), (size) => size.text);
}

const POST_PROCESSING_MAX_N = 1_000_000;
const POST_PROCESSING_EXPECTED = `topN(n) or pickTopN(n) with n from 1 to ${POST_PROCESSING_MAX_N}, or none`;

/**
 * BigDL's `postProcessing`: `topN(n)` or `pickTopN(n)`, names case-insensitive, spaces
 * ignored; `none` as well as empty means none. It accepts what `parsePostProcessing` in
 * src/protocol/post-processing.ts accepts; it is repeated here so that reading a config
 * does not load the Arrow codecs that module needs.
 */
export const parsePostProcessingValue: ValueParser<PostProcessing> = (value) => {
  const text = scalarText(value)?.replace(/\s+/g, '');
  if (text !== undefined && text.toLowerCase() === 'none') return ok({ kind: 'none' });
  const match = text === undefined ? null : /^(topN|pickTopN)\((\d+)\)$/i.exec(text);
  if (match === null) return fail(POST_PROCESSING_EXPECTED);
  const n = Number(match[2]);
  if (!Number.isSafeInteger(n) || n < 1 || n > POST_PROCESSING_MAX_N) return fail(POST_PROCESSING_EXPECTED);
  const kind = (match[1] ?? '').toLowerCase() === 'topn' ? 'topN' : 'pickTopN';
  return ok({ kind, n });
};

const RESIZE_EXPECTED = 'width,height in pixels, e.g. 224,224 (each from 1 to 16384)';

export interface ResizeTarget {
  readonly width: number;
  readonly height: number;
}

/** BigDL's `imageResize`: `w,h`. */
export const parseImageResize: ValueParser<ResizeTarget> = (value) => {
  const text = scalarText(value);
  const match = text === undefined ? null : /^(\d+)\s*,\s*(\d+)$/.exec(text);
  if (match === null) return fail(RESIZE_EXPECTED);
  const width = Number(match[1]);
  const height = Number(match[2]);
  const inRange = (n: number): boolean => n >= 1 && n <= 16_384;
  return inRange(width) && inRange(height) ? ok({ width, height }) : fail(RESIZE_EXPECTED);
};

/** The received value as a problem line shows it; secrets are never echoed. */
export function describeValue(value: unknown, options: { secret?: boolean } = {}): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (options.secret === true) return '(hidden)';
  if (typeof value === 'string') {
    const shown = redactUserInfo(value);
    return JSON.stringify(shown.length > 80 ? `${shown.slice(0, 77)}...` : shown);
  }
  return String(value);
}

/** Hides what sits between `//` (or the start) and the last `@`: URL passwords. */
export function redactUserInfo(text: string): string {
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const schemeEnd = text.indexOf('//');
  const start = schemeEnd >= 0 && schemeEnd < at ? schemeEnd + 2 : 0;
  return `${text.slice(0, start)}***${text.slice(at)}`;
}
