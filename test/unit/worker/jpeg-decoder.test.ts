import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeSmallJpeg, FAST_JPEG_MAX_PIXELS, scanJpegHeader } from '../../../src/worker/jpeg-decoder.js';

const DEMO = resolve(import.meta.dirname, '../../../demo/images');

/** A deterministic RGB pattern (not flat, so the DCT has work to do). */
function pattern(width: number, height: number): Buffer {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37 + Math.floor(i / (width * 3)) * 11) % 256;
  return raw;
}

function jpeg(width: number, height: number, options: sharp.JpegOptions = {}): Promise<Buffer> {
  return sharp(pattern(width, height), { raw: { width, height, channels: 3 } })
    .jpeg(options)
    .toBuffer();
}

/** sharp's RGB pixels of an image, for comparison. */
async function sharpRgb(bytes: Buffer): Promise<Buffer> {
  return sharp(bytes).removeAlpha().raw().toBuffer();
}

function rgbOf(rgba: Uint8Array): Buffer {
  const rgb = Buffer.alloc((rgba.length / 4) * 3);
  for (let p = 0; p < rgba.length / 4; p++) {
    rgb[p * 3] = rgba[p * 4]!;
    rgb[p * 3 + 1] = rgba[p * 4 + 1]!;
    rgb[p * 3 + 2] = rgba[p * 4 + 2]!;
  }
  return rgb;
}

describe('scanJpegHeader', () => {
  it('reads the size of baseline and progressive JPEGs and calls them plain', async () => {
    expect(scanJpegHeader(await jpeg(40, 16))).toEqual({ width: 40, height: 16, plain: true });
    expect(scanJpegHeader(await jpeg(40, 16, { progressive: true }))).toEqual({
      width: 40,
      height: 16,
      plain: true,
    });
  });

  it('leaves JPEGs with an EXIF block (which may ask for a rotation) and CMYK ones to sharp', async () => {
    const withExif = await sharp(await jpeg(8, 8))
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    expect(scanJpegHeader(withExif)?.plain).toBe(false);
    const cmyk = await sharp(await jpeg(8, 8))
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    expect(scanJpegHeader(cmyk)).toMatchObject({ width: 8, height: 8, plain: false });
  });

  it('gives up on anything whose segments do not add up', async () => {
    const good = await jpeg(8, 8);
    expect(scanJpegHeader(Buffer.from('not a jpeg'))).toBeUndefined();
    expect(scanJpegHeader(good.subarray(0, 20))).toBeUndefined();
    const broken = Buffer.from(good);
    broken[2] = 0x12; // the first marker is no longer a marker
    expect(scanJpegHeader(broken)).toBeUndefined();
    expect(scanJpegHeader(Uint8Array.of(0xff, 0xd8, 0xff, 0xc0, 0x00, 0x01))).toBeUndefined();
  });
});

describe('decodeSmallJpeg', () => {
  it("gives sharp's pixels to the bit for the demo's text lines", async () => {
    const files = (await readdir(DEMO)).filter((f) => f.endsWith('.jpg'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const bytes = await readFile(join(DEMO, file));
      const image = await decodeSmallJpeg(bytes);
      if (image === undefined) throw new Error(`${file} was not decoded`);
      const reference = await sharp(bytes).metadata();
      expect([image.width, image.height]).toEqual([reference.width, reference.height]);
      expect(rgbOf(image.data).equals(await sharpRgb(bytes))).toBe(true);
    }
  });

  it('decodes grey and progressive JPEGs as sharp does', async () => {
    const grey = await sharp(pattern(24, 10), { raw: { width: 24, height: 10, channels: 3 } })
      .toColourspace('b-w')
      .jpeg()
      .toBuffer();
    const greyImage = await decodeSmallJpeg(grey);
    if (greyImage === undefined) throw new Error('grey JPEG was not decoded');
    const { data: greyPixels, info } = await sharp(grey).raw().toBuffer({ resolveWithObject: true });
    expect(scanJpegHeader(grey)?.plain).toBe(true);
    // A one-component JPEG: one grey value a pixel, in all three colour channels.
    for (let p = 0; p < 24 * 10; p++) {
      const value = greyPixels[p * info.channels]!;
      expect(Array.from(greyImage.data.subarray(p * 4, p * 4 + 3))).toEqual([value, value, value]);
    }
    const progressive = await jpeg(33, 17, { progressive: true });
    const image = await decodeSmallJpeg(progressive);
    if (image === undefined) throw new Error('progressive JPEG was not decoded');
    expect(rgbOf(image.data).equals(await sharpRgb(progressive))).toBe(true);
  });

  it('leaves large, truncated, corrupt and non-plain JPEGs to sharp', async () => {
    const side = Math.ceil(Math.sqrt(FAST_JPEG_MAX_PIXELS)) + 1;
    expect(await decodeSmallJpeg(await jpeg(side, side))).toBeUndefined();
    const small = await jpeg(64, 32);
    expect(await decodeSmallJpeg(small.subarray(0, Math.floor(small.length / 2)))).toBeUndefined();
    const corrupt = Buffer.from(small);
    corrupt.fill(0x07, small.length - 200, small.length - 2);
    expect(await decodeSmallJpeg(corrupt)).toBeUndefined();
    const withExif = await sharp(small).withMetadata({ orientation: 3 }).jpeg().toBuffer();
    expect(await decodeSmallJpeg(withExif)).toBeUndefined();
    // And after all that, it still decodes.
    expect(await decodeSmallJpeg(small)).toMatchObject({ width: 64, height: 32 });
  });
});

describe('the decoder in a process with nothing else to do', () => {
  it('loads and decodes when a first decode is the only work of a process', async () => {
    // The decoder compiles synchronously: an asynchronous WebAssembly compile holds no
    // event-loop handle, so such a process could exit (code 13) before the decoder was ready.
    const decoder = resolve(import.meta.dirname, '../../../dist/worker/jpeg-decoder.js');
    const image = join(DEMO, 'short-0.jpg');
    const script = `import { decodeSmallJpeg } from ${JSON.stringify(decoder)};
import { readFileSync } from 'node:fs';
const image = await decodeSmallJpeg(readFileSync(${JSON.stringify(image)}));
console.log(image ? image.width + 'x' + image.height : 'none');`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    expect(stdout.trim()).toBe('172x51');
  });
});
