/**
 * The hash a worker writes at `<resultPrefix><uri>` and clients (InputQueue/OutputQueue, the
 * frontend, BigDL's own clients) read. BigDL writes only `value`; the other fields are ours.
 */
export const RESULT_FIELDS = {
  value: 'value',
  form: 'serde',
  error: 'error',
  code: 'code',
} as const;

/** How a result hash says what its `value` holds (field `serde`; absent in hashes written by BigDL itself). */
export type ResultForm = 'tensor' | 'text' | 'bigdl' | 'error';

/** Text BigDL's clients see as the value of a failed record. */
export const FAILED_VALUE = 'NaN';
