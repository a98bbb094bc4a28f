import type { Redis } from 'ioredis';

/** One result hash to write (with its TTL), and the reply to publish after it. */
export interface ResultWrite {
  readonly key: string;
  /** field, value, field, value, ... */
  readonly fields: readonly (string | Buffer)[];
  readonly reply: { readonly channel: string; readonly message: Buffer } | undefined;
}

export interface BatchWrite {
  readonly stream: string;
  readonly statsKey: string;
  /** The current statistics slot (stats-schema.ts), its expiry and what to add to it. */
  readonly slot: {
    readonly key: string;
    readonly ttlSeconds: number;
    readonly counters: ReadonlyMap<string, number>;
  };
  /** Epoch ms written as the totals' last_inference; undefined when nothing succeeded. */
  readonly lastInference: number | undefined;
  readonly group: string;
  readonly ttlSeconds: number;
  readonly results: readonly ResultWrite[];
  /** Entry ids to acknowledge and delete once every result is written. */
  readonly ids: readonly string[];
  readonly counters: ReadonlyMap<string, number>;
  readonly floatCounters: ReadonlyMap<string, number>;
}

/*
 * Everything one batch writes, in one call: every result hash with its TTL and its reply,
 * then the acknowledgement and deletion of the entries, then the counters (totals and the
 * current 10-second slot, so statistics cost no round trip of their own). As a pipeline
 * this was a dozen commands for a single record, and building them cost the worker more
 * than running a small model. Redis refuses the whole script up front when it is out of
 * memory, so a batch is never half answered.
 *
 * KEYS: stream, stats, slot. ARGV: group, ttl, #results, #ids, #counters, #float counters,
 * slot ttl, #slot counters, last inference ('' for none), then per result: key, #fields,
 * fields..., reply channel ('' for none), reply message; then the ids; then counter
 * name/increment pairs; then float counter name/increment pairs; then slot counter pairs.
 */
const ANSWER_BATCH = `
local i = 10
local ttl = ARGV[2]
for _ = 1, tonumber(ARGV[3]) do
  local key = ARGV[i]
  local count = tonumber(ARGV[i + 1])
  i = i + 2
  redis.call('HSET', key, unpack(ARGV, i, i + count - 1))
  i = i + count
  redis.call('EXPIRE', key, ttl)
  if ARGV[i] ~= '' then redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
  i = i + 2
end
local ids = tonumber(ARGV[4])
if ids > 0 then
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, i, i + ids - 1))
  redis.call('XDEL', KEYS[1], unpack(ARGV, i, i + ids - 1))
end
i = i + ids
for _ = 1, tonumber(ARGV[5]) do
  redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
for _ = 1, tonumber(ARGV[6]) do
  redis.call('HINCRBYFLOAT', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
if ARGV[9] ~= '' then redis.call('HSET', KEYS[2], 'last_inference', ARGV[9]) end
local slots = tonumber(ARGV[8])
for _ = 1, slots do
  redis.call('HINCRBY', KEYS[3], ARGV[i], ARGV[i + 1])
  i = i + 2
end
if slots > 0 then redis.call('EXPIRE', KEYS[3], ARGV[7]) end
return 1
`;

interface AnswerCommand {
  csAnswerBatch(...args: (string | Buffer)[]): Promise<unknown>;
}

/** Makes `writeBatch` available on this connection (ioredis sends EVALSHA, EVAL once when Redis lacks the script). */
export function defineAnswerScript(redis: Redis): void {
  redis.defineCommand('csAnswerBatch', { numberOfKeys: 3, lua: ANSWER_BATCH });
}

export function answerScriptArgs(batch: BatchWrite): (string | Buffer)[] {
  const args: (string | Buffer)[] = [
    batch.stream,
    batch.statsKey,
    batch.slot.key,
    batch.group,
    String(batch.ttlSeconds),
    String(batch.results.length),
    String(batch.ids.length),
    String(batch.counters.size),
    String(batch.floatCounters.size),
    String(batch.slot.ttlSeconds),
    String(batch.slot.counters.size),
    batch.lastInference === undefined ? '' : String(batch.lastInference),
  ];
  for (const result of batch.results) {
    args.push(result.key, String(result.fields.length), ...result.fields);
    args.push(result.reply?.channel ?? '', result.reply?.message ?? '');
  }
  args.push(...batch.ids);
  for (const [name, by] of batch.counters) args.push(name, String(by));
  for (const [name, by] of batch.floatCounters) args.push(name, String(by));
  for (const [name, by] of batch.slot.counters) args.push(name, String(by));
  return args;
}

export function writeBatch(redis: Redis, batch: BatchWrite): Promise<unknown> {
  return (redis as unknown as AnswerCommand).csAnswerBatch(...answerScriptArgs(batch));
}
