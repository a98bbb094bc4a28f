/**
 * BigDL's postProcessing: the result value becomes text instead of an Arrow stream.
 *   topN(n)     `[[index,value],...]` of the n largest values of the first output (flattened),
 *               largest first, ties by lower index, NaN ranked below every number.
 *   pickTopN(n) the first n rows of the first output as nested JSON arrays. Leading dims of
 *               size 1 are dropped first (a per-record output of shape [1, rows, cols] has
 *               rows); a 1-D output gives its first n values.
 * n larger than what is there gives everything. Float32 values print as the shortest decimal
 * that reads back to the same float32 (0.1, not 0.10000000149011612), like BigDL's Java
 * output; NaN and ±Infinity print as null so the text stays valid JSON.
 */
import { CsError } from '../errors/registry.js';
import { encodeBigdlResult } from './bigdl-result.js';
import { castTensor } from './cast.js';
import type { Tensor } from './tensor.js';

/** config.yaml's postProcessing, parsed. */
export type PostProcessing =
  | { readonly kind: 'none' }
  | { readonly kind: 'topN'; readonly n: number }
  | { readonly kind: 'pickTopN'; readonly n: number };

/** Above this n, sorting everything beats keeping a sorted top list. */
const INSERTION_LIMIT = 64;
const MAX_N = 1_000_000;

/** The result text of `outputs` under `pp`; with no postProcessing, BigDL's Arrow result value. */
export function postProcess(outputs: readonly Tensor[], pp: PostProcessing): string {
  if (pp.kind === 'none') return encodeBigdlResult(outputs);
  const label = `${pp.kind}(${pp.n})`;
  const output = outputs[0];
  if (output === undefined)
    throw new CsError('CS_ERR_INFERENCE_FAILED', `postProcessing ${label}: the model gave no output`);
  const values = numbersOf(output, label);
  const format = output.type === 'FP32' || output.type === 'FP16' ? formatFloat32 : formatNumber;
  return pp.kind === 'topN'
    ? topN(values, pp.n, format)
    : pickTopN(values, output.shape, pp.n, format, label);
}

function numbersOf(output: Tensor, label: string): ArrayLike<number> {
  const { type, data } = output;
  if (type === 'BYTES' || Array.isArray(data)) {
    throw new CsError(
      'CS_ERR_CONFIG_INVALID',
      `postProcessing ${label} needs a numeric output; output 0 holds strings`,
    );
  }
  if (type === 'FP16' || type === 'INT64' || type === 'UINT64')
    return castTensor(output, 'FP64').data as Float64Array;
  return data as Float64Array;
}

function formatNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : 'null';
}

function formatFloat32(v: number): string {
  if (!Number.isFinite(v)) return 'null';
  for (let precision = 1; precision < 9; precision++) {
    const shorter = Number(v.toPrecision(precision));
    if (Math.fround(shorter) === v) return String(shorter);
  }
  return String(v);
}

/** Strict order: larger value first, then lower index; NaN after every number. */
function ranksBefore(values: ArrayLike<number>, i: number, j: number): boolean {
  const a = values[i]!;
  const b = values[j]!;
  if (a > b) return true;
  if (a < b) return false;
  if (a === b) return i < j;
  if (Number.isNaN(a)) return Number.isNaN(b) && i < j;
  return true;
}

function topN(values: ArrayLike<number>, n: number, format: (v: number) => string): string {
  let top: number[];
  if (n > INSERTION_LIMIT) {
    top = Array.from({ length: values.length }, (_, i) => i);
    top.sort((i, j) => (ranksBefore(values, i, j) ? -1 : ranksBefore(values, j, i) ? 1 : 0));
    top.length = Math.min(n, values.length);
  } else {
    top = [];
    for (let i = 0; i < values.length; i++) {
      if (top.length === n && !ranksBefore(values, i, top[n - 1]!)) continue;
      let at = top.length === n ? n - 1 : top.length;
      while (at > 0 && ranksBefore(values, i, top[at - 1]!)) {
        top[at] = top[at - 1]!;
        at--;
      }
      top[at] = i;
    }
  }
  return `[${top.map((i) => `[${i},${format(values[i]!)}]`).join(',')}]`;
}

function pickTopN(
  values: ArrayLike<number>,
  shape: readonly number[],
  n: number,
  format: (v: number) => string,
  label: string,
): string {
  let dims = [...shape];
  while (dims.length > 2 && dims[0] === 1) dims = dims.slice(1);
  if (dims.length === 0 || dims.length > 2) {
    throw new CsError(
      'CS_ERR_CONFIG_INVALID',
      `postProcessing ${label} needs a 1-D or 2-D output; output 0 has shape [${shape.join(',')}]`,
    );
  }
  const rows = Math.min(n, dims[0]!);
  const width = dims.length === 2 ? dims[1]! : 1;
  const parts: string[] = [];
  for (let r = 0; r < rows; r++) {
    if (dims.length === 1) {
      parts.push(format(values[r]!));
      continue;
    }
    const row: string[] = [];
    for (let c = 0; c < width; c++) row.push(format(values[r * width + c]!));
    parts.push(`[${row.join(',')}]`);
  }
  return `[${parts.join(',')}]`;
}

/** `topN(5)`, `pickTopN(2)`; empty (or `none`) → none. Names are case-insensitive, spaces ignored. */
export function parsePostProcessing(text: string): PostProcessing {
  const compact = text.replace(/\s+/g, '');
  if (compact === '' || compact.toLowerCase() === 'none') return { kind: 'none' };
  const match = /^(topn|picktopn)\((\d+)\)$/i.exec(compact);
  const n = match === null ? NaN : Number(match[2]);
  if (match === null || !Number.isSafeInteger(n) || n < 1 || n > MAX_N) {
    throw new CsError(
      'CS_ERR_CONFIG_INVALID',
      `postProcessing: expected topN(n) or pickTopN(n) with n an integer from 1 to ${MAX_N}, or empty for none; got "${text}"`,
    );
  }
  return { kind: match[1]!.toLowerCase() === 'topn' ? 'topN' : 'pickTopN', n };
}
