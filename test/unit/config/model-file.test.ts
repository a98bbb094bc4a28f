import { isAbsolute, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveModelFile } from '../../../src/config/model-file.js';
import { CsError, type ErrorCode } from '../../../src/errors/registry.js';
import { ONNX_BYTES, TempDirs } from './temp-model.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

function failure(path: string): CsError {
  try {
    resolveModelFile(path);
  } catch (error) {
    if (error instanceof CsError) return error;
    throw error;
  }
  throw new Error(`resolveModelFile(${path}) did not throw`);
}

function expectFailure(path: string, code: ErrorCode, ...fragments: string[]): void {
  const error = failure(path);
  expect(error.code).toBe(code);
  for (const fragment of fragments) expect(error.message).toContain(fragment);
}

describe('resolveModelFile', () => {
  it('finds the one .onnx file of a directory, whatever else it holds', () => {
    const dir = temp.make({ 'model.onnx': ONNX_BYTES, 'labels.txt': 'cat\ndog\n', 'sub.onnx/': '' });
    expect(resolveModelFile(dir)).toBe(join(dir, 'model.onnx'));
  });

  it('matches the .onnx extension case-insensitively', () => {
    const dir = temp.make({ 'ResNet.ONNX': ONNX_BYTES });
    expect(resolveModelFile(dir)).toBe(join(dir, 'ResNet.ONNX'));
  });

  it('accepts the model file itself, by content rather than by name', () => {
    const dir = temp.make({ 'model.onnx': ONNX_BYTES, 'weights.bin': ONNX_BYTES });
    expect(resolveModelFile(join(dir, 'model.onnx'))).toBe(join(dir, 'model.onnx'));
    expect(resolveModelFile(join(dir, 'weights.bin'))).toBe(join(dir, 'weights.bin'));
  });

  it('returns an absolute path for a relative one', () => {
    const dir = temp.modelDir();
    const fromCwd = relative(process.cwd(), dir);
    expect(isAbsolute(fromCwd)).toBe(false);
    expect(resolveModelFile(fromCwd)).toBe(join(dir, 'model.onnx'));
  });

  it('reports a missing path as not found, naming it', () => {
    const missing = join(temp.make(), 'nowhere');
    expectFailure(missing, 'CS_ERR_MODEL_NOT_FOUND', missing, 'does not exist');
  });

  it('reports an empty directory as not found', () => {
    const dir = temp.make();
    expectFailure(dir, 'CS_ERR_MODEL_NOT_FOUND', `no .onnx file in ${dir}`, 'it is empty');
  });

  it('names what a directory without an .onnx file holds (a model in another format)', () => {
    const dir = temp.make({ 'model.pt': 'x', 'saved_model.pb': 'y' });
    expectFailure(dir, 'CS_ERR_MODEL_NOT_FOUND', dir, 'model.pt', 'saved_model.pb', 'export yours to ONNX');
  });

  it('refuses a directory with several .onnx files and names them', () => {
    const dir = temp.make({ 'a.onnx': ONNX_BYTES, 'b.onnx': ONNX_BYTES });
    expectFailure(dir, 'CS_ERR_MODEL_LOAD', dir, 'a.onnx, b.onnx', 'set modelPath to the file');
  });

  it('refuses an empty file', () => {
    const dir = temp.make({ 'model.onnx': Buffer.alloc(0) });
    expectFailure(dir, 'CS_ERR_MODEL_LOAD', join(dir, 'model.onnx'), 'is empty');
  });

  it('refuses a text file saved as .onnx', () => {
    const dir = temp.make({ 'model.onnx': '<html><body>404 not found</body></html>' });
    expectFailure(dir, 'CS_ERR_MODEL_LOAD', join(dir, 'model.onnx'), 'not an ONNX model', 'looks like text');
  });

  it('recognises a Git LFS pointer and says how to fetch the model', () => {
    const pointer = 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1234\n';
    const dir = temp.make({ 'model.onnx': pointer });
    expectFailure(dir, 'CS_ERR_MODEL_LOAD', 'Git LFS pointer', 'git lfs pull');
  });

  it('refuses other binary formats, showing their first bytes', () => {
    const dir = temp.make({ 'model.onnx': Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x01]) });
    expectFailure(dir, 'CS_ERR_MODEL_LOAD', 'not an ONNX model', '0x50 0x4b 0x03 0x04');
  });

  it('refuses 0x08 without a plausible IR version after it', () => {
    const truncated = temp.make({ 'model.onnx': Buffer.from([0x08]) });
    expectFailure(truncated, 'CS_ERR_MODEL_LOAD', 'not an ONNX model');
    const zero = temp.make({ 'model.onnx': Buffer.from([0x08, 0x00, 0x12]) });
    expectFailure(zero, 'CS_ERR_MODEL_LOAD', 'not an ONNX model');
  });
});
