/**
 * Reads the numbers of an INT64/UINT64 `data` array straight from the body bytes, so integers
 * beyond 2^53 keep every digit: Triton's clients write `9007199254740993` as a JSON number,
 * which JSON.parse would round to ...992.
 *
 * Integer literals become bigint (a number when 15 digits or fewer: exact either way); any
 * other number (`1.5`, `1e3`) becomes what JSON.parse gives, so the decoder's own messages
 * apply to it. Nested arrays are flattened in row-major
 * order, as the decoder walks them anyway. Range checks are the decoder's (it names the input).
 */

import { isJsonSpace, JSON_BYTE } from './json-bytes.js';

const { comma: COMMA, minus: MINUS, plus: PLUS, dot: DOT, zero: ZERO, nine: NINE } = JSON_BYTE;
const { upperE: UPPER_E, lowerE: LOWER_E, closeArray: CLOSE, openArray: OPEN } = JSON_BYTE;

/** More digits than any int64/uint64 has: kept as bigint all the same, the decoder refuses it. */
const MAX_INTEGER_DIGITS = 400;
/** Integers of up to 15 digits are exact as doubles. */
const MAX_EXACT_DIGITS = 15;

export interface IntegerRun {
  /** A Float64Array when every value fits one exactly (the common case, and the cheapest). */
  readonly values: Float64Array | (bigint | number)[];
  /** Offset of the outermost `]`. */
  readonly end: number;
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= ZERO && c <= NINE;

/**
 * Reads the array whose `[` is at `start` up to its matching `]`. Undefined when it holds
 * anything but numbers and arrays, or is not valid JSON, so the caller leaves it to JSON.parse.
 */
export function readIntegerRun(bytes: Uint8Array, start: number): IntegerRun | undefined {
  // Short integers go to `plain`; from the first value that does not fit, all go to `mixed`.
  let plain = new Float64Array(1024);
  let count = 0;
  let mixed: (bigint | number)[] | undefined;
  const push = (value: bigint | number): void => {
    if (mixed === undefined) {
      if (typeof value === 'number' && count < plain.length) {
        plain[count++] = value;
        return;
      }
      if (typeof value === 'number') {
        const grown = new Float64Array(plain.length * 2);
        grown.set(plain);
        plain = grown;
        plain[count++] = value;
        return;
      }
      mixed = Array.from(plain.subarray(0, count));
    }
    mixed.push(value);
  };
  let depth = 0;
  let i = start;
  // After `[` or `,` a value must come; after a value, `,` or `]`.
  let expectValue = true;
  while (i < bytes.length) {
    const c = bytes[i] as number;
    if (isJsonSpace(c)) {
      i++;
    } else if (c === OPEN) {
      if (!expectValue) return undefined;
      depth++;
      i++;
    } else if (c === CLOSE) {
      // `[]` is fine, `[1,]` is not: a `]` right after `[` closes an empty array.
      if (expectValue && bytes[previousNonSpace(bytes, i)] !== OPEN) return undefined;
      expectValue = false;
      depth--;
      if (depth === 0) return { values: mixed ?? plain.slice(0, count), end: i };
      i++;
    } else if (c === COMMA) {
      if (expectValue) return undefined;
      expectValue = true;
      i++;
    } else {
      if (!expectValue || depth === 0) return undefined;
      // Integer literals are read in this one pass; a fraction or exponent is left to Number().
      const negative = c === MINUS;
      let j = negative ? i + 1 : i;
      const first = j;
      let value = 0;
      let d = bytes[j] as number;
      if (d === ZERO) d = bytes[++j] as number;
      else if (d > ZERO && d <= NINE) {
        do {
          value = value * 10 + (d - ZERO);
          d = bytes[++j] as number;
        } while (d >= ZERO && d <= NINE);
      } else return undefined;
      let end = j;
      if (d === DOT || d === LOWER_E || d === UPPER_E) {
        const numberEnds = numberEnd(bytes, i);
        if (numberEnds === undefined) return undefined;
        end = numberEnds;
        push(Number(latin1(bytes, i, end)));
      } else if (j - first <= MAX_EXACT_DIGITS) {
        push(negative ? -value : value);
      } else {
        const text = latin1(bytes, i, end);
        push(j - first <= MAX_INTEGER_DIGITS ? BigInt(text) : Number(text));
      }
      expectValue = false;
      i = end;
    }
  }
  return undefined;
}

function latin1(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
}

function previousNonSpace(bytes: Uint8Array, from: number): number {
  let i = from - 1;
  while (isJsonSpace(bytes[i])) i--;
  return i;
}

/** The end of the JSON number at `from`, checking its grammar; undefined when there is none. */
function numberEnd(bytes: Uint8Array, from: number): number | undefined {
  let i = from;
  if (bytes[i] === MINUS) i++;
  if (bytes[i] === ZERO) i++;
  else if (isDigit(bytes[i])) while (isDigit(bytes[i])) i++;
  else return undefined;
  if (bytes[i] === DOT) {
    i++;
    if (!isDigit(bytes[i])) return undefined;
    while (isDigit(bytes[i])) i++;
  }
  if (bytes[i] === LOWER_E || bytes[i] === UPPER_E) {
    i++;
    if (bytes[i] === MINUS || bytes[i] === PLUS) i++;
    if (!isDigit(bytes[i])) return undefined;
    while (isDigit(bytes[i])) i++;
  }
  return i;
}
