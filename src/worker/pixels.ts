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

let rowScratchBuffer = new Float64Array(0);

/** One source row (starting at `base`) blended along x into `rows` from `at`, three channels per pixel. */
function blendAlongX(
  raw: Uint8Array,
  base: number,
  left: Int32Array,
  right: Int32Array,
  weight: Float32Array,
  c0: number,
  c1: number,
  c2: number,
  rows: Float64Array,
  at: number,
): void {
  let to = at;
  for (let x = 0; x < left.length; x++) {
    const l = base + left[x]!;
    const r = base + right[x]!;
    const wx = weight[x]!;
    rows[to] = raw[l + c0]! + (raw[r + c0]! - raw[l + c0]!) * wx;
    rows[to + 1] = raw[l + c1]! + (raw[r + c1]! - raw[l + c1]!) * wx;
    rows[to + 2] = raw[l + c2]! + (raw[r + c2]! - raw[l + c2]!) * wx;
    to += 3;
  }
}

/** Room for two rows blended along x, kept between calls (one thread uses it at a time). */
function rowScratch(length: number): Float64Array {
  if (rowScratchBuffer.length < length) rowScratchBuffer = new Float64Array(length);
  return rowScratchBuffer;
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
  // Each channel's 8-bit value to its normalised float, worked out once per call.
  const normalised = new Float32Array(3 * 256);
  for (let k = 0; k < 3; k++) {
    const mul = options.scale / (options.std[k] ?? 1);
    const add = -(options.mean[k] ?? 0) / (options.std[k] ?? 1);
    for (let v = 0; v < 256; v++) normalised[k * 256 + v] = v * mul + add;
  }
  const chw = options.layout === 'chw';
  // Where pixel p's channel k goes: p * perPixel + k * perChannel.
  const perPixel = chw ? 1 : 3;
  const perChannel = chw ? W * H : 1;
  // Separable: each source row a output row blends is first blended along x (once, kept while
  // the next output row still needs it), then each output row blends its two rows along y. The
  // arithmetic and its order are those of blending the four pixels one by one.
  const across = resized.width * 3;
  const rows = rowScratch(2 * across);
  let heldTop = -1;
  let heldBottom = -1;
  let topAt = 0;
  let bottomAt = across;
  for (let y = 0; y < resized.height; y++) {
    const lo = ys.lo[y]!;
    const hi = ys.hi[y]!;
    if (lo !== heldTop) {
      if (lo === heldBottom) {
        [topAt, bottomAt] = [bottomAt, topAt];
        heldBottom = heldTop;
      } else {
        blendAlongX(raw, lo * stride, left, right, xs.weight, c0, c1, c2, rows, topAt);
      }
      heldTop = lo;
    }
    if (hi !== heldBottom) {
      if (hi === heldTop) rows.copyWithin(bottomAt, topAt, topAt + across);
      else blendAlongX(raw, hi * stride, left, right, xs.weight, c0, c1, c2, rows, bottomAt);
      heldBottom = hi;
    }
    const top = topAt;
    const bottom = bottomAt;
    const wy = ys.weight[y]!;
    let to = y * W * perPixel;
    // The values are in 0..255, so adding one half and truncating rounds to the nearest 8-bit value.
    for (let i = 0; i < across; i += 3) {
      let upper = rows[top + i]!;
      data[to] = normalised[(upper + (rows[bottom + i]! - upper) * wy + 0.5) | 0]!;
      upper = rows[top + i + 1]!;
      data[to + perChannel] = normalised[256 + ((upper + (rows[bottom + i + 1]! - upper) * wy + 0.5) | 0)]!;
      upper = rows[top + i + 2]!;
      data[to + 2 * perChannel] =
        normalised[512 + ((upper + (rows[bottom + i + 2]! - upper) * wy + 0.5) | 0)]!;
      to += perPixel;
    }
  }
  return { type: 'FP32', shape: chw ? [3, H, W] : [H, W, 3], data };
}
