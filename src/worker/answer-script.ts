import type { Redis } from 'ioredis';

/**
 * One stream entry to settle: the result hash to write (with its TTL) and the reply to
 * publish, or neither for an entry that cannot be answered and is only removed. A pack entry
 * (several requests) has one reply carrying every answer, and no hash.
 */
export interface EntryAnswer {
  readonly id: string;
  /** Stats fields to add 1 to each when this entry is settled here ('errors:<code>', 'dropped:no_uri'). */
  readonly counters: readonly string[];
  /** Requests this entry answers: 1, a pack's size, or 0 for an entry removed unanswered. */
  readonly answered: number;
  /** Requests the entry holds beyond one (a pack's), taken off keys.packedExtra when it is settled. */
  readonly extra: number;
  readonly hash:
    | {
        readonly key: string;
        /** field, value, field, value, ... */
        readonly fields: readonly (string | Buffer)[];
      }
    | undefined;
  readonly reply: { readonly channel: string; readonly message: Buffer } | undefined;
}

export interface BatchWrite {
  readonly stream: string;
  readonly statsKey: string;
  /** keys.packedExtra of the job. */
  readonly packedExtraKey: string;
  /** The current statistics slot (stats-schema.ts), its expiry and what to add to it. */
  readonly slot: {
    readonly key: string;
    readonly ttlSeconds: number;
    readonly counters: ReadonlyMap<string, number>;
  };
  /** Epoch ms written as the totals' last_inference; undefined when nothing succeeded. */
  readonly lastInference: number | undefined;
  readonly group: string;
  /** The consumer that read (or claimed) the entries: only its pending entries are answered. */
  readonly consumer: string;
  readonly ttlSeconds: number;
  readonly entries: readonly EntryAnswer[];
  /** Stats fields that count answered entries: each gets the number of results written. */
  readonly answeredCounters: readonly string[];
  readonly counters: ReadonlyMap<string, number>;
  readonly floatCounters: ReadonlyMap<string, number>;
}

/** Stats field counting entries removed unanswered because they carry no usable uri. */
export const DROPPED_NO_URI = 'dropped:no_uri';

/** Stats field counting pack entries removed unanswered because their requests cannot be read. */
export const DROPPED_BAD_PACK = 'dropped:bad_pack';

/** Stats field counting answers dropped because their entry was no longer pending for the worker. */
export const DROPPED_NOT_PENDING = 'dropped:not_pending';

/*
 * Everything one batch writes, in one call: every result hash with its TTL and its reply,
 * then the acknowledgement and deletion of the entries, then the counters (totals and the
 * current 10-second slot, so statistics cost no round trip of their own). As a pipeline
 * this was a dozen commands for a single record, and building them cost the worker more
 * than running a small model. Redis refuses the whole script up front when it is out of
 * memory, so a batch is never half answered.
 *
 * At most one answer per entry: an entry is answered only while it is still pending for
 * this consumer. Another worker may have claimed it (this one looked dead) and answered it
 * or be running it; then this worker's result is dropped and the entry left alone. The check
 * and the writes run in one script, so nothing can claim the entry in between. Checked per
 * entry id, never per uri: BigDL clients reuse uris.
 *
 * KEYS: stream, stats, slot, packed extra. ARGV: group, consumer, ttl, #entries, #counters,
 * #float counters, #answered counters, slot ttl, #slot counters, last inference ('' for
 * none), then per entry: id, #counters, counters..., requests answered, extra requests, result
 * key ('' for none), #fields, fields..., reply channel ('' for none), reply message; then
 * counter name/increment pairs; then float counter name/increment pairs; then the answered
 * counters' names; then slot counter name/increment pairs. Returns the ids whose answer was
 * dropped.
 */
