/**
 * HTTP body compression as Triton's clients use it: `Content-Encoding: gzip` or `deflate` on
 * requests (their request_compression_algorithm), and compressed answers when
 * `Accept-Encoding` asks for them (response_compression_algorithm). "deflate" is the zlib
 * format (RFC 1950), as Triton's client writes it; raw deflate is taken too, as browsers do.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { CsError, reasonOf } from '../errors/registry.js';

export type BodyEncoding = 'gzip' | 'deflate';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);

function headerText(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().toLowerCase();
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

/**
 * The request body as sent before its Content-Encoding. Inflation stops at `limit` bytes (the
 * frontend's bodyLimit), so a small body that would inflate to gigabytes is a 413, not an
 * out-of-memory.
 */
export async function decodeRequestBody(
  body: Buffer,
  contentEncoding: string | string[] | undefined,
  limit: number,
): Promise<Buffer> {
  const encoding = headerText(contentEncoding);
  if (encoding === '' || encoding === 'identity') return body;
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
    throw new CsError(
      'CS_ERR_HTTP_ENCODING',
      `Content-Encoding ${JSON.stringify(encoding)} is not supported; send the body as is, gzip or deflate`,
    );
  }
  const options = { maxOutputLength: limit };
  try {
    if (encoding !== 'deflate') return await gunzip(body, options);
    try {
      return await inflate(body, options);
    } catch (error) {
      if (errorCode(error) !== 'Z_DATA_ERROR') throw error;
      return await inflateRaw(body, options);
    }
  } catch (error) {
    if (errorCode(error) === 'ERR_BUFFER_TOO_LARGE') {
      throw new CsError(
        'CS_ERR_HTTP_BODY_TOO_LARGE',
        `the request body inflates past the limit of ${limit} bytes (bodyLimit)`,
      );
    }
    throw new CsError(
      'CS_ERR_HTTP_BAD_REQUEST',
      `the body is not valid ${encoding === 'deflate' ? 'deflate' : 'gzip'} data (Content-Encoding: ${encoding}): ${reasonOf(error)}`,
    );
  }
}

/**
 * The encoding to answer with: gzip, else deflate, when Accept-Encoding accepts it (a q of 0
 * refuses; `*` accepts gzip); undefined otherwise, and then the answer goes out as is.
 */
export function answerEncoding(acceptEncoding: string | string[] | undefined): BodyEncoding | undefined {
  const text = headerText(acceptEncoding);
  if (text === '') return undefined;
  const accepted = new Set<string>();
  const refused = new Set<string>();
  for (const part of text.split(',')) {
    const [name = '', ...params] = part.split(';').map((s) => s.trim());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) refused.add(name);
    else accepted.add(name);
  }
  const takes = (name: string): boolean => accepted.has(name) || (accepted.has('*') && !refused.has(name));
  if (takes('gzip') || accepted.has('x-gzip')) return 'gzip';
  if (takes('deflate')) return 'deflate';
  return undefined;
}

export function compressBody(payload: string | Buffer, encoding: BodyEncoding): Promise<Buffer> {
  return encoding === 'gzip' ? gzip(payload) : deflate(payload);
}
