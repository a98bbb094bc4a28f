import { parseWithArrayReads, type ArrayReadPlan } from '../protocol/json-array-scan.js';
import { readNumberRun } from '../protocol/json-number-run.js';

/** Datatypes whose flat number arrays are read into a typed array, and which one. */
const RUN_TYPES: ReadonlyMap<string, 'float32' | 'float64'> = new Map([
  ['FP32', 'float32'],
  ['FP16', 'float32'],
  ['FP64', 'float64'],
  ['INT8', 'float64'],
  ['INT16', 'float64'],
  ['INT32', 'float64'],
  ['INT64', 'float64'],
  ['UINT8', 'float64'],
  ['UINT16', 'float64'],
  ['UINT32', 'float64'],
  ['UINT64', 'float64'],
]);

/**
 * An input's `data`, when it is a flat array of numbers and the input's numeric `datatype`
 * comes before it (as KServe's clients write it), is read into a typed array: Float32Array for
 * FP32 and FP16, Float64Array for the others, with the values JSON.parse would have given.
 */
const INFER_PLAN: ArrayReadPlan = {
  listKey: 'inputs',
  notedKey: 'datatype',
  read(bytes, start, key, datatype) {
    const kind = key === 'data' && datatype !== undefined ? RUN_TYPES.get(datatype) : undefined;
    if (kind === undefined) return undefined;
    const run = readNumberRun(bytes, start + 1, kind === 'float32');
    if (run === undefined) return undefined;
    return { value: kind === 'float32' ? new Float32Array(run.values) : run.values.slice(), end: run.end };
  },
};

/** An OIP infer body, parsed as JSON.parse would but for numeric `data` (see INFER_PLAN). */
export function parseInferBody(bytes: Buffer): unknown {
  return parseWithArrayReads(bytes, INFER_PLAN);
}
