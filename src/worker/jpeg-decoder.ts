/**
 * Small JPEGs decoded in the calling thread by mozjpeg compiled to WebAssembly
 * (@jsquash/jpeg). It is the same libjpeg that sharp's libvips uses, so the pixels are the
 * same to the bit, without libvips's per-image set-up (about half a millisecond, more than a
 * small model's inference). Whatever this path is not sure of (EXIF orientation, CMYK, 12-bit,
 * lossless or arithmetic coding, any warning from libjpeg, images larger than
 * FAST_JPEG_MAX_PIXELS) is left to sharp: `decodeSmallJpeg` then returns undefined.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import mozjpegFactory from '@jsquash/jpeg/codec/dec/mozjpeg_dec.js';

/** Beyond this many pixels libvips's native decoder wins over WebAssembly despite its set-up cost. */
export const FAST_JPEG_MAX_PIXELS = 65_536;

export interface RgbaImage {
  /** Interleaved RGBA, 4 bytes a pixel. */
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

interface MozJpegModule {
  decode(data: Uint8Array, preserveOrientation: boolean): RgbaImage | null;
}

interface ModuleOptions {
  noInitialRun: boolean;
  /** Instantiates the decoder read from the package, synchronously (see load). */
  instantiateWasm: (imports: object, done: (instance: WasmInstance) => void) => object;
  print: (line: string) => void;
  printErr: (line: string) => void;
}

/** The part of the WebAssembly API used here (the project's types leave out the DOM library). */
interface WasmInstance {
  readonly exports: object;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
}

type ModuleFactory = (options: ModuleOptions) => Promise<MozJpegModule>;

/** libjpeg's messages during the current decode; a single one sends the image to sharp. */
let messages: string[] = [];
let decoder: Promise<MozJpegModule> | undefined;

function load(): Promise<MozJpegModule> {
  decoder ??= (async () => {
    const require = createRequire(import.meta.url);
    const bytes = await readFile(require.resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm'));
    // The package's types describe browser globals; this is the part used here.
    const factory = mozjpegFactory as unknown as ModuleFactory;
    // Compiled and instantiated synchronously, once: an asynchronous compile does not keep
    // Node's event loop alive, so a process with nothing else pending would exit under it.
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const compiled = new wasm.Module(bytes);
    return factory({
      noInitialRun: true,
      instantiateWasm: (imports, done) => {
        const instance = new wasm.Instance(compiled, imports);
        done(instance);
        return instance.exports;
      },
      print: (line) => messages.push(line),
      printErr: (line) => messages.push(line),
    });
  })();
  return decoder;
}

/** The RGBA pixels of a small plain JPEG, or undefined when sharp should decode it. */
export async function decodeSmallJpeg(bytes: Uint8Array): Promise<RgbaImage | undefined> {
  const header = scanJpegHeader(bytes);
  if (header === undefined || !header.plain || header.width * header.height > FAST_JPEG_MAX_PIXELS) {
    return undefined;
  }
  const module = await load();
  messages = [];
  let image: RgbaImage | null;
  try {
    image = module.decode(bytes, false);
  } catch {
    return undefined;
  }
  if (image === null || messages.length > 0) return undefined;
  if (image.width !== header.width || image.height !== header.height) return undefined;
  // A plain byte view: the pixel code then sees the same kind of array from sharp and from here.
  const data = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return { data, width: image.width, height: image.height };
}

export interface JpegHeader {
  readonly width: number;
  readonly height: number;
  /**
   * Baseline, extended or progressive Huffman coding, 8 bits, grey or YCbCr/RGB, and no EXIF
   * block (which may ask for a rotation): what libjpeg turns into RGBA exactly as libvips does.
   */
  readonly plain: boolean;
}

const SOI = 0xd8;
const SOS = 0xda;
const APP1 = 0xe1;
/** Frame markers libjpeg decodes to RGBA without surprises: baseline, extended, progressive Huffman. */
const PLAIN_FRAMES = new Set([0xc0, 0xc1, 0xc2]);
/** Every start-of-frame marker (C4 is DHT, C8 JPG and CC DAC are not frames). */
const FRAMES = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** Walks the marker segments up to the frame header; undefined when they do not add up. */
export function scanJpegHeader(bytes: Uint8Array): JpegHeader | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== SOI) return undefined;
  let exif = false;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (length < 2 || at + 2 + length > bytes.length) return undefined;
    const body = at + 4;
    if (marker === APP1 && length >= 8 && latin1(bytes, body, 4) === 'Exif') exif = true;
    if (FRAMES.has(marker)) {
      if (length < 8) return undefined;
      const precision = bytes[body]!;
      const height = (bytes[body + 1]! << 8) | bytes[body + 2]!;
      const width = (bytes[body + 3]! << 8) | bytes[body + 4]!;
      const components = bytes[body + 5]!;
      const plain =
        PLAIN_FRAMES.has(marker) && precision === 8 && (components === 1 || components === 3) && !exif;
      return { width, height, plain: plain && width > 0 && height > 0 };
    }
    if (marker === SOS) return undefined;
    at += 2 + length;
  }
  return undefined;
}

function latin1(bytes: Uint8Array, from: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(from, from + length));
}
