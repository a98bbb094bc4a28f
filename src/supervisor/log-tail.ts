import { open } from 'node:fs/promises';

/**
 * The last lines of a log file, for the "last error" of a process that died without telling
 * us why. JSON lines written by pino are reduced to their `msg` (and `err.message`).
 */
export async function tailLines(file: string, count: number, maxBytes = 16 * 1024): Promise<string[]> {
  let text: string;
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, maxBytes);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      text = buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return [];
  }
  const lines = text.split('\n').map((line) => line.trim());
  return lines
    .filter((line) => line !== '')
    .slice(-count)
    .map(readableLine);
}

function readableLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const value = JSON.parse(line) as { msg?: unknown; err?: { message?: unknown } };
    const msg = typeof value.msg === 'string' ? value.msg : '';
    const err = typeof value.err?.message === 'string' ? value.err.message : '';
    return [msg, err].filter((part) => part !== '').join(': ') || line;
  } catch {
    return line;
  }
}
