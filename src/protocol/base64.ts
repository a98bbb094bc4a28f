import { CsError } from '../errors/registry.js';

/** Standard or URL-safe alphabet, optional padding; no whitespace (BigDL's encoders write none). */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * The bytes of base64 `text`. Node's decoder silently skips characters outside the
 * alphabet, which would turn a corrupt payload into a confusing Arrow error; this checks first.
 * `what` names the field in messages.
 */
export function decodeBase64(text: string, what: string): Buffer {
  if (text.length === 0)
    throw new CsError('CS_ERR_INPUT_DECODE', `${what} is empty: expected base64 of an Arrow IPC stream`);
  if (text.length % 4 === 1 || !BASE64.test(text)) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `${what} is not valid base64 (${text.length} characters starting "${text.slice(0, 16)}"): expected base64 of an Arrow IPC stream`,
    );
  }
  return Buffer.from(text, 'base64');
}
