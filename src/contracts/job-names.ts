/**
 * What a job name may be and the result prefix derived from it, shared by the config, the
 * clients and the Redis key builders (src/redis/keys.ts). Job names match
 * `[A-Za-z0-9_.-]{1,64}` (no `:`), so a uri appended after `<job>:` can never reach another
 * job's keys.
 */
export const JOB_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** BigDL's result prefix; the HTTP frontend's `redisOutputQueue` default. */
export function resultPrefix(job: string): string {
  return `cluster-serving_${job}:`;
}
