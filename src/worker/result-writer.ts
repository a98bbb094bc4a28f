import type { ErrorCode } from '../errors/registry.js';
import { FAILED_VALUE, RESULT_FIELDS, type ResultForm } from '../contracts/result-hash.js';
import type { PostProcessing } from '../protocol/post-processing.js';
import { encodeBigdlResult } from '../protocol/bigdl-result.js';
import { postProcess } from '../protocol/post-processing.js';
import { encodeErrorPayload, encodeReply, type ReplyKind } from '../contracts/reply.js';
import { encodePackReply } from '../contracts/request-pack.js';
import { STREAM_FIELDS } from '../contracts/stream-entry.js';
import { encodeTensorFrame } from '../protocol/tensor-frame.js';
import type { NamedTensor } from '../protocol/tensor.js';
import { keys } from '../redis/keys.js';
import type { EntryAnswer } from './answer-script.js';
import type { RecordAddress } from './record-decoder.js';
import { requestCount } from './stream-entry.js';

export type Answer =
  | { readonly address: RecordAddress; readonly ok: true; readonly outputs: NamedTensor[] }
  | {
      readonly address: RecordAddress;
      readonly ok: false;
      readonly code: ErrorCode;
      readonly message: string;
    };

export interface WriteContext {
  readonly job: string;
  readonly postProcessing: PostProcessing;
  readonly resultTtlSeconds: number;
}

interface Encoded {
  readonly form: ResultForm;
  readonly value: Buffer | string;
  readonly reply: ReplyKind;
  readonly replyPayload: Uint8Array;
}

interface PackAnswers {
  readonly address: RecordAddress;
  readonly messages: Buffer[];
  readonly counters: string[];
}

/**
 * What each entry's answer writes: the result hash (fields for `value`, its form and, on
 * failure, the reason) and the reply, with the error counter of a failure. The requests of a
 * pack entry are answered together in one `pack` reply and no hash. `succeeded` says, in the
 * order of `answers`, which went out as a success (a result that cannot be encoded fails).
 */
export function encodeAnswers(
  answers: readonly Answer[],
  context: WriteContext,
): { entries: EntryAnswer[]; succeeded: boolean[] } {
  const writes: EntryAnswer[] = [];
  const succeeded: boolean[] = [];
  const packs = new Map<string, PackAnswers>();
  for (const answer of answers) {
    const { encoded, failure } = encodeAnswer(answer, context);
    succeeded.push(failure === undefined);
    const { reply, uri, entry } = answer.address;
    const counters = failure === undefined ? [] : [`errors:${failure.code}`];
    const message = reply === undefined ? undefined : encodeReply(uri, encoded.reply, encoded.replyPayload);
    if (answer.address.packed !== undefined && message !== undefined) {
      let pack = packs.get(entry.id);
      if (pack === undefined) {
        pack = { address: answer.address, messages: [], counters: [] };
        packs.set(entry.id, pack);
      }
      pack.messages.push(message);
      pack.counters.push(...counters);
      continue;
    }
    const fields: (string | Buffer)[] = [
      RESULT_FIELDS.value,
      encoded.value,
      RESULT_FIELDS.form,
      encoded.form,
    ];
    if (failure !== undefined) {
      fields.push(RESULT_FIELDS.error, failure.message, RESULT_FIELDS.code, failure.code);
    }
    // No DEL first: a record is only answered again after a crash between writing and
    // acknowledging, and then with the same outcome and fields.
    writes.push({
      id: entry.id,
      counters,
      answered: 1,
      extra: 0,
      hash: { key: keys.result(context.job, uri), fields },
      reply: reply === undefined || message === undefined ? undefined : { channel: reply, message },
    });
  }
  for (const [id, { address, messages, counters }] of packs) {
    const packUri = address.entry.fields.get(STREAM_FIELDS.uri)?.toString() ?? '';
    writes.push({
      id,
      counters,
      answered: messages.length,
      // What the producer added to the queue count for this entry, whatever its data held.
      extra: requestCount(address.entry) - 1,
      hash: undefined,
      reply: {
        channel: address.reply ?? '',
        message: encodeReply(packUri, 'pack', encodePackReply(messages)),
      },
    });
  }
  return { entries: writes, succeeded };
}

function encodeAnswer(
  answer: Answer,
  context: WriteContext,
): { encoded: Encoded; failure: { code: ErrorCode; message: string } | undefined } {
  if (!answer.ok) {
    return {
      encoded: encodeFailure(answer.code, answer.message),
      failure: { code: answer.code, message: answer.message },
    };
  }
  try {
    return {
      encoded: encodeOutputs(answer.address, answer.outputs, context.postProcessing),
      failure: undefined,
    };
  } catch (error) {
    const message = `the result could not be encoded: ${error instanceof Error ? error.message : String(error)}`;
    return {
      encoded: encodeFailure('CS_ERR_INFERENCE_FAILED', message),
      failure: { code: 'CS_ERR_INFERENCE_FAILED', message },
    };
  }
}

function encodeOutputs(address: RecordAddress, outputs: readonly NamedTensor[], pp: PostProcessing): Encoded {
  if (pp.kind !== 'none') {
    const text = postProcess(outputs, pp);
    return { form: 'text', value: text, reply: 'text', replyPayload: Buffer.from(text) };
  }
  if (address.form === 'tensor') {
    const frame = encodeTensorFrame(outputs);
    return { form: 'tensor', value: frame, reply: 'tensors', replyPayload: frame };
  }
  const arrow = encodeBigdlResult(outputs);
  return { form: 'bigdl', value: arrow, reply: 'bigdl', replyPayload: Buffer.from(arrow) };
}

function encodeFailure(code: ErrorCode, message: string): Encoded {
  return {
    form: 'error',
    value: FAILED_VALUE,
    reply: 'error',
    replyPayload: encodeErrorPayload(code, message),
  };
}
