import { expect } from 'vitest';
import { READ_IN_PLACE_MIN_BYTES } from '../../src/protocol/json-array-scan.js';
import type { TensorData } from '../../src/protocol/tensor.js';

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so a failing case can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A JSON number written one of the many ways JSON allows, with the hard cases for float32 and float64. */
export function numberText(next: () => number): string {
  const pick = next();
  if (pick < 0.2) return JSON.stringify(Math.fround((next() - 0.5) * 10 ** Math.floor(next() * 20 - 10)));
  if (pick < 0.35) return JSON.stringify((next() - 0.5) * 10 ** Math.floor(next() * 80 - 40));
  if (pick < 0.45) return String(Math.floor((next() - 0.5) * 2 ** 31));
  if (pick < 0.55) {
    const digits = Array.from({ length: 1 + Math.floor(next() * 30) }, () => Math.floor(next() * 10)).join(
      '',
    );
    return `${next() < 0.5 ? '-' : ''}${digits.replace(/^0+(?=\d)/, '')}.${Math.floor(next() * 1e6)}`;
  }
  if (pick < 0.65)
    return `${Math.floor(next() * 1000)}e${next() < 0.5 ? '-' : '+'}${Math.floor(next() * 50)}`;
  if (pick < 0.72) return `${(next() * 10).toFixed(Math.floor(next() * 25))}E${Math.floor(next() * 45) - 22}`;
  if (pick < 0.78) {
    // A float32 rounding midpoint, exactly or one digit off, written in full (up to 30 digits).
    const f = Math.fround(next() * 4 - 2);
    const mid = f + Math.abs(f) * 2 ** -24;
    const text = mid.toPrecision(25 + Math.floor(next() * 6));
    return next() < 0.5 ? text : text.replace(/\d(?=e|$)/, (d) => String((Number(d) + 1) % 10));
  }
  if (pick < 0.82) return next() < 0.5 ? '-0' : '0';
  if (pick < 0.86) return `${Math.floor(next() * 10)}e${400 + Math.floor(next() * 10)}`;
  if (pick < 0.9) return `1e-${300 + Math.floor(next() * 50)}`;
  return JSON.stringify(next() * 2 - 1);
}

/** The whitespace JSON allows between tokens, in a few amounts. */
export const JSON_SPACES: readonly string[] = ['', ' ', '\n', '\t', ' \r\n '];

/**
 * The body padded with trailing spaces (still the same JSON) up to the size from which
 * prediction bodies are read in place, so small test bodies take that path too.
 */
export function paddedBody(text: string): string {
  return text.padEnd(READ_IN_PLACE_MIN_BYTES, ' ');
}

/** Tensor data equal element by element as Object.is sees them (so -0 and NaN count), naming the first difference. */
export function expectSameElements(got: TensorData | undefined, want: TensorData, name: string): void {
  const a = Array.from((got ?? []) as ArrayLike<unknown>);
  const b = Array.from(want as ArrayLike<unknown>);
  expect(a.length, `${name}: element count`).toBe(b.length);
  const at = b.findIndex((v, k) => !Object.is(a[k], v));
  if (at >= 0) expect(`${name}[${at}] = ${String(a[at])}`).toBe(`${name}[${at}] = ${String(b[at])}`);
}
