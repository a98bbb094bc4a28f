/**
 * JSON.parse for prediction bodies, with their big number arrays read straight from the bytes.
 *
 * Both JSON request forms are a top-level list of objects (OIP's `inputs`, BigDL's `instances`)
 * whose values are mostly numbers in arrays: a 32×32 RGB tensor is 60 KB of text. JSON.parse
 * makes a heap number and an array slot of each, and spends twice as long as reading them into
 * a typed array directly (json-number-run.ts).
 *
 * One pass over the bytes follows the structure (strings skipped with indexOf). In each object
 * of the list, an array value the plan's `read` accepts is read there and replaced by `null`,
 * and JSON.parse reads what is left, a few hundred bytes; the reads are then put back in place.
 * Whatever `read` declines stays in the text for JSON.parse. A key with escapes or repeated, a
 * text JSON.parse refuses, or a result that is not what the pass expected is parsed again whole,
 * so results and error messages are always JSON.parse's own.
 */

import { isJsonSpace, JSON_BYTE } from './json-bytes.js';

export interface ArrayReadPlan {
  /** The top-level key of the list of objects. */
  readonly listKey: string;
  /**
   * A key whose string value, seen earlier in the same object, `read` depends on (OIP's
   * `datatype`); the parsed object must still hold that value, or the body is parsed whole.
   */
  readonly notedKey?: string;
  /**
   * Reads the array value of `key` whose `[` is at `start`: what to put in its place and the
   * offset of its `]`, or undefined to leave it to JSON.parse.
   */
  read(bytes: Buffer, start: number, key: string, noted: string | undefined): ArrayRead | undefined;
  /**
   * True when a body below READ_IN_PLACE_MIN_BYTES must be read in place all the same, because
   * JSON.parse would lose what `read` keeps (the digits of integers beyond 2^53).
   */
  needsReads?(bytes: Buffer): boolean;
}

export interface ArrayRead {
  readonly value: object;
  readonly end: number;
}

/**
 * Below this size JSON.parse alone is quicker: the pass costs a few microseconds whatever the
 * body, and saves about 0.05 µs per number (break-even near 2 KB).
 */
export const READ_IN_PLACE_MIN_BYTES = 4096;

export function parseWithArrayReads(bytes: Buffer, plan: ArrayReadPlan): unknown {
  if (bytes.length < READ_IN_PLACE_MIN_BYTES && plan.needsReads?.(bytes) !== true) {
    return JSON.parse(bytes.toString('utf8'));
  }
  const reads = findArrayReads(bytes, plan);
  if (reads === undefined || reads.length === 0) return JSON.parse(bytes.toString('utf8'));
  const pieces: string[] = [];
  let from = 0;
  for (const read of reads) {
    pieces.push(bytes.toString('utf8', from, read.start), 'null');
    from = read.end + 1;
  }
  pieces.push(bytes.toString('utf8', from));
  let parsed: unknown;
  try {
    parsed = JSON.parse(pieces.join(''));
  } catch {
    return JSON.parse(bytes.toString('utf8'));
  }
  const list = isRecord(parsed) ? parsed[plan.listKey] : undefined;
  if (!Array.isArray(list)) return JSON.parse(bytes.toString('utf8'));
  for (const read of reads) {
    const item: unknown = list[read.element];
    const notedKeyHolds =
      plan.notedKey === undefined || (isRecord(item) && item[plan.notedKey] === read.noted);
    if (!isRecord(item) || item[read.key] !== null || !notedKeyHolds)
      return JSON.parse(bytes.toString('utf8'));
    item[read.key] = read.value;
  }
  return parsed;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface PlacedRead extends ArrayRead {
  /** Offset of the array's `[`. */
  readonly start: number;
  /** Index of the object in the list, and the key of the array in it. */
  readonly element: number;
  readonly key: string;
  readonly noted: string | undefined;
}

const { quote: QUOTE, backslash: BACKSLASH, colon: COLON, comma: COMMA } = JSON_BYTE;
const {
  openArray: OPEN_ARRAY,
  closeArray: CLOSE_ARRAY,
  openObject: OPEN_OBJECT,
  closeObject: CLOSE_OBJECT,
} = JSON_BYTE;
const isSpace = isJsonSpace;

/**
 * The reads of the list's objects; undefined when the body repeats a key the result depends
 * on, a key has escapes, or a string never ends (JSON.parse then has the say). Depths: 1 inside
 * the body's object, 2 inside the list, 3 inside one of its objects.
 */
function findArrayReads(bytes: Buffer, plan: ArrayReadPlan): PlacedRead[] | undefined {
  const reads: PlacedRead[] = [];
  let depth = 0;
  let inList = false;
  let listKeys = 0;
  let element = 0;
  let topKeyIsList = false;
  let key = '';
  const keys = new Set<string>();
  let noted: string | undefined;
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = closingQuote(bytes, i + 1);
      if (end < 0) return undefined;
      let next = end + 1;
      while (isSpace(bytes[next])) next++;
      const isKey = bytes[next] === COLON;
      if (isKey && (depth === 1 || (depth === 3 && inList))) {
        if (bytes.subarray(i + 1, end).includes(BACKSLASH)) return undefined;
        const text = bytes.toString('latin1', i + 1, end);
        if (depth === 1) {
          topKeyIsList = text === plan.listKey;
          if (topKeyIsList && ++listKeys > 1) return undefined;
        } else {
          if (keys.has(text)) return undefined;
          keys.add(text);
          key = text;
        }
      } else if (!isKey && depth === 3 && inList && key === plan.notedKey) {
        noted = bytes.subarray(i + 1, end).includes(BACKSLASH)
          ? undefined
          : bytes.toString('latin1', i + 1, end);
      }
      i = isKey ? next + 1 : end + 1;
      continue;
    }
    if (c === OPEN_ARRAY && depth === 3 && inList) {
      const read = plan.read(bytes, i, key, noted);
      if (read !== undefined) {
        reads.push({ ...read, start: i, element, key, noted });
        i = read.end + 1;
        continue;
      }
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (c === OPEN_ARRAY && depth === 1 && topKeyIsList) {
        inList = true;
        element = 0;
      } else if (c === OPEN_OBJECT && depth === 2 && inList) {
        key = '';
        keys.clear();
        noted = undefined;
      }
      depth++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
      if (depth === 1) inList = false;
    } else if (c === COMMA && depth === 2 && inList) {
      element++;
    }
    i++;
  }
  return reads;
}

/** The offset of the quote that ends the string whose text starts at `from`, or -1. */
function closingQuote(bytes: Buffer, from: number): number {
  let at = bytes.indexOf(QUOTE, from);
  while (at !== -1) {
    let backslashes = 0;
    while (bytes[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = bytes.indexOf(QUOTE, at + 1);
  }
  return -1;
}
