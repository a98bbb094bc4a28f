/**
 * Decoded 8-bit pixels to the float32 tensor a model takes: bilinear resize, padding, channel
 * order, layout and normalisation in one pass over the output.
 */
import type { ImageOptions } from '../config/types.js';

export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

export interface PixelTensor {
  readonly type: 'FP32';
  /** [3,H,W] (chw) or [H,W,3] (hwc); with a leading image count from decodeImages. */
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** The size the decoded image is resized to before padding (keepAspect is PaddleOCR's resize_norm_img). */
export function resizedSize(
  source: ImageSize,
  target: ImageSize | undefined,
  mode: ImageOptions['resizeMode'],
): ImageSize {
  if (target === undefined) return source;
  if (mode === 'stretch') return target;
  const scaled = Math.ceil(target.height * (source.width / source.height));
  return { width: Math.max(1, Math.min(target.width, scaled)), height: target.height };
}

/** For each output position along one axis: the two source positions it blends and the weight of the second. */
interface Axis {
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly weight: Float32Array;
}

function axis(fromSize: number, toSize: number): Axis {
  const lo = new Int32Array(toSize);
  const hi = new Int32Array(toSize);
  const weight = new Float32Array(toSize);
  const scale = fromSize / toSize;
  for (let i = 0; i < toSize; i++) {
    const f = Math.max(0, (i + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(f), fromSize - 1);
    lo[i] = i0;
    hi[i] = Math.min(i0 + 1, fromSize - 1);
    weight[i] = i0 === fromSize - 1 ? 0 : f - i0;
  }
  return { lo, hi, weight };
}

/**
 * Interleaved 8-bit pixels of `source` size (RGB or RGBA, or grey when there are fewer than 3
 * channels) resized to `resized` and placed in the top-left of an `out`-sized tensor whose other
 * positions hold padValue; written into `into` when given (3 × out's pixels long).
 *
 * The resize is OpenCV's INTER_LINEAR, as BigDL and PaddleOCR resize: pixel centres aligned, no
 * antialiasing, each value rounded to 8 bits before it is normalised. It is done here rather than
 * in libvips: for the small images models take, a libvips operation costs more than the
 * arithmetic. When the sizes match, the weights are zero and the pixels pass unchanged.
 */
export function toPixels(
  raw: Uint8Array,
  channels: number,
  source: ImageSize,
  resized: ImageSize,
  out: ImageSize,
  options: ImageOptions,
  into?: Float32Array,
): PixelTensor {
  const { width: W, height: H } = out;
  // `into` (from a pool) may hold old values: every position is written below or padded here.
  const data = into ?? new Float32Array(3 * W * H);
  if (resized.width < W || resized.height < H) data.fill(options.padValue);
  const xs = axis(source.width, resized.width);
  const ys = axis(source.height, resized.height);
  const left = xs.lo.map((x) => x * channels);
  const right = xs.hi.map((x) => x * channels);
  const stride = source.width * channels;
  // Output channel k reads source channel order[k]; a grey image gives the same value to all three.
  const [c0, c1, c2] = channels < 3 ? [0, 0, 0] : options.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const [mul0, mul1, mul2] = [0, 1, 2].map((k) => options.scale / (options.std[k] ?? 1)) as [
    number,
    number,
    number,
  ];
  const [add0, add1, add2] = [0, 1, 2].map((k) => -(options.mean[k] ?? 0) / (options.std[k] ?? 1)) as [
    number,
    number,
    number,
  ];
  const chw = options.layout === 'chw';
  // Where pixel p's channel k goes: p * perPixel + k * perChannel.
  const perPixel = chw ? 1 : 3;
  const perChannel = chw ? W * H : 1;
  for (let y = 0; y < resized.height; y++) {
    const top = ys.lo[y]! * stride;
    const bottom = ys.hi[y]! * stride;
    const wy = ys.weight[y]!;
    let to = y * W * perPixel;
    for (let x = 0; x < resized.width; x++) {
      const tl = top + left[x]!;
      const tr = top + right[x]!;
      const bl = bottom + left[x]!;
      const br = bottom + right[x]!;
      const wx = xs.weight[x]!;
      // Per channel: blend the top and bottom pairs, then the two rows; the values are in
      // 0..255, so adding one half and truncating rounds to the nearest 8-bit value.
      let upper = raw[tl + c0]! + (raw[tr + c0]! - raw[tl + c0]!) * wx;
      let lower = raw[bl + c0]! + (raw[br + c0]! - raw[bl + c0]!) * wx;
      data[to] = ((upper + (lower - upper) * wy + 0.5) | 0) * mul0 + add0;
      upper = raw[tl + c1]! + (raw[tr + c1]! - raw[tl + c1]!) * wx;
      lower = raw[bl + c1]! + (raw[br + c1]! - raw[bl + c1]!) * wx;
      data[to + perChannel] = ((upper + (lower - upper) * wy + 0.5) | 0) * mul1 + add1;
      upper = raw[tl + c2]! + (raw[tr + c2]! - raw[tl + c2]!) * wx;
      lower = raw[bl + c2]! + (raw[br + c2]! - raw[bl + c2]!) * wx;
      data[to + 2 * perChannel] = ((upper + (lower - upper) * wy + 0.5) | 0) * mul2 + add2;
      to += perPixel;
    }
  }
  return { type: 'FP32', shape: chw ? [3, H, W] : [H, W, 3], data };
}
