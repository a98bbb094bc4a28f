import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/load.js';
import type { ImageOptions } from '../../../src/config/types.js';
import { CsError } from '../../../src/errors/registry.js';
import { TempDirs } from './temp-model.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());
const modelDir = temp.modelDir();

function image(raw: Record<string, unknown>): ImageOptions {
  return resolveConfig({ modelPath: modelDir, ...raw }, modelDir).config.image;
}

function problems(raw: Record<string, unknown>): string {
  try {
    resolveConfig({ modelPath: modelDir, ...raw }, modelDir);
  } catch (error) {
    if (error instanceof CsError && error.code === 'CS_ERR_CONFIG_INVALID') return error.message;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('image keys', () => {
  it("default to BigDL's preprocessing: stretch, BGR, CHW, 0..255, no padding", () => {
    expect(image({})).toEqual({
      resize: undefined,
      resizeMode: 'stretch',
      channelOrder: 'bgr',
      layout: 'chw',
      scale: 1,
      mean: [0, 0, 0],
      std: [1, 1, 1],
      padValue: 0,
    });
  });

  it("read PaddleOCR's classifier settings, case-insensitively, with a fraction for the scale", () => {
    expect(
      image({
        imageResize: '192,48',
        IMAGERESIZEMODE: 'keepaspect',
        imageChannelOrder: 'RGB',
        imagelayout: 'hwc',
        imageScale: '1/255',
        imageMean: 0.5,
        imageStd: '0.5, 0.25, 0.125',
        imagePadValue: -1,
      }),
    ).toEqual({
      resize: { width: 192, height: 48 },
      resizeMode: 'keepAspect',
      channelOrder: 'rgb',
      layout: 'hwc',
      scale: 1 / 255,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.25, 0.125],
      padValue: -1,
    });
  });

  it('take YAML lists for mean and std, and empty values as the default', () => {
    expect(image({ imageMean: [123.675, 116.28, 103.53], imageStd: null, imageScale: '' })).toMatchObject({
      mean: [123.675, 116.28, 103.53],
      std: [1, 1, 1],
      scale: 1,
    });
  });

  it('report every bad value at once, with the expected form and the value received', () => {
    const message = problems({
      imageResizeMode: 'crop',
      imageChannelOrder: 'bgra',
      imageLayout: 'nchw',
      imageScale: 0,
      imageMean: '1,2',
      imageStd: '1,0,1',
      imagePadValue: 'zero',
    });
    expect(message).toContain('imageResizeMode: expected one of stretch, keepAspect, got "crop"');
    expect(message).toContain('imageChannelOrder: expected one of bgr, rgb, got "bgra"');
    expect(message).toContain('imageLayout: expected one of chw, hwc, got "nchw"');
    expect(message).toContain('imageScale: expected a number above 0, or a fraction like 1/255, got 0');
    expect(message).toContain('imageMean: expected a number, or three separated by commas');
    expect(message).toContain('imageStd: expected a number above 0, or three separated by commas');
    expect(message).toContain('imagePadValue: expected a number, got "zero"');
    expect(message).toMatch(/has 7 problems/);
  });

  it('suggest the image key closest to a misspelt one', () => {
    expect(problems({ imageChanelOrder: 'rgb' })).toContain('did you mean "imageChannelOrder"?');
  });
});
