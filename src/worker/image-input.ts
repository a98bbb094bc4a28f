/**
 * Images sent for a numeric model input: base64 JPEG, PNG or WebP (BigDL's Arrow string
 * column, `/predict` string values, OIP and client BYTES elements) decoded with sharp and
 * turned into float32 pixels the way the config's image keys say. The defaults are BigDL's:
 * 3 channels in BGR order, values 0..255, channels first.
 */
import sharp from 'sharp';
import type { ImageOptions } from '../config/types.js';
import { CsError, reasonOf } from '../errors/registry.js';
import type { TensorSpec } from '../protocol/model-metadata.js';
import { MAX_DENSE_ELEMENTS } from '../protocol/sparse.js';

// A worker is one process per core: libvips threads of its own would fight the model for the
// core, and a result cache only helps when the same file is decoded again, which records never are.
sharp.concurrency(1);
sharp.cache(false);

/** Bounds what a few kilobytes of compressed data may expand to before it is decoded. */
export const MAX_IMAGE_PIXELS = 40_000_000;

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const DATA_URI = /^data:image\/[a-z0-9.+-]+;base64,/i;

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

/**
 * The size images are brought to: imageResize when set, else the model's fixed H and W
 * (read at the places the layout puts them), else undefined (keep the decoded size).
 */
export function targetSize(spec: TensorSpec, options: ImageOptions): ImageSize | undefined {
  if (options.resize !== undefined) return options.resize;
  const dims =
    spec.shape.length === 4 ? spec.shape.slice(1) : spec.shape.length === 3 ? spec.shape : undefined;
  if (dims === undefined) return undefined;
  const [height, width] = options.layout === 'chw' ? [dims[1], dims[2]] : [dims[0], dims[1]];
  if (height === undefined || width === undefined || height <= 0 || width <= 0) return undefined;
  return { width, height };
}

/** The raw image bytes of one string: base64 (optionally a `data:image/...;base64,` URI) of a JPEG, PNG or WebP. */
export function imageBytes(text: string, where: string): Buffer {
  const body = text.replace(DATA_URI, '');
  if (body.length === 0) throw new CsError('CS_ERR_INPUT_DECODE', `${where}: the image string is empty`);
  if (body.length % 4 === 1 || !BASE64.test(body)) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `${where}: expected a base64 JPEG or PNG image, got ${body.length} characters that are not base64 (starting "${body.slice(0, 16)}")`,
    );
  }
  const bytes = Buffer.from(body, 'base64');
  if (formatOf(bytes) === undefined) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `${where}: the decoded base64 is not a JPEG, PNG or WebP image (first bytes ${bytes.subarray(0, 8).toString('hex') || 'none'})`,
    );
  }
  return bytes;
}

function formatOf(bytes: Buffer): 'jpeg' | 'png' | 'webp' | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a)
    return 'png';
  if (
    bytes.length >= 12 &&
    bytes.toString('latin1', 0, 4) === 'RIFF' &&
    bytes.toString('latin1', 8, 12) === 'WEBP'
  ) {
    return 'webp';
  }
  return undefined;
}

/** One image as float32 pixels ([3,H,W] or [H,W,3]). `where` names the input in messages. */
export async function decodeImage(
  text: string,
  spec: TensorSpec,
  options: ImageOptions,
  where: string,
): Promise<PixelTensor> {
  const bytes = imageBytes(text, where);
  const target = targetSize(spec, options);
  if (options.resizeMode === 'keepAspect' && target === undefined) {
    throw new CsError(
      'CS_ERR_INPUT_MISMATCH',
      `${where}: imageResizeMode keepAspect needs a target size: set imageResize: w,h (the model declares no fixed height and width)`,
    );
  }
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const source = { width: info.width, height: info.height };
    const resized = target === undefined ? source : resizedSize(source, target, options.resizeMode);
    const out = target ?? source;
    if (3 * out.width * out.height > MAX_DENSE_ELEMENTS) {
      throw new CsError(
        'CS_ERR_INPUT_TOO_LARGE',
        `${where}: a ${out.width}×${out.height} image is too large; set imageResize`,
      );
    }
    return toPixels(
      resizeBilinear(data, info.channels, source, resized),
      info.channels,
      resized,
      out,
      options,
    );
  } catch (error) {
    if (error instanceof CsError) throw error;
    throw new CsError('CS_ERR_INPUT_DECODE', `${where}: cannot decode the image: ${reasonOf(error)}`, {
      cause: error,
    });
  }
}

