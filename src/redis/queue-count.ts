/*
 * The count `maxQueueLength` bounds, in one place for the producers that enforce it (in Lua,
 * inside their XADD scripts) and for the readers that show it (/metrics, the dashboard, list).
 *
 * The requests queued or in flight are the stream's entries (workers delete what they answer)
 * plus the packs' extra requests (keys.packedExtra). An empty stream holds no packs: the extra
 * count is reset there, so a count left behind by a crash does not hold the queue shut.
 */

/** Lua: `queued()` for a script whose KEYS are the stream, then its packed-extra key. */
export const QUEUED_LUA = `
local function queued()
  local len = redis.call('XLEN', KEYS[1])
  if len == 0 then redis.call('DEL', KEYS[2]) return 0 end
  return len + (tonumber(redis.call('GET', KEYS[2])) or 0)
end
`;

/** The same count from XLEN of the stream and GET of its packed-extra key, as QUEUED_LUA counts. */
export function countedRequests(entries: number, packedExtra: number): number {
  return entries === 0 ? 0 : entries + packedExtra;
}
