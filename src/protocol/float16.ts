/**
 * IEEE 754 half precision, as FP16 tensors carry it (raw bits in a Uint16Array).
 * Conversion works from the float64 value directly: going through float32 first would
 * round twice and occasionally land one ulp off.
 */

const F64 = new Float64Array(1);
const F64_HI = new Uint32Array(F64.buffer, 4, 1);

/** Largest finite half, and the point from which round-to-nearest-even gives Infinity. */
export const FP16_MAX = 65504;
const FP16_OVERFLOW = 65520;
const TWO_POW_24 = 2 ** 24;
const MIN_NORMAL = 2 ** -14;

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round sends exact halves up; a tie that lands on an odd integer goes down instead.
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The half bits nearest to `value` (ties to even); NaN → 0x7e00, beyond ±65504 → ±Infinity. */
export function floatToHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  if (a >= FP16_OVERFLOW) return sign | 0x7c00;
  if (a < MIN_NORMAL) {
    // Subnormal halves are multiples of 2^-24; a result of 1024 is the smallest normal, bits included.
    return sign | roundHalfEven(a * TWO_POW_24);
  }
  F64[0] = a;
  const exponent = ((F64_HI[0]! >>> 20) & 0x7ff) - 1023;
  const mantissa = roundHalfEven(a * 2 ** (10 - exponent));
  // mantissa is in [1024, 2048]; 2048 carries into the exponent through the addition.
  return sign | (((exponent + 15) << 10) + mantissa - 1024);
}

/** The value of half bits `bits`. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}