/** Several images stacked along a new first dim; they must come out the same size. */
export async function decodeImages(
  texts: readonly string[],
  spec: TensorSpec,
  options: ImageOptions,
  where: string,
): Promise<PixelTensor> {
  const images = await Promise.all(
    texts.map((text, i) => decodeImage(text, spec, options, texts.length === 1 ? where : `${where}[${i}]`)),
  );
  const first = images[0];
  if (first === undefined) throw new CsError('CS_ERR_INPUT_DECODE', `${where}: holds no image`);
  const sameSize = images.every((image) => image.shape.every((d, k) => d === first.shape[k]));
  if (!sameSize) {
    const sizes = images.map((image) => `[${image.shape.join(',')}]`).join(', ');
    throw new CsError(
      'CS_ERR_INPUT_MISMATCH',
      `${where}: images of one input must come out the same size to be stacked, got ${sizes}; set imageResize: w,h`,
    );
  }
  const data = new Float32Array(first.data.length * images.length);
  images.forEach((image, i) => data.set(image.data, i * first.data.length));
  return { type: 'FP32', shape: [images.length, ...first.shape], data };
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

/**
 * Bilinear resize of interleaved 8-bit pixels as OpenCV's INTER_LINEAR does it (pixel centres
 * aligned, no antialiasing, results rounded to 8 bits), which is how BigDL and PaddleOCR
 * resize. Done here rather than in libvips: for the small images models take, a second libvips
 * operation costs more than the arithmetic.
 */
export function resizeBilinear(
  src: Uint8Array,
  channels: number,
  from: ImageSize,
  to: ImageSize,
): Uint8Array {
  if (from.width === to.width && from.height === to.height) return src;
  const axis = (fromSize: number, toSize: number): { lo: Int32Array; hi: Int32Array; w: Float32Array } => {
    const lo = new Int32Array(toSize);
    const hi = new Int32Array(toSize);
    const w = new Float32Array(toSize);
    const scale = fromSize / toSize;
    for (let i = 0; i < toSize; i++) {
      const f = Math.max(0, (i + 0.5) * scale - 0.5);
      const i0 = Math.min(Math.floor(f), fromSize - 1);
      lo[i] = i0;
      hi[i] = Math.min(i0 + 1, fromSize - 1);
      w[i] = i0 === fromSize - 1 ? 0 : f - i0;
    }
    return { lo, hi, w };
  };
  const xs = axis(from.width, to.width);
  const ys = axis(from.height, to.height);
  const out = new Uint8Array(to.width * to.height * channels);
  const stride = from.width * channels;
  let o = 0;
  for (let y = 0; y < to.height; y++) {
    const top = ys.lo[y]! * stride;
    const bottom = ys.hi[y]! * stride;
    const wy = ys.w[y]!;
    for (let x = 0; x < to.width; x++) {
      const tl = top + xs.lo[x]! * channels;
      const tr = top + xs.hi[x]! * channels;
      const bl = bottom + xs.lo[x]! * channels;
      const br = bottom + xs.hi[x]! * channels;
      const wx = xs.w[x]!;
      for (let c = 0; c < channels; c++) {
        const upper = src[tl + c]! + (src[tr + c]! - src[tl + c]!) * wx;
        const lower = src[bl + c]! + (src[br + c]! - src[bl + c]!) * wx;
        // Values are in 0..255, so adding one half and truncating rounds to nearest.
        out[o++] = upper + (lower - upper) * wy + 0.5;
      }
    }
  }
  return out;
}

/**
 * Interleaved 8-bit pixels (RGB, or grey when the image has one channel) of `size` into the
 * output tensor of `out` size; columns beyond size.width hold padValue.
 */
export function toPixels(
  raw: Uint8Array,
  channels: number,
  size: ImageSize,
  out: ImageSize,
  options: ImageOptions,
): PixelTensor {
  const { width: W, height: H } = out;
  const data = new Float32Array(3 * W * H);
  if (size.width < W) data.fill(options.padValue);
  // Output channel k reads source channel order[k]; a grey image gives the same value to all three.
  const order = channels < 3 ? [0, 0, 0] : options.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const chw = options.layout === 'chw';
  for (let k = 0; k < 3; k++) {
    const src = order[k] ?? 0;
    const mul = options.scale / (options.std[k] ?? 1);
    const add = -(options.mean[k] ?? 0) / (options.std[k] ?? 1);
    const step = chw ? 1 : 3;
    for (let y = 0; y < size.height; y++) {
      let from = y * size.width * channels + src;
      let to = chw ? k * H * W + y * W : y * W * 3 + k;
      for (let x = 0; x < size.width; x++) {
        data[to] = raw[from]! * mul + add;
        from += channels;
        to += step;
      }
    }
  }
  return { type: 'FP32', shape: chw ? [3, H, W] : [H, W, 3], data };
}
