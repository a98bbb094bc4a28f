/**
 * One entry of a job's input stream, as producers (client, frontend) write it with XADD and
 * workers read it. The first three fields are BigDL's wire format; `reply` and `deadline`
 * are ours and optional, so BigDL's own clients still work.
 */
export const STREAM_FIELDS = {
  /** The request's id; its result hash is `<resultPrefix><uri>`. */
  uri: 'uri',
  /** How `data` is encoded (SERDE below); absent or empty: BigDL's base64 Arrow. */
  serde: 'serde',
  data: 'data',
  /** Pub/sub channel on which the worker announces the answer (src/contracts/reply.ts). */
  reply: 'reply',
  /** Epoch ms after which a worker answers CS_ERR_DEADLINE_EXCEEDED instead of running it. */
  deadline: 'deadline',
  /** In a pack (serde `pack`): how many requests `data` holds. */
  count: 'count',
} as const;

/** Values of the `serde` field. */
export const SERDE = {
  /** BigDL's JSON `{"instances": [...]}`. */
  bigdlJson: 'stream',
  /** Our binary tensor frame (src/protocol/tensor-frame.ts). */
  tensor: 'tensor',
  /**
   * Several requests in one entry, written by our Producer (the client and the frontend):
   * `uri` names the pack, `reply` is required and `data` is the requests one after another,
   * each `u8 form | u16 LE uri length | uri | f64 LE deadline (epoch ms) | u32 LE data length |
   * data`, form 0 BigDL Arrow, 1 BigDL JSON, 2 our tensor frame (src/contracts/request-pack.ts).
   * The worker answers them on `reply` alone, in one message (kind `pack`), and writes no
   * result hash: only the waiting producer reads these answers.
   */
  pack: 'pack',
} as const;

/**
 * Requests one pack holds at most (and at most the job's maxBatchSize, once its workers publish
 * it: a pack is then one worker batch); a producer starts a new pack past this or PACK_MAX_BYTES.
 */
export const PACK_MAX_REQUESTS = 256;
/** Bytes of request data one pack holds at most (a larger request travels alone in its pack). */
export const PACK_MAX_BYTES = 1024 * 1024;

/** A longer uri is not answered: its result key would be unbounded. */
export const MAX_URI_BYTES = 4096;
