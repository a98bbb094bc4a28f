import { readNumberRun } from './json-number-run.js';

/**
 * Parses an OIP infer body as JSON.parse would, except that the `data` of an input with a
 * numeric datatype arrives as a typed array (Float32Array for FP32 and FP16, Float64Array for
 * the others) holding exactly the values JSON.parse would have given, when it is a flat array
 * of numbers and its datatype comes before it in the input (as KServe's clients write it).
 *
 * One pass over the bytes follows the structure (strings skipped with indexOf): each such
 * array is read by readNumberRun and replaced by `null`, and JSON.parse reads what is left, a
 * few hundred bytes. Whatever the pass cannot vouch for stays in the text for JSON.parse:
 * nested arrays, other datatypes. A key with escapes or repeated, a text JSON.parse
 * refuses, or a result that is not what the pass expected is parsed again whole, so results and
 * error messages are always JSON.parse's own.
 */
export function parseInferBody(bytes: Buffer): unknown {
  const runs = findDataRuns(bytes);
  if (runs === undefined || runs.length === 0) return JSON.parse(bytes.toString('utf8'));
  const pieces: string[] = [];
  let from = 0;
  for (const run of runs) {
    pieces.push(bytes.toString('utf8', from, run.start), 'null');
    from = run.end + 1;
  }
  pieces.push(bytes.toString('utf8', from));
  let parsed: unknown;
  try {
    parsed = JSON.parse(pieces.join(''));
  } catch {
    return JSON.parse(bytes.toString('utf8'));
  }
  const inputs = isRecord(parsed) ? parsed['inputs'] : undefined;
  if (!Array.isArray(inputs)) return JSON.parse(bytes.toString('utf8'));
  for (const run of runs) {
    const input: unknown = inputs[run.element];
    if (!isRecord(input) || input['data'] !== null || input['datatype'] !== run.datatype) {
      return JSON.parse(bytes.toString('utf8'));
    }
    input['data'] = run.values;
  }
  return parsed;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Datatypes whose flat number arrays are read into a typed array, and which one. */
const RUN_TYPES: Readonly<Record<string, 'float32' | 'float64'>> = {
  FP32: 'float32',
  FP16: 'float32',
  FP64: 'float64',
  INT8: 'float64',
  INT16: 'float64',
  INT32: 'float64',
  INT64: 'float64',
  UINT8: 'float64',
  UINT16: 'float64',
  UINT32: 'float64',
  UINT64: 'float64',
};

interface DataRun {
  /** Offsets of the array's `[` and `]`. */
  readonly start: number;
  readonly end: number;
  /** Index of the input in `inputs`. */
  readonly element: number;
  readonly datatype: string;
  readonly values: Float32Array | Float64Array;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function equalsAscii(bytes: Buffer, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let k = 0; k < word.length; k++) if (bytes[start + k] !== word.charCodeAt(k)) return false;
  return true;
}

/**
 * The flat numeric `data` arrays of the top-level `inputs`, read; undefined when the body
 * repeats a key the result depends on, or a string never ends (JSON.parse then has the say).
 * Depths: 1 inside the body's object, 2 inside `inputs`, 3 inside one input.
 */
function findDataRuns(bytes: Buffer): DataRun[] | undefined {
  const runs: DataRun[] = [];
  let depth = 0;
  let inInputs = false;
  let inputsKeys = 0;
  let element = 0;
  let topKeyIsInputs = false;
  let inputKey = '';
  let dataKeys = 0;
  let datatype: string | undefined;
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = closingQuote(bytes, i + 1);
      if (end < 0) return undefined;
      let next = end + 1;
      while (isSpace(bytes[next])) next++;
      const isKey = bytes[next] === COLON;
      if (depth === 1 && isKey) {
        if (bytes.subarray(i + 1, end).includes(BACKSLASH)) return undefined;
        topKeyIsInputs = equalsAscii(bytes, i + 1, end, 'inputs');
        if (topKeyIsInputs && ++inputsKeys > 1) return undefined;
      } else if (depth === 3 && inInputs) {
        const escaped = bytes.subarray(i + 1, end).includes(BACKSLASH);
        if (isKey) {
          if (escaped) return undefined;
          inputKey = bytes.toString('latin1', i + 1, end);
          if (inputKey === 'data' && ++dataKeys > 1) return undefined;
        } else if (inputKey === 'datatype') {
          datatype = escaped ? undefined : bytes.toString('latin1', i + 1, end);
        }
      }
      i = isKey ? next + 1 : end + 1;
      continue;
    }
    if (c === OPEN_ARRAY && depth === 3 && inInputs && inputKey === 'data') {
      const kind = datatype === undefined ? undefined : RUN_TYPES[datatype];
      const run = kind === undefined ? undefined : readNumberRun(bytes, i + 1, kind === 'float32');
      if (run !== undefined && datatype !== undefined) {
        const values = kind === 'float32' ? new Float32Array(run.values) : run.values.slice();
        runs.push({ start: i, end: run.end, element, datatype, values });
        i = run.end + 1;
        continue;
      }
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (c === OPEN_ARRAY && depth === 1 && topKeyIsInputs) {
        inInputs = true;
        element = 0;
      } else if (c === OPEN_OBJECT && depth === 2 && inInputs) {
        inputKey = '';
        dataKeys = 0;
        datatype = undefined;
      }
      depth++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
      if (depth === 1) inInputs = false;
    } else if (c === COMMA && depth === 2 && inInputs) {
      element++;
    }
    i++;
  }
  return runs;
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
