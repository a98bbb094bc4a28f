import { describe, expect, it } from 'vitest';
import { BIGDL_IMAGE_OPTIONS } from '../../../src/config/image-keys.js';
import type { ImageOptions } from '../../../src/config/types.js';
import { resizedSize, toPixels } from '../../../src/worker/pixels.js';
import { seededRandom } from '../../helpers/json-numbers.js';

const PLAIN: ImageOptions = { ...BIGDL_IMAGE_OPTIONS, channelOrder: 'rgb' };

/** One channel of a chw tensor of `width`×`height`. */
function plane(data: Float32Array, k: number, width: number, height: number): number[] {
  return Array.from(data.subarray(k * width * height, (k + 1) * width * height));
}

describe('resizedSize', () => {
  it('keepAspect fixes the height, scales the width by the aspect ratio (rounded up) and caps it', () => {
    const target = { width: 192, height: 48 };
    expect(resizedSize({ width: 100, height: 50 }, target, 'keepAspect')).toEqual({ width: 96, height: 48 });
    expect(resizedSize({ width: 101, height: 50 }, target, 'keepAspect')).toEqual({ width: 97, height: 48 });
    expect(resizedSize({ width: 1000, height: 50 }, target, 'keepAspect')).toEqual(target);
    expect(resizedSize({ width: 100, height: 50 }, target, 'stretch')).toEqual(target);
    expect(resizedSize({ width: 100, height: 50 }, undefined, 'stretch')).toEqual({ width: 100, height: 50 });
  });
});

describe('toPixels', () => {
  it("resizes as OpenCV's INTER_LINEAR: aligned pixel centres, edges clamped, rounded to 8 bits", () => {
    const resize = (raw: number[], from: number, to: number): number[] => {
      const size = { width: to, height: 1 };
      const t = toPixels(Uint8Array.from(raw), 1, { width: from, height: 1 }, size, size, PLAIN);
      // A grey image gives all three channels the same values.
      expect(plane(t.data, 1, to, 1)).toEqual(plane(t.data, 0, to, 1));
      expect(plane(t.data, 2, to, 1)).toEqual(plane(t.data, 0, to, 1));
      return plane(t.data, 0, to, 1);
    };
    expect(resize([0, 100], 2, 4)).toEqual([0, 25, 75, 100]);
    expect(resize([0, 10, 20, 30], 4, 2)).toEqual([5, 25]);
    // 0.25 and 0.75 round to the nearest 8-bit value before anything else.
    expect(resize([0, 1], 2, 4)).toEqual([0, 0, 1, 1]);
  });

  it('resizes each channel on its own and ignores alpha (RGBA from the JPEG decoder)', () => {
    // A 1×2 RGBA column stretched to 1×3.
    const rgba = Uint8Array.of(0, 200, 90, 7, 90, 0, 200, 7);
    const size = { width: 1, height: 3 };
    const t = toPixels(rgba, 4, { width: 1, height: 2 }, size, size, PLAIN);
    expect(t.shape).toEqual([3, 3, 1]);
    expect(Array.from(t.data)).toEqual([0, 45, 90, 200, 100, 0, 90, 145, 200]);
  });

  it('passes pixels unchanged when the sizes match, then applies order, layout, scale, mean and std', () => {
    const rgb = Uint8Array.of(10, 20, 30, 200, 100, 50);
    const size = { width: 2, height: 1 };
    const options: ImageOptions = {
      ...PLAIN,
      channelOrder: 'bgr',
      layout: 'hwc',
      scale: 0.5,
      mean: [1, 2, 3],
      std: [1, 2, 4],
    };
    const t = toPixels(rgb, 3, size, size, size, options);
    expect(t.shape).toEqual([1, 2, 3]);
    const expected = [
      [30, 20, 10],
      [50, 100, 200],
    ].flatMap(([b, g, r]) => [(b! * 0.5 - 1) / 1, (g! * 0.5 - 2) / 2, (r! * 0.5 - 3) / 4]);
    Array.from(t.data).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
  });

  it('fills what the resized image does not cover with padValue, in both layouts', () => {
    const grey = Uint8Array.of(9, 9);
    const source = { width: 2, height: 1 };
    const out = { width: 3, height: 1 };
    for (const layout of ['chw', 'hwc'] as const) {
      const t = toPixels(grey, 1, source, source, out, { ...PLAIN, layout, padValue: -1 });
      const expected = layout === 'chw' ? [9, 9, -1, 9, 9, -1, 9, 9, -1] : [9, 9, 9, 9, 9, 9, -1, -1, -1];
      expect(Array.from(t.data)).toEqual(expected);
    }
  });

  it('equals blending the four source pixels of each output value one by one, on random images and sizes', () => {
    const next = seededRandom(48192);
    const int = (n: number): number => Math.floor(next() * n);
    for (let round = 0; round < 200; round++) {
      const channels = [1, 3, 4][int(3)]!;
      const source = { width: 1 + int(60), height: 1 + int(60) };
      const resized = { width: 1 + int(60), height: 1 + int(60) };
      const out = { width: resized.width + int(3), height: resized.height + int(3) };
      const raw = Uint8Array.from({ length: source.width * source.height * channels }, () => int(256));
      const options: ImageOptions = {
        ...PLAIN,
        channelOrder: next() < 0.5 ? 'rgb' : 'bgr',
        layout: next() < 0.5 ? 'chw' : 'hwc',
        scale: 1 / 255,
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
        padValue: -3,
      };
      const got = toPixels(raw, channels, source, resized, out, options);
      expect(Array.from(got.data)).toEqual(
        Array.from(plainPixels(raw, channels, source, resized, out, options)),
      );
    }
  });
});

/** toPixels written plainly: per output value, blend its four source pixels (OpenCV INTER_LINEAR). */
function plainPixels(
  raw: Uint8Array,
  channels: number,
  source: { width: number; height: number },
  resized: { width: number; height: number },
  out: { width: number; height: number },
  options: ImageOptions,
): Float32Array {
  const data = new Float32Array(3 * out.width * out.height).fill(options.padValue);
  const position = (i: number, from: number, to: number): [number, number, number] => {
    const f = Math.max(0, (i + 0.5) * (from / to) - 0.5);
    const i0 = Math.min(Math.floor(f), from - 1);
    // toPixels keeps its weights as float32.
    return [i0, Math.min(i0 + 1, from - 1), i0 === from - 1 ? 0 : Math.fround(f - i0)];
  };
  const order = channels < 3 ? [0, 0, 0] : options.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  for (let y = 0; y < resized.height; y++) {
    const [y0, y1, wy] = position(y, source.height, resized.height);
    for (let x = 0; x < resized.width; x++) {
      const [x0, x1, wx] = position(x, source.width, resized.width);
      for (let k = 0; k < 3; k++) {
        const at = (px: number, py: number): number => raw[(py * source.width + px) * channels + order[k]!]!;
        const upper = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * wx;
        const lower = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * wx;
        const value = (upper + (lower - upper) * wy + 0.5) | 0;
        const index =
          options.layout === 'chw'
            ? k * out.width * out.height + y * out.width + x
            : (y * out.width + x) * 3 + k;
        data[index] = value * (options.scale / options.std[k]!) - options.mean[k]! / options.std[k]!;
      }
    }
  }
  return data;
}
