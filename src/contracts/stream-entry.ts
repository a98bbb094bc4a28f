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
  /** Pub/sub channel on which the worker announces the answer (src/protocol/reply.ts). */
  reply: 'reply',
  /** Epoch ms after which a worker answers CS_ERR_DEADLINE_EXCEEDED instead of running it. */
  deadline: 'deadline',
} as const;

/** Values of the `serde` field. */
export const SERDE = {
  /** BigDL's JSON `{"instances": [...]}`. */
  bigdlJson: 'stream',
  /** Our binary tensor frame (src/protocol/tensor-frame.ts). */
  tensor: 'tensor',
} as const;

/** A longer uri is not answered: its result key would be unbounded. */
export const MAX_URI_BYTES = 4096;
