import { parseWithArrayReads, type ArrayReadPlan } from '../protocol/json-array-scan.js';
import { readIntegerRun } from '../protocol/json-integer-run.js';
import { readNumberRun } from '../protocol/json-number-run.js';

/** Datatypes whose flat number arrays are read into a typed array, and which one. */
const RUN_TYPES: ReadonlyMap<string, 'float32' | 'float64'> = new Map([
  ['FP32', 'float32'],
  ['FP16', 'float32'],
  ['FP64', 'float64'],
  ['INT8', 'float64'],
  ['INT16', 'float64'],
  ['INT32', 'float64'],
  ['UINT8', 'float64'],
  ['UINT16', 'float64'],
  ['UINT32', 'float64'],
]);

/** Datatypes whose integers may go beyond 2^53, where JSON.parse would round them. */
const EXACT_TYPES: ReadonlySet<string> = new Set(['INT64', 'UINT64']);
const INT64_MARK = Buffer.from('INT64');
/**
 * An integer literal of 16 digits or more (not the fraction or the mantissa of a float such as
 * 0.42073549240394825): integers of up to 15 digits are exact as doubles, JSON.parse keeps them.
 */
const LONG_DIGIT_RUN = /(?<![\d.])\d{16,}(?![\d.eE])/;

/**
 * An input's `data`, when it is a flat array of numbers and the input's numeric `datatype`
 * comes before it (as KServe's clients write it), is read into a typed array: Float32Array for
 * FP32 and FP16, Float64Array for the others, with the values JSON.parse would have given.
 * INT64 and UINT64 data (flat or nested) is read with every digit kept, whatever the body's
 * size: integers become bigint (see json-integer-run.ts).
 */
const INFER_PLAN: ArrayReadPlan = {
  listKey: 'inputs',
  notedKey: 'datatype',
  read(bytes, start, key, datatype) {
    if (key === 'data' && datatype !== undefined && EXACT_TYPES.has(datatype)) {
      const run = readIntegerRun(bytes, start);
      return run === undefined ? undefined : { value: run.values, end: run.end };
    }
    const kind = key === 'data' && datatype !== undefined ? RUN_TYPES.get(datatype) : undefined;
    if (kind === undefined) return undefined;
    const run = readNumberRun(bytes, start + 1, kind === 'float32');
    if (run === undefined) return undefined;
    return { value: kind === 'float32' ? new Float32Array(run.values) : run.values.slice(), end: run.end };
  },
  // "INT64" also finds "UINT64"; a body that only mentions it elsewhere costs one scan. Only
  // an integer of 16 digits or more can lose digits in JSON.parse: small bodies of short ids
  // (a recommendation model's request) skip the pass, which cost the frontend a third of its
  // throughput on them (bench:http, rec rows).
  needsReads: (bytes) => bytes.includes(INT64_MARK) && LONG_DIGIT_RUN.test(bytes.toString('latin1')),
};

/** An OIP infer body, parsed as JSON.parse would but for numeric `data` (see INFER_PLAN). */
export function parseInferBody(bytes: Buffer): unknown {
  return parseWithArrayReads(bytes, INFER_PLAN);
}
