/**
 * How a request's tensors meet the model's declared inputs, for the frontend (which refuses a
 * bad request with a 400 before it reaches Redis) and the worker (which answers a bad record
 * with an error): one rule on both sides, each wording its own message.
 */
import type { TensorSpec } from './model-metadata.js';

/** The first dim where `shape` breaks `spec` (-1 matches anything); undefined when it fits. */
export function shapeProblem(spec: readonly number[], shape: readonly number[]): string | undefined {
  if (spec.length !== shape.length) return `rank ${shape.length}, the model's is ${spec.length}`;
  for (let i = 0; i < spec.length; i++) {
    const want = spec[i] as number;
    if (want >= 0 && shape[i] !== want) return `dim ${i} is ${shape[i]}, the model needs ${want}`;
  }
  return undefined;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export type InputMatch<T> =
  /** One tensor per model input, in the model's order. */
  | { readonly ok: true; readonly byName: boolean; readonly tensors: readonly T[] }
  /** `count`: mapped by position, but there are more or fewer tensors than inputs. */
  | { readonly ok: false; readonly problem: 'count' }
  /** Mapped by name, and these inputs have no tensor. */
  | { readonly ok: false; readonly problem: 'missing'; readonly missing: readonly string[] };

/**
 * BigDL's rule: by name when every tensor is named after a model input, else by position (a
 * BigDL client names its columns freely).
 */
export function matchInputs<T extends { readonly name: string }>(
  tensors: readonly T[],
  specs: readonly TensorSpec[],
): InputMatch<T> {
  const names = new Set(specs.map((s) => s.name));
  const byName = tensors.length > 0 && tensors.every((t) => names.has(t.name));
  if (!byName) {
    if (tensors.length !== specs.length) return { ok: false, problem: 'count' };
    return { ok: true, byName, tensors };
  }
  const matched: T[] = [];
  const missing: string[] = [];
  for (const spec of specs) {
    const tensor = tensors.find((t) => t.name === spec.name);
    if (tensor === undefined) missing.push(spec.name);
    else matched.push(tensor);
  }
  if (missing.length > 0) return { ok: false, problem: 'missing', missing };
  return { ok: true, byName, tensors: matched };
}
