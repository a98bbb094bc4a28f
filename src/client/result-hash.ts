import { decodeBigdlResult } from '../protocol/bigdl-result.js';
import { decodeTensorFrame } from '../protocol/tensor-frame.js';
import { reasonOf } from '../errors/registry.js';
import { FAILED_VALUE, RESULT_FIELDS } from '../contracts/result-hash.js';
import { errorCodeOr, type Prediction } from './prediction.js';

/**
 * Reads a result hash (as `hgetallBuffer` returns it) into a Prediction; undefined when
 * the hash does not exist yet. Hashes without a form field are BigDL's own.
 */
export function predictionFromHash(hash: Record<string, Buffer>): Prediction | undefined {
  const value = hash[RESULT_FIELDS.value];
  if (value === undefined) return undefined;
  const form = hash[RESULT_FIELDS.form]?.toString();
  const error = hash[RESULT_FIELDS.error]?.toString();
  if (form === 'error' || error !== undefined || (form === undefined && value.toString() === FAILED_VALUE)) {
    return {
      kind: 'error',
      code: errorCodeOr(hash[RESULT_FIELDS.code]?.toString(), 'CS_ERR_INFERENCE_FAILED'),
      message: error ?? 'the worker could not process this record',
    };
  }
  try {
    if (form === 'tensor') return { kind: 'tensors', outputs: decodeTensorFrame(value) };
    if (form === 'text') return { kind: 'text', text: value.toString() };
    const tensors = decodeBigdlResult(value.toString());
    return { kind: 'tensors', outputs: tensors.map((t, i) => ({ ...t, name: `output${i}` })) };
  } catch (err) {
    // A hash BigDL wrote with postProcessing holds plain text that is not Arrow.
    if (form === undefined) return { kind: 'text', text: value.toString() };
    return {
      kind: 'error',
      code: 'CS_ERR_INPUT_DECODE',
      message: `result could not be decoded: ${reasonOf(err)}`,
    };
  }
}
