/**
 * Reads the numbers of an INT64/UINT64 `data` array straight from the body bytes, so integers
 * beyond 2^53 keep every digit: Triton's clients write `9007199254740993` as a JSON number,
 * which JSON.parse would round to ...992.
 *
 * Integer literals become bigint; any other number (`1.5`, `1e3`) becomes what JSON.parse
 * gives, so the decoder's own messages apply to it. Nested arrays are flattened in row-major
 * order, as the decoder walks them anyway. Range checks are the decoder's (it names the input).
 */

import { isJsonSpace, JSON_BYTE } from './json-bytes.js';

const { comma: COMMA, minus: MINUS, plus: PLUS, dot: DOT, zero: ZERO, nine: NINE } = JSON_BYTE;
const { upperE: UPPER_E, lowerE: LOWER_E, closeArray: CLOSE, openArray: OPEN } = JSON_BYTE;

/** More digits than any int64/uint64 has: kept as bigint all the same, the decoder refuses it. */
const MAX_INTEGER_DIGITS = 400;

export interface IntegerRun {
  readonly values: (bigint | number)[];
  /** Offset of the outermost `]`. */
  readonly end: number;
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= ZERO && c <= NINE;

/**
 * Reads the array whose `[` is at `start` up to its matching `]`. Undefined when it holds
 * anything but numbers and arrays, or is not valid JSON, so the caller leaves it to JSON.parse.
 */
export function readIntegerRun(bytes: Uint8Array, start: number): IntegerRun | undefined {
  const values: (bigint | number)[] = [];
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
      if (depth === 0) return { values, end: i };
      i++;
    } else if (c === COMMA) {
      if (expectValue) return undefined;
      expectValue = true;
      i++;
    } else {
      if (!expectValue || depth === 0) return undefined;
      const end = numberEnd(bytes, i);
      if (end === undefined) return undefined;
      const text = Buffer.from(bytes.buffer, bytes.byteOffset + i, end - i).toString('latin1');
      values.push(end - i <= MAX_INTEGER_DIGITS && /^-?\d+$/.test(text) ? BigInt(text) : Number(text));
      expectValue = false;
      i = end;
    }
  }
  return undefined;
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
