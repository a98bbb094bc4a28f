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
 * then the acknowledgement and deletion of the entries, then the counters. As a pipeline
 * this was a dozen commands for a single record, and building them cost the worker more
 * than running a small model. Redis refuses the whole script up front when it is out of
 * memory, so a batch is never half answered.
 *
 * KEYS: stream, stats. ARGV: group, ttl, #results, #ids, #counters, #float counters, then
 * per result: key, #fields, fields..., reply channel ('' for none), reply message; then the
 * ids; then counter name/increment pairs; then float counter name/increment pairs.
 */
const ANSWER_BATCH = `
local i = 7
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
return 1
`;

interface AnswerCommand {
  csAnswerBatch(...args: (string | Buffer)[]): Promise<unknown>;
}

/** Makes `writeBatch` available on this connection (ioredis sends EVALSHA, EVAL once when Redis lacks the script). */
export function defineAnswerScript(redis: Redis): void {
  redis.defineCommand('csAnswerBatch', { numberOfKeys: 2, lua: ANSWER_BATCH });
}

export function answerScriptArgs(batch: BatchWrite): (string | Buffer)[] {
  const args: (string | Buffer)[] = [
    batch.stream,
    batch.statsKey,
    batch.group,
    String(batch.ttlSeconds),
    String(batch.results.length),
    String(batch.ids.length),
    String(batch.counters.size),
    String(batch.floatCounters.size),
  ];
  for (const result of batch.results) {
    args.push(result.key, String(result.fields.length), ...result.fields);
    args.push(result.reply?.channel ?? '', result.reply?.message ?? '');
  }
  args.push(...batch.ids);
  for (const [name, by] of batch.counters) args.push(name, String(by));
  for (const [name, by] of batch.floatCounters) args.push(name, String(by));
  return args;
}

export function writeBatch(redis: Redis, batch: BatchWrite): Promise<unknown> {
  return (redis as unknown as AnswerCommand).csAnswerBatch(...answerScriptArgs(batch));
}
