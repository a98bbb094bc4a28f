import type { ErrorCode } from '../errors/registry.js';
import { FAILED_VALUE, RESULT_FIELDS, type ResultForm } from '../contracts/result-hash.js';
import type { PostProcessing } from '../protocol/post-processing.js';
import { encodeBigdlResult } from '../protocol/bigdl-result.js';
import { postProcess } from '../protocol/post-processing.js';
import { encodeErrorPayload, encodeReply, type ReplyKind } from '../protocol/reply.js';
import { encodeTensorFrame } from '../protocol/tensor-frame.js';
import type { NamedTensor } from '../protocol/tensor.js';
import { keys } from '../redis/keys.js';
import type { EntryAnswer } from './answer-script.js';
import type { RecordAddress } from './record-decoder.js';

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

/**
 * The result hash (fields for `value`, its form and, on failure, the reason) and the reply
 * of each answer, with the error counter of a failed one.
 */
export function encodeAnswers(answers: readonly Answer[], context: WriteContext): EntryAnswer[] {
  const writes: EntryAnswer[] = [];
  for (const answer of answers) {
    let encoded: Encoded;
    let failure: { code: ErrorCode; message: string } | undefined;
    if (answer.ok) {
      try {
        encoded = encodeOutputs(answer.address, answer.outputs, context.postProcessing);
      } catch (error) {
        const message = `the result could not be encoded: ${error instanceof Error ? error.message : String(error)}`;
        failure = { code: 'CS_ERR_INFERENCE_FAILED', message };
        encoded = encodeFailure(failure.code, message);
      }
    } else {
      failure = { code: answer.code, message: answer.message };
      encoded = encodeFailure(answer.code, answer.message);
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
    const { reply, uri } = answer.address;
    writes.push({
      id: answer.address.entry.id,
      counter: failure === undefined ? undefined : `errors:${failure.code}`,
      result: {
        key: keys.result(context.job, uri),
        fields,
        reply:
          reply === undefined
            ? undefined
            : { channel: reply, message: encodeReply(uri, encoded.reply, encoded.replyPayload) },
      },
    });
  }
  return writes;
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
