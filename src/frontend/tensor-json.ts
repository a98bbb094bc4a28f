import { castTensor } from '../protocol/cast.js';
import type { Tensor } from '../protocol/tensor.js';

/**
 * The shortest decimal that reads back as the same float32 (what Java/Scala print for a
 * Float), instead of the double expansion `0.10000000149011612`. Non-finite values have no
 * JSON form and are written as null.
 */
export function formatFloat32(value: number): string {
  if (!Number.isFinite(value)) return 'null';
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return String(value);
  for (let digits = 6; digits < 9; digits++) {
    const text = value.toPrecision(digits);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(Number(value.toPrecision(9)));
}

function formatDouble(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/**
 * A tensor's values as a flat JSON array text, in the tensor's own datatype: integers exact
 * (INT64/UINT64 digits are written as they are, never through a double), BOOL as true/false,
 * FP16 decoded from its half bits, BYTES as JSON strings.
 */
export function tensorDataJson(tensor: Tensor): string {
  const data = tensor.data;
  switch (tensor.type) {
    case 'BYTES':
      return JSON.stringify(data);
    case 'BOOL': {
      const parts = new Array<string>(data.length);
      for (let i = 0; i < data.length; i++) parts[i] = data[i] === 0 ? 'false' : 'true';
      return `[${parts.join(',')}]`;
    }
    case 'FP16':
      return tensorDataJson(castTensor(tensor, 'FP32'));
    case 'FP32': {
      const values = data as Float32Array;
      const parts = new Array<string>(values.length);
      for (let i = 0; i < values.length; i++) parts[i] = formatFloat32(values[i] as number);
      return `[${parts.join(',')}]`;
    }
    case 'FP64': {
      const values = data as Float64Array;
      const parts = new Array<string>(values.length);
      for (let i = 0; i < values.length; i++) parts[i] = formatDouble(values[i] as number);
      return `[${parts.join(',')}]`;
    }
    default:
      // Integer typed arrays (BigInt ones included) print their exact digits.
      return `[${(data as Int32Array).join(',')}]`;
  }
}

/** `[2,3]` */
export function shapeJson(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
