import { CsError } from '../errors/registry.js';

/**
 * The bytes of base64 `text` (standard or URL-safe alphabet, padding optional, no
 * whitespace). Node's decoder silently skips characters outside the alphabet, which would
 * turn a corrupt payload into a confusing Arrow error; every skipped character shortens the
 * output, so comparing with the length the text implies catches them without a second pass
 * over the text. `what` names the field in messages.
 */
export function decodeBase64(text: string, what: string): Buffer {
  if (text.length === 0)
    throw new CsError('CS_ERR_INPUT_DECODE', `${what} is empty: expected base64 of an Arrow IPC stream`);
  let padding = 0;
  while (padding < 2 && text.charCodeAt(text.length - 1 - padding) === 0x3d) padding++;
  const digits = text.length - padding;
  const bytes = Buffer.from(text, 'base64');
  if (digits % 4 === 1 || bytes.length !== Math.floor((digits * 3) / 4)) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `${what} is not valid base64 (${text.length} characters starting "${text.slice(0, 16)}"): expected base64 of an Arrow IPC stream`,
    );
  }
  return bytes;
}