const ANSWER_BATCH = `
local stream, stats, slot, extraKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local group, consumer, ttl = ARGV[1], ARGV[2], ARGV[3]
local i = 11
local settled, dropped, written = {}, {}, 0
for _ = 1, tonumber(ARGV[4]) do
  local id, ncounters = ARGV[i], tonumber(ARGV[i + 1])
  local firstCounter = i + 2
  i = firstCounter + ncounters
  local answered, extra, key, count = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), ARGV[i + 2], tonumber(ARGV[i + 3])
  i = i + 4
  local mine = #redis.call('XPENDING', stream, group, id, id, 1, consumer) > 0
  if mine then
    if key ~= '' then
      redis.call('HSET', key, unpack(ARGV, i, i + count - 1))
      redis.call('EXPIRE', key, ttl)
    end
    if ARGV[i + count] ~= '' then redis.call('PUBLISH', ARGV[i + count], ARGV[i + count + 1]) end
    written = written + answered
    for c = firstCounter, firstCounter + ncounters - 1 do redis.call('HINCRBY', stats, ARGV[c], 1) end
    if extra > 0 and redis.call('DECRBY', extraKey, extra) <= 0 then redis.call('DEL', extraKey) end
    settled[#settled + 1] = id
  else
    dropped[#dropped + 1] = id
  end
  i = i + count + 2
end
if #settled > 0 then
  redis.call('XACK', stream, group, unpack(settled))
  redis.call('XDEL', stream, unpack(settled))
end
for _ = 1, tonumber(ARGV[5]) do
  redis.call('HINCRBY', stats, ARGV[i], ARGV[i + 1])
  i = i + 2
end
for _ = 1, tonumber(ARGV[6]) do
  redis.call('HINCRBYFLOAT', stats, ARGV[i], ARGV[i + 1])
  i = i + 2
end
for _ = 1, tonumber(ARGV[7]) do
  if written > 0 then redis.call('HINCRBY', stats, ARGV[i], written) end
  i = i + 1
end
if #dropped > 0 then redis.call('HINCRBY', stats, '${DROPPED_NOT_PENDING}', #dropped) end
if ARGV[10] ~= '' then redis.call('HSET', stats, 'last_inference', ARGV[10]) end
local slots = tonumber(ARGV[9])
for _ = 1, slots do
  redis.call('HINCRBY', slot, ARGV[i], ARGV[i + 1])
  i = i + 2
end
if slots > 0 then redis.call('EXPIRE', slot, ARGV[8]) end
return dropped
`;

interface AnswerCommand {
  csAnswerBatch(...args: (string | Buffer)[]): Promise<unknown>;
}

/** Makes `writeBatch` available on this connection (ioredis sends EVALSHA, EVAL once when Redis lacks the script). */
export function defineAnswerScript(redis: Redis): void {
  redis.defineCommand('csAnswerBatch', { numberOfKeys: 4, lua: ANSWER_BATCH });
}

export function answerScriptArgs(batch: BatchWrite): (string | Buffer)[] {
  const args: (string | Buffer)[] = [
    batch.stream,
    batch.statsKey,
    batch.slot.key,
    batch.packedExtraKey,
    batch.group,
    batch.consumer,
    String(batch.ttlSeconds),
    String(batch.entries.length),
    String(batch.counters.size),
    String(batch.floatCounters.size),
    String(batch.answeredCounters.length),
    String(batch.slot.ttlSeconds),
    String(batch.slot.counters.size),
    batch.lastInference === undefined ? '' : String(batch.lastInference),
  ];
  for (const { id, counters, answered, extra, hash, reply } of batch.entries) {
    args.push(id, String(counters.length), ...counters, String(answered), String(extra));
    args.push(hash?.key ?? '', String(hash?.fields.length ?? 0));
    if (hash !== undefined) args.push(...hash.fields);
    args.push(reply?.channel ?? '', reply?.message ?? '');
  }
  for (const [name, by] of batch.counters) args.push(name, String(by));
  for (const [name, by] of batch.floatCounters) args.push(name, String(by));
  args.push(...batch.answeredCounters);
  for (const [name, by] of batch.slot.counters) args.push(name, String(by));
  return args;
}

/** Writes the batch; resolves to the ids whose answer was dropped (no longer pending for this consumer). */
export async function writeBatch(redis: Redis, batch: BatchWrite): Promise<string[]> {
  const dropped = await (redis as unknown as AnswerCommand).csAnswerBatch(...answerScriptArgs(batch));
  return Array.isArray(dropped) ? dropped.map(String) : [];
}
