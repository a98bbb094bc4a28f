/**
 * Keeps the home's log files bounded. Every process appends to its own file (`O_APPEND`: the
 * JSON lines it logs, and its stdout and stderr), so a file can be rotated under it by copy and
 * truncate: the content goes to `<file>.1` (older copies move up to `<file>.<keep>`, the oldest
 * is dropped) and the file is emptied, after which every writer goes on at its start. Lines
 * written between the copy and the truncation (microseconds) are lost, as with logrotate's
 * copytruncate; nothing has to be told to reopen anything.
 */
import { copyFile, readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';

export interface LogRotation {
  /** A file larger than this is rotated. */
  readonly maxBytes: number;
  /** Rotated copies kept per file. */
  readonly keep: number;
  /** How often the supervisor looks. */
  readonly intervalMs: number;
}

/** 64 MB per file and 3 older copies: at most 256 MB per process, looked at every 30 s. */
export const DEFAULT_LOG_ROTATION: LogRotation = { maxBytes: 64 * 1024 * 1024, keep: 3, intervalMs: 30_000 };

/** Rotates `file` when it is larger than maxBytes; true when it did. */
export async function rotateIfLarge(
  file: string,
  rotation: Omit<LogRotation, 'intervalMs'>,
): Promise<boolean> {
  const size = (await stat(file).catch(() => undefined))?.size ?? 0;
  if (size <= rotation.maxBytes) return false;
  await rm(`${file}.${rotation.keep}`, { force: true });
  for (let n = rotation.keep - 1; n >= 1; n--) {
    await rename(`${file}.${n}`, `${file}.${n + 1}`).catch(() => undefined);
  }
  await copyFile(file, `${file}.1`);
  await truncate(file, 0);
  return true;
}

/** Rotates every `*.log` of `dir` that has grown past maxBytes; the names of those rotated. */
export async function rotateLogs(dir: string, rotation: Omit<LogRotation, 'intervalMs'>): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [])).filter((name) => name.endsWith('.log'));
  const rotated: string[] = [];
  for (const name of names) {
    if (await rotateIfLarge(join(dir, name), rotation)) rotated.push(name);
  }
  return rotated;
}
