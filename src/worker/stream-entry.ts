import { STREAM_FIELDS } from '../contracts/stream-entry.js';

/** One stream entry as XREADGROUP/XCLAIM return it with Buffer replies: id and field/value pairs. */
export interface StreamEntry {
  readonly id: string;
  readonly fields: ReadonlyMap<string, Buffer>;
  /** How many times Redis has delivered it (1 on a first read). */
  readonly deliveries: number;
}

/** Parses `[[id, [f, v, f, v...]], ...]` (Buffers); entries deleted while pending come back with null fields and are skipped. */
export function parseEntries(
  raw: unknown,
  deliveries: ReadonlyMap<string, number> = new Map(),
): StreamEntry[] {
  if (!Array.isArray(raw)) return [];
  const entries: StreamEntry[] = [];
  for (const item of raw) {
    if (!Array.isArray(item) || item.length < 2) continue;
    const id = String(item[0]);
    const list: unknown = item[1];
    if (!Array.isArray(list)) continue;
    const fields = new Map<string, Buffer>();
    for (let i = 0; i + 1 < list.length; i += 2) {
      const value: unknown = list[i + 1];
      if (Buffer.isBuffer(value)) fields.set(String(list[i]), value);
    }
    entries.push({ id, fields, deliveries: deliveries.get(id) ?? 1 });
  }
  return entries;
}

/** Entries of the first stream of an XREADGROUP reply `[[stream, entries]]`. */
export function parseReadGroupReply(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw) || raw.length === 0) return [];
  const first: unknown = raw[0];
  if (!Array.isArray(first) || first.length < 2) return [];
  return parseEntries(first[1]);
}

/** Requests an entry holds: a pack's `count`, else one. */
export function requestCount(entry: StreamEntry): number {
  const count = Number(entry.fields.get(STREAM_FIELDS.count)?.toString() ?? 1);
  return Number.isSafeInteger(count) && count > 1 ? count : 1;
}

/**
 * The entries of one read in batches of at most `maxRequests` requests, in order (an entry
 * holding more stays whole, alone): a read of several packs is then decoded and run as several
 * batches, so a model on its inference thread runs one while the next is decoded.
 */
export function batchesOfRequests(entries: readonly StreamEntry[], maxRequests: number): StreamEntry[][] {
  const batches: StreamEntry[][] = [];
  let batch: StreamEntry[] = [];
  let requests = 0;
  for (const entry of entries) {
    const count = requestCount(entry);
    if (batch.length > 0 && requests + count > maxRequests) {
      batches.push(batch);
      batch = [];
      requests = 0;
    }
    batch.push(entry);
    requests += count;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** The millisecond part of a stream id: when the entry was added. */
export function entryTime(id: string): number {
  const dash = id.indexOf('-');
  return Number(dash < 0 ? id : id.slice(0, dash));
}

/** Compares two stream ids `ms-seq`. */
export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}
