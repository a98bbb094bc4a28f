/**
 * Images sent for a numeric model input: base64 JPEG, PNG or WebP (BigDL's Arrow string
 * column, `/predict` string values, OIP and client BYTES elements) decoded with sharp (small plain
 * JPEGs by the same libjpeg in WebAssembly, see jpeg-decoder.ts) and
 * turned into float32 pixels the way the config's image keys say. The defaults are BigDL's:
 * 3 channels in BGR order, values 0..255, channels first.
 */
import sharp from 'sharp';
import type { ImageOptions } from '../config/types.js';
import { CsError, reasonOf } from '../errors/registry.js';
import type { TensorSpec } from '../protocol/model-metadata.js';
import { MAX_DENSE_ELEMENTS } from '../protocol/sparse.js';
import { decodeSmallJpeg } from './jpeg-decoder.js';
import type { PixelPool } from './pixel-pool.js';
import { resizedSize, toPixels, type ImageSize, type PixelTensor } from './pixels.js';

// A worker is one process per core: libvips threads of its own would fight the model for the
// core, and a result cache only helps when the same file is decoded again, which records never are.
sharp.concurrency(1);
sharp.cache(false);

/** Bounds what a few kilobytes of compressed data may expand to before it is decoded. */
export const MAX_IMAGE_PIXELS = 40_000_000;

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const DATA_URI = /^data:image\/[a-z0-9.+-]+;base64,/i;

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
  pool?: PixelPool,
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
    const { data, info } = await decodePixels(bytes);
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
      data,
      info.channels,
      source,
      resized,
      out,
      options,
      pool?.take(3 * out.width * out.height),
    );
  } catch (error) {
    if (error instanceof CsError) throw error;
    throw new CsError('CS_ERR_INPUT_DECODE', `${where}: cannot decode the image: ${reasonOf(error)}`, {
      cause: error,
    });
  }
}

/** Interleaved 8-bit pixels: small plain JPEGs in this thread, everything else through sharp. */
async function decodePixels(
  bytes: Buffer,
): Promise<{ data: Uint8Array; info: ImageSize & { channels: number } }> {
  const small = await decodeSmallJpeg(bytes);
  if (small !== undefined) return { data: small.data, info: { ...small, channels: 4 } };
  return sharp(bytes, { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS })
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
}

/** Several images stacked along a new first dim; they must come out the same size. */
export async function decodeImages(
  texts: readonly string[],
  spec: TensorSpec,
  options: ImageOptions,
  where: string,
  pool?: PixelPool,
): Promise<PixelTensor> {
  const images = await Promise.all(
    texts.map((text, i) =>
      decodeImage(text, spec, options, texts.length === 1 ? where : `${where}[${i}]`, pool),
    ),
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
  if (images.length === 1) return { type: 'FP32', shape: [1, ...first.shape], data: first.data };
  const data = new Float32Array(first.data.length * images.length);
  images.forEach((image, i) => {
    data.set(image.data, i * first.data.length);
    pool?.give(image.data);
  });
  return { type: 'FP32', shape: [images.length, ...first.shape], data };
}
