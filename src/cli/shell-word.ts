/**
 * A word a POSIX shell reads back as `value`: as is when it holds only safe characters,
 * else single-quoted. Commands the CLI prints for the user must run as printed, also for a
 * path with a space in it.
 */
export function shellWord(value: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
