/** The bytes of JSON's structure, for the readers that work on a body's bytes. */
export const JSON_BYTE = {
  quote: 0x22,
  backslash: 0x5c,
  colon: 0x3a,
  comma: 0x2c,
  openArray: 0x5b,
  closeArray: 0x5d,
  openObject: 0x7b,
  closeObject: 0x7d,
  minus: 0x2d,
  plus: 0x2b,
  dot: 0x2e,
  zero: 0x30,
  nine: 0x39,
  upperE: 0x45,
  lowerE: 0x65,
} as const;

/** JSON's whitespace: space, line feed, carriage return, tab. A read past the end is not. */
export function isJsonSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
