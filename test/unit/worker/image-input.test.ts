import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { BIGDL_IMAGE_OPTIONS } from '../../../src/config/image-keys.js';
import type { ImageOptions } from '../../../src/config/types.js';
import { CsError } from '../../../src/errors/registry.js';
import type { TensorSpec } from '../../../src/protocol/model-metadata.js';
import { decodeImage, decodeImages, imageBytes, targetSize } from '../../../src/worker/image-input.js';

const BIGDL: ImageOptions = BIGDL_IMAGE_OPTIONS;

const DYNAMIC: TensorSpec = { name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] };

/** A lossless PNG of `width`×`height` RGB pixels given row-major. */
async function png(
  width: number,
  height: number,
  rgb: readonly number[],
  channels: 1 | 3 = 3,
): Promise<string> {
  const raw = Buffer.from(rgb);
  const bytes = await sharp(raw, { raw: { width, height, channels } }).png().toBuffer();
  return bytes.toString('base64');
}

async function failure(promise: Promise<unknown>): Promise<CsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CsError);
  return error as CsError;
}

// Two pixels side by side: red (10,20,30) and (200,100,50).
const TWO = [10, 20, 30, 200, 100, 50];

describe('targetSize', () => {
  it('takes imageResize first, else the fixed H and W the model declares for its layout', () => {
    expect(targetSize(DYNAMIC, { ...BIGDL, resize: { width: 5, height: 7 } })).toEqual({
      width: 5,
      height: 7,
    });
    expect(targetSize({ ...DYNAMIC, shape: [-1, 3, 48, 192] }, BIGDL)).toEqual({ width: 192, height: 48 });
    expect(targetSize({ ...DYNAMIC, shape: [-1, 48, 192, 3] }, { ...BIGDL, layout: 'hwc' })).toEqual({
      width: 192,
      height: 48,
    });
    expect(targetSize(DYNAMIC, BIGDL)).toBeUndefined();
    expect(targetSize({ ...DYNAMIC, shape: [-1, 3, 48, -1] }, BIGDL)).toBeUndefined();
  });
});

describe('decodeImage', () => {
  it("gives BigDL's default: BGR, float 0..255, channels first", async () => {
    const t = await decodeImage(await png(2, 1, TWO), DYNAMIC, BIGDL, 'input "x"');
    expect(t.shape).toEqual([3, 1, 2]);
    expect(Array.from(t.data)).toEqual([30, 50, 20, 100, 10, 200]);
  });

  it('applies channel order, layout, scale, mean and std', async () => {
    const options: ImageOptions = {
      ...BIGDL,
      channelOrder: 'rgb',
      layout: 'hwc',
      scale: 0.5,
      mean: [1, 2, 3],
      std: [1, 2, 4],
    };
    const t = await decodeImage(await png(2, 1, TWO), DYNAMIC, options, 'x');
    expect(t.shape).toEqual([1, 2, 3]);
    const expected = [
      [10, 20, 30],
      [200, 100, 50],
    ].flatMap(([r, g, b]) => [(r! * 0.5 - 1) / 1, (g! * 0.5 - 2) / 2, (b! * 0.5 - 3) / 4]);
    Array.from(t.data).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });

  it('keepAspect resizes to the target height and pads the right with padValue', async () => {
    // 4×2 uniform grey: aspect 2, so at height 4 it is 8 wide, padded to 12.
    const grey = new Array<number>(4 * 2 * 3).fill(90);
    const options: ImageOptions = {
      ...BIGDL,
      resize: { width: 12, height: 4 },
      resizeMode: 'keepAspect',
      padValue: -7,
    };
    const t = await decodeImage(await png(4, 2, grey), DYNAMIC, options, 'x');
    expect(t.shape).toEqual([3, 4, 12]);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 4; y++) {
        const row = Array.from(t.data.subarray(c * 48 + y * 12, c * 48 + y * 12 + 12));
        expect(row).toEqual([...new Array<number>(8).fill(90), ...new Array<number>(4).fill(-7)]);
      }
    }
  });

  it("uses the model's fixed size when imageResize is not set", async () => {
    const t = await decodeImage(await png(2, 1, TWO), { ...DYNAMIC, shape: [-1, 3, 3, 5] }, BIGDL, 'x');
    expect(t.shape).toEqual([3, 3, 5]);
  });

  it('gives a grey image the same value in all three channels', async () => {
    const t = await decodeImage(await png(2, 1, [40, 160], 1), DYNAMIC, BIGDL, 'x');
    expect(Array.from(t.data)).toEqual([40, 160, 40, 160, 40, 160]);
  });

  it('accepts a data: URI and a JPEG', async () => {
    const jpeg = await sharp({ create: { width: 8, height: 4, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    const t = await decodeImage(`data:image/jpeg;base64,${jpeg.toString('base64')}`, DYNAMIC, BIGDL, 'x');
    expect(t.shape).toEqual([3, 4, 8]);
    expect(Math.abs((t.data[0] ?? 0) - 128)).toBeLessThanOrEqual(2);
  });

  it('refuses keepAspect without a target size', async () => {
    const error = await failure(
      decodeImage(await png(2, 1, TWO), DYNAMIC, { ...BIGDL, resizeMode: 'keepAspect' }, 'x'),
    );
    expect(error.code).toBe('CS_ERR_INPUT_MISMATCH');
    expect(error.message).toContain('imageResize');
  });
});

describe('bad image data is CS_ERR_INPUT_DECODE with the reason', () => {
  it('not base64', () => {
    expect(() => imageBytes('not base64 at all!', 'input "x"')).toThrow(
      /input "x": expected a base64 JPEG or PNG/,
    );
    expect(() => imageBytes('', 'input "x"')).toThrow(/empty/);
  });

  it('base64 of something that is not an image', () => {
    const text = Buffer.from('hello, this is text').toString('base64');
    expect(() => imageBytes(text, 'input "x"')).toThrow(/not a JPEG, PNG or WebP image/);
  });

  it('a truncated JPEG', async () => {
    const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } })
      .jpeg()
      .toBuffer();
    const cut = jpeg.subarray(0, Math.floor(jpeg.length / 2)).toString('base64');
    const error = await failure(decodeImage(cut, DYNAMIC, BIGDL, 'input "x"'));
    expect(error.code).toBe('CS_ERR_INPUT_DECODE');
    expect(error.message).toMatch(/^input "x": cannot decode the image: /);
  });
});

describe('decodeImages', () => {
  it('stacks images along a new first dim', async () => {
    const a = await png(2, 1, TWO);
    const t = await decodeImages([a, a], DYNAMIC, BIGDL, 'x');
    expect(t.shape).toEqual([2, 3, 1, 2]);
    expect(Array.from(t.data.subarray(6))).toEqual([30, 50, 20, 100, 10, 200]);
  });

  it('refuses images that come out different sizes, naming the fix', async () => {
    const error = await failure(
      decodeImages([await png(2, 1, TWO), await png(1, 1, [1, 2, 3])], DYNAMIC, BIGDL, 'x'),
    );
    expect(error.code).toBe('CS_ERR_INPUT_MISMATCH');
    expect(error.message).toContain('imageResize');
  });

  it('names the bad element of several', async () => {
    const error = await failure(decodeImages([await png(2, 1, TWO), 'AAAA'], DYNAMIC, BIGDL, 'input "x"'));
    expect(error.message).toContain('input "x"[1]');
  });
});
