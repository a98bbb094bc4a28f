import { closeSync, openSync, readdirSync, readSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CsError, reasonOf } from '../errors/registry.js';

const EXPECTED = 'modelPath must be a directory holding exactly one .onnx model, or the .onnx file';

/**
 * The absolute path of the ONNX model that `modelPath` names: the file itself, or the one
 * `.onnx` file in the directory. Throws CS_ERR_MODEL_NOT_FOUND when there is nothing there
 * and CS_ERR_MODEL_LOAD when what is there cannot be the model (several candidates,
 * unreadable, not ONNX). The ONNX check is cheap, so a bad path fails at `start` rather
 * than in every worker: the full parse is onnxruntime's.
 */
export function resolveModelFile(modelPath: string): string {
  const path = resolve(expandHome(modelPath));
  const stats = statOrThrow(path, (code) =>
    code === 'ENOENT' || code === 'ENOTDIR'
      ? new CsError('CS_ERR_MODEL_NOT_FOUND', `model path ${path} does not exist (${EXPECTED})`)
      : undefined,
  );
  if (!stats.isDirectory() && !stats.isFile()) {
    throw new CsError(
      'CS_ERR_MODEL_LOAD',
      `model path ${path} is neither a file nor a directory (${EXPECTED})`,
    );
  }
  const file = stats.isDirectory() ? onlyOnnxFileIn(path) : path;
  checkLooksLikeOnnx(file);
  return file;
}

/** `~/models` as a shell would read it; YAML leaves the tilde alone. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

function statOrThrow(path: string, special: (code: string) => CsError | undefined): Stats {
  try {
    return statSync(path);
  } catch (error) {
    const code = errorCode(error);
    throw (
      special(code) ?? new CsError('CS_ERR_MODEL_LOAD', `cannot read model path ${path}: ${reasonOf(error)}`)
    );
  }
}

function onlyOnnxFileIn(dir: string): string {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (error) {
    throw new CsError('CS_ERR_MODEL_LOAD', `cannot list the model directory ${dir}: ${reasonOf(error)}`);
  }
  // A directory called `x.onnx` (or a dangling link) is not a model file.
  const onnx = names.filter((name) => name.toLowerCase().endsWith('.onnx') && isFile(join(dir, name)));
  if (onnx.length === 1 && onnx[0] !== undefined) return join(dir, onnx[0]);
  if (onnx.length > 1) {
    throw new CsError(
      'CS_ERR_MODEL_LOAD',
      `several .onnx files in ${dir}: ${onnx.join(', ')}; keep one there, or set modelPath to the file to serve`,
    );
  }
  const others = names.length === 0 ? 'it is empty' : `it holds ${listSome(names)}`;
  throw new CsError(
    'CS_ERR_MODEL_NOT_FOUND',
    `no .onnx file in ${dir} (${others}); cluster-serving runs ONNX models: export yours to ONNX and put it there`,
  );
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function listSome(names: readonly string[]): string {
  const shown = names.slice(0, 5).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/**
 * An ONNX file is a ModelProto whose first field is ir_version (field 1, varint): byte
 * 0x08, then a small version number. Text (a Git LFS pointer, an HTML error page saved as
 * .onnx) and other formats fail here with a message that says what the file looks like.
 */
function checkLooksLikeOnnx(file: string): void {
  const head = readHead(file, 32);
  if (head.length === 0) throw new CsError('CS_ERR_MODEL_LOAD', `model file ${file} is empty`);
  const text = head.toString('latin1');
  if (text.startsWith('version https://git-lfs')) {
    throw new CsError(
      'CS_ERR_MODEL_LOAD',
      `model file ${file} is a Git LFS pointer, not the model: run \`git lfs pull\` to fetch it`,
    );
  }
  const version = head[1];
  if (head[0] !== 0x08 || version === undefined || version === 0 || version >= 0x80) {
    const looksLike = isMostlyText(head)
      ? 'it looks like text'
      : `it starts with bytes ${hex(head.subarray(0, 4))}`;
    throw new CsError(
      'CS_ERR_MODEL_LOAD',
      `model file ${file} is not an ONNX model (${looksLike}; an ONNX file starts with 0x08 and its IR version)`,
    );
  }
}

function readHead(file: string, length: number): Buffer {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new CsError('CS_ERR_MODEL_LOAD', `cannot read model file ${file}: ${reasonOf(error)}`);
  }
  try {
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, 0);
    return buffer.subarray(0, read);
  } catch (error) {
    throw new CsError('CS_ERR_MODEL_LOAD', `cannot read model file ${file}: ${reasonOf(error)}`);
  } finally {
    closeSync(fd);
  }
}

function isMostlyText(bytes: Buffer): boolean {
  let printable = 0;
  for (const byte of bytes)
    if ((byte >= 0x20 && byte < 0x7f) || byte === 0x0a || byte === 0x0d || byte === 0x09) printable += 1;
  return printable >= bytes.length * 0.9;
}

function hex(bytes: Buffer): string {
  return [...bytes].map((byte) => `0x${byte.toString(16).padStart(2, '0')}`).join(' ');
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string')
    return error.code;
  return '';
}
