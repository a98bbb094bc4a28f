/**
 * Reads a flat run of JSON numbers (`1, -2.5e3, 0.25`: the inside of an array) straight from
 * the request bytes into a typed array, giving exactly the values JSON.parse followed by a
 * store into that typed array would give, without a JS number or array per element.
 *
 * Why: an OIP tensor of 3072 floats is a 60 KB body, and JSON.parse spends about twice as long
 * on it as this does, then leaves 3072 heap numbers for the collector.
 *
 * How each number is made exact:
 * - Its significant digits are gathered into a double `m` and scaled by an exact power of ten.
 *   With at most 15 digits and a power up to 10^22 both operands are exact, so the one rounding
 *   of the scaling is the correctly rounded double, the value JSON.parse gives (Clinger's fast
 *   path).
 * - For float32, up to 25 digits: `m` is then off by at most 2^-49 of its value, so the double
 *   lies within 2^-48 of the exact decimal. When both ends of that band round to the same float32,
 *   so do the exact decimal and JSON.parse's double; that holds for all but about one number in
 *   ten million, and those few are read by Number().
 * - Anything else (longer mantissas, larger exponents) is read by Number().
 */

import { isJsonSpace, JSON_BYTE } from './json-bytes.js';

/** 10^0 … 10^22, each exact in a double. */
const EXACT_POWERS: readonly number[] = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
const MAX_EXACT_POWER = 22;
const MAX_EXACT_DIGITS = 15;
const MAX_FLOAT32_DIGITS = 25;
const BAND_LOW = 1 - 2 ** -48;
const BAND_HIGH = 1 + 2 ** -48;

const { comma: COMMA, minus: MINUS, plus: PLUS, dot: DOT, zero: ZERO, nine: NINE } = JSON_BYTE;
const { upperE: UPPER_E, lowerE: LOWER_E, closeArray: CLOSE, openArray: OPEN } = JSON_BYTE;
const isSpace = isJsonSpace;

/** A run read: the numbers, and the offset of its closing `]`. */
export interface NumberRun {
  /** Valid until the next read: copy what you keep. */
  readonly values: Float64Array;
  readonly end: number;
}

let scratch = new Float64Array(4096);

function text(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
}

/**
 * Reads the run starting at `start` (just after `[`) up to its closing `]`, checking JSON's
 * number grammar as it goes. `float32`: the values are for a Float32Array, so the float32
 * shortcut above may be taken (each value is then already a float32). Undefined when the run
 * holds anything but numbers (nested arrays, strings, literals) or is not valid JSON, so the
 * caller can leave it to JSON.parse.
 */
