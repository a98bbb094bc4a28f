import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InputHarness,
  oipOutputs,
  post,
  predictions,
  predictionTensors,
  rejection,
  tensors,
  type ServedJob,
} from './input-harness.js';
import { writeInputModel } from './input-models.js';

/** A lossless 3×2 PNG whose pixels are known: RGB of pixel (x, y) = (10x + y, 100 + x, 200 − y). */
const WIDTH = 3;
const HEIGHT = 2;
const rgbAt = (x: number, y: number): [number, number, number] => [10 * x + y, 100 + x, 200 - y];

async function knownPng(): Promise<string> {
  const raw = Buffer.alloc(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++) for (let x = 0; x < WIDTH; x++) raw.set(rgbAt(x, y), (y * WIDTH + x) * 3);
  return (
    await sharp(raw, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
      .png()
      .toBuffer()
  ).toString('base64');
}

/** BigDL's default preprocessing of knownPng by hand: BGR, 0..255, channels first. */
function expectedBgrChw(): number[] {
  const out: number[] = [];
  for (const c of [2, 1, 0])
    for (let y = 0; y < HEIGHT; y++) for (let x = 0; x < WIDTH; x++) out.push(rgbAt(x, y)[c]!);
  return out;
}

const NOT_AN_IMAGE = Buffer.from('this is plain text, not a picture').toString('base64');

describe('image inputs through the worker and HTTP', () => {
  let harness: InputHarness;
  let image: ServedJob;
  let png: string;

  beforeAll(async () => {
    harness = await InputHarness.create();
    png = await knownPng();
    image = await harness.serve('images', await writeInputModel(harness.dir, 'image'));
  });

  afterAll(async () => {
    await harness.close();
  });

  it("BigDL's Arrow string column: BGR, float 0..255, CHW, batch dimension added", async () => {
    const out = tensors(await image.bigdl.predict({ x: { data: [png], shape: [1] } }));
    const y = out['output0'];
    expect(y?.type).toBe('FP32');
    expect(y?.shape).toEqual([1, 3, HEIGHT, WIDTH]);
    expect(Array.from(y?.data as Float32Array)).toEqual(expectedBgrChw());
  });

  it('our client: a BYTES tensor holds one base64 image per row', async () => {
    const out = tensors(await image.client.predict({ x: { data: [png, png], shape: [2], type: 'BYTES' } }));
    expect(out['y']?.shape).toEqual([2, 3, HEIGHT, WIDTH]);
    const data = Array.from(out['y']?.data as Float32Array);
    expect(data).toEqual([...expectedBgrChw(), ...expectedBgrChw()]);
  });

  it('/predict string values', async () => {
    const answer = await post(`${image.http.url}/predict`, { instances: [{ x: png }, { x: png }] });
    expect(answer.status).toBe(200);
    for (const element of predictions(answer)) {
      const [y] = predictionTensors(element);
      expect(y?.shape).toEqual([3, HEIGHT, WIDTH]);
      expect(y?.data).toEqual(expectedBgrChw());
    }
  });

  it('OIP BYTES inputs for a numeric model input', async () => {
    const answer = await post(`${image.http.url}/v2/models/images/infer`, {
      inputs: [{ name: 'x', datatype: 'BYTES', shape: [1], data: [png] }],
    });
    expect(answer.status).toBe(200);
    const [y] = oipOutputs(answer);
    expect(y).toMatchObject({ name: 'y', datatype: 'FP32', shape: [1, 3, HEIGHT, WIDTH] });
    expect(y?.data).toEqual(expectedBgrChw());
  });

  it('corrupt or non-image data is that request’s CS_ERR_INPUT_DECODE with the reason, on every path', async () => {
    const truncated = png.slice(0, 40);
    const viaBigdl = await rejection(image.bigdl.predict({ x: { data: [NOT_AN_IMAGE], shape: [1] } }));
    expect(viaBigdl.code).toBe('CS_ERR_INPUT_DECODE');
    expect(viaBigdl.message).toContain('not a JPEG, PNG or WebP image');
    const viaClient = await rejection(
      image.client.predict({ x: { data: [truncated], shape: [1], type: 'BYTES' } }),
    );
    expect(viaClient.code).toBe('CS_ERR_INPUT_DECODE');
    expect(viaClient.message).toMatch(/input "x": cannot decode the image: /);
    const viaPredict = await post(`${image.http.url}/predict`, { instances: [{ x: 'not base64 !' }] });
    expect(viaPredict.status).toBe(400);
    expect(String(viaPredict.body['error'])).toContain('expected a base64 JPEG or PNG image');
    const viaOip = await post(`${image.http.url}/v2/models/images/infer`, {
      inputs: [{ name: 'x', datatype: 'BYTES', shape: [1], data: [NOT_AN_IMAGE] }],
    });
    expect(viaOip.status).toBe(400);
    expect(String(viaOip.body['error'])).toContain('not a JPEG, PNG or WebP image');
  });

  it('a batch with one bad image answers its neighbours', async () => {
    const job = await harness.serve(
      'images_batch',
      await writeInputModel(harness.dir, 'image'),
      {},
      { startWorker: false },
    );
    // Written before any worker runs, so the worker reads all three in one batch.
    await job.bigdl.enqueue('good-1', { x: { data: [png], shape: [1] } });
    await job.bigdl.enqueue('bad', { x: { data: [NOT_AN_IMAGE], shape: [1] } });
    await job.bigdl.enqueue('good-2', { x: { data: [png], shape: [1] } });
    await job.startWorker();
    const bad = await job.result('bad');
    expect(bad).toMatchObject({ status: 'error', code: 'CS_ERR_INPUT_DECODE' });
    for (const uri of ['good-1', 'good-2']) {
      const good = await job.result(uri);
      expect(good.status).toBe('tensors');
      if (good.status === 'tensors')
        expect(Array.from(good.outputs['output0']?.data as Float32Array)).toEqual(expectedBgrChw());
    }
    const stats = await job.stats();
    expect(stats['batch:2']).toBe('1');
    expect(stats['errors:CS_ERR_INPUT_DECODE']).toBe('1');
  });
});

describe('image preprocessing keys', () => {
  let harness: InputHarness;
  let png: string;

  beforeAll(async () => {
    harness = await InputHarness.create();
    png = await knownPng();
  });

  afterAll(async () => {
    await harness.close();
  });

  it('keepAspect, rgb, scale, mean, std and padValue reach the model as configured', async () => {
    const job = await harness.serve('images_paddle', await writeInputModel(harness.dir, 'image'), {
      imageResize: '10,2',
      imageResizeMode: 'keepAspect',
      imageChannelOrder: 'rgb',
      imageScale: '1/255',
      imageMean: 0.5,
      imageStd: 0.5,
      imagePadValue: -9,
    });
    const out = tensors(await job.client.predict({ x: { data: [png], shape: [1], type: 'BYTES' } }));
    const y = out['y'];
    // Height 2 already: the width stays 3, padded to 10.
    expect(y?.shape).toEqual([1, 3, 2, 10]);
    const data = y?.data as Float32Array;
    for (let c = 0; c < 3; c++) {
      for (let row = 0; row < 2; row++) {
        for (let x = 0; x < 10; x++) {
          const value = data[c * 20 + row * 10 + x]!;
          if (x >= WIDTH) expect(value).toBe(-9);
          else expect(value).toBeCloseTo((rgbAt(x, row)[c]! / 255 - 0.5) / 0.5, 5);
        }
      }
    }
  });

  it("a model's fixed height and width are the resize target; hwc layout; uint8 inputs get whole pixels", async () => {
    const fixed = await harness.serve('images_fixed', await writeInputModel(harness.dir, 'image-fixed'));
    const sized = tensors(await fixed.client.predict({ x: { data: [png], shape: [1], type: 'BYTES' } }));
    expect(sized['y']?.shape).toEqual([1, 3, 4, 6]);

    const hwc = await harness.serve('images_hwc', await writeInputModel(harness.dir, 'image-hwc'), {
      imageLayout: 'hwc',
    });
    const last = tensors(await hwc.client.predict({ x: { data: [png], shape: [1], type: 'BYTES' } }));
    expect(last['y']?.shape).toEqual([1, HEIGHT, WIDTH, 3]);
    expect(Array.from((last['y']?.data as Float32Array).subarray(0, 3))).toEqual([200, 100, 0]);

    const u8 = await harness.serve('images_u8', await writeInputModel(harness.dir, 'image-u8'));
    const whole = tensors(await u8.bigdl.predict({ x: { data: [png], shape: [1] } }));
    expect(Array.from(whole['output0']?.data as Float32Array)).toEqual(expectedBgrChw());
    const typed = tensors(await u8.client.predict({ x: { data: [png], shape: [1], type: 'BYTES' } }));
    expect(typed['y']?.type).toBe('UINT8');
  });

  it('a scale that leaves fractions cannot feed a uint8 input: a clear cast error', async () => {
    const job = await harness.serve('images_u8_scaled', await writeInputModel(harness.dir, 'image-u8'), {
      imageScale: '1/255',
    });
    const error = await rejection(job.client.predict({ x: { data: [png], shape: [1], type: 'BYTES' } }));
    expect(error.code).toBe('CS_ERR_INPUT_MISMATCH');
    expect(error.message).toContain('cannot cast FP32 to UINT8');
  });
});