export function readNumberRun(bytes: Uint8Array, start: number, float32: boolean): NumberRun | undefined {
  const maxDigits = float32 ? MAX_FLOAT32_DIGITS : MAX_EXACT_DIGITS;
  let i = start;
  let count = 0;
  // A read past the end gives undefined, which every comparison below takes for a non-digit.
  let c = bytes[i] as number;
  while (isSpace(c)) c = bytes[++i] as number;
  if (c === CLOSE) return { values: scratch.subarray(0, 0), end: i };
  for (;;) {
    const negative = c === MINUS;
    if (negative) c = bytes[++i] as number;
    const from = i;
    let m = 0;
    let digits = 0;
    let exponent = 0;
    if (c === ZERO) c = bytes[++i] as number;
    else if (c > ZERO && c <= NINE) {
      do {
        m = m * 10 + (c - ZERO);
        c = bytes[++i] as number;
      } while (c >= ZERO && c <= NINE);
      digits = i - from;
    } else return undefined;
    if (c === DOT) {
      c = bytes[++i] as number;
      const fraction = i;
      if (m === 0) while (c === ZERO) c = bytes[++i] as number; // leading zeros: not significant
      const significant = i;
      while (c >= ZERO && c <= NINE) {
        m = m * 10 + (c - ZERO);
        c = bytes[++i] as number;
      }
      if (i === fraction) return undefined;
      digits += i - significant;
      exponent = fraction - i;
    }
    if (c === LOWER_E || c === UPPER_E) {
      c = bytes[++i] as number;
      const negativeExponent = c === MINUS;
      if (c === MINUS || c === PLUS) c = bytes[++i] as number;
      if (!(c >= ZERO && c <= NINE)) return undefined;
      let e = 0;
      do {
        if (e < 100_000) e = e * 10 + (c - ZERO);
        c = bytes[++i] as number;
      } while (c >= ZERO && c <= NINE);
      exponent += negativeExponent ? -e : e;
    }
    let value: number;
    if (digits <= maxDigits && exponent >= -MAX_EXACT_POWER && exponent <= MAX_EXACT_POWER) {
      value = exponent < 0 ? m / (EXACT_POWERS[-exponent] as number) : m * (EXACT_POWERS[exponent] as number);
      if (float32 && digits > MAX_EXACT_DIGITS) {
        const low = Math.fround(value * BAND_LOW);
        value = low === Math.fround(value * BAND_HIGH) ? low : Math.fround(Number(text(bytes, from, i)));
      } else if (float32) {
        value = Math.fround(value);
      }
    } else {
      value = Number(text(bytes, from, i));
      if (float32) value = Math.fround(value);
    }
    if (count === scratch.length) {
      const grown = new Float64Array(scratch.length * 2);
      grown.set(scratch);
      scratch = grown;
    }
    scratch[count++] = negative ? -value : value;
    while (isSpace(c)) c = bytes[++i] as number;
    if (c === CLOSE) return { values: scratch.subarray(0, count), end: i };
    if (c !== COMMA) return undefined;
    c = bytes[++i] as number;
    while (isSpace(c)) c = bytes[++i] as number;
  }
}

/** Nested arrays of numbers, read: their shape, their values in row-major order as float32. */
export interface NestedRun {
  readonly shape: number[];
  readonly data: Float32Array;
  /** Offset of the outermost `]`. */
  readonly end: number;
}

const MAX_NESTING = 32;
let nestedScratch = new Float32Array(4096);

/**
 * Reads nested arrays of numbers whose outermost `[` is at `start`, as float32 values, when
 * they are rectangular (every array at a depth has the same length, none empty) and at most 32
 * deep; undefined otherwise, so the caller can leave them to JSON.parse.
 */
export function readNestedRun(bytes: Uint8Array, start: number): NestedRun | undefined {
  let rank = 0;
  let i = start;
  while (bytes[i] === OPEN) {
    if (++rank > MAX_NESTING) return undefined;
    i++;
    while (isSpace(bytes[i])) i++;
  }
  const shape = new Array<number>(rank).fill(-1);
  const counts = new Array<number>(rank).fill(0);
  let filled = 0;
  let level = 0;
  i = start + 1;
  for (;;) {
    while (isSpace(bytes[i])) i++;
    if (level < rank - 1) {
      if (bytes[i] !== OPEN) return undefined;
      level++;
      i++;
      continue;
    }
    const run = readNumberRun(bytes, i, true);
    if (run === undefined || run.values.length === 0) return undefined;
    if (shape[level] === -1) shape[level] = run.values.length;
    else if (shape[level] !== run.values.length) return undefined;
    if (filled + run.values.length > nestedScratch.length) {
      const grown = new Float32Array(Math.max(nestedScratch.length * 2, filled + run.values.length));
      grown.set(nestedScratch.subarray(0, filled));
      nestedScratch = grown;
    }
    nestedScratch.set(run.values, filled);
    filled += run.values.length;
    i = run.end + 1;
    // Close arrays upwards until one goes on with a comma.
    for (;;) {
      if (level === 0) return { shape, data: nestedScratch.slice(0, filled), end: i - 1 };
      level--;
      counts[level] = (counts[level] as number) + 1;
      while (isSpace(bytes[i])) i++;
      if (bytes[i] === COMMA) {
        i++;
        while (isSpace(bytes[i])) i++;
        if (bytes[i] !== OPEN) return undefined;
        level++;
        i++;
        break;
      }
      if (bytes[i] !== CLOSE) return undefined;
      if (shape[level] === -1) shape[level] = counts[level] as number;
      else if (shape[level] !== counts[level]) return undefined;
      counts[level] = 0;
      i++;
    }
  }
}
