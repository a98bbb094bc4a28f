/**
 * The worker's inference thread: holds the ONNX session and runs it. A session.run blocks the
 * thread it runs on, so it runs here, and the worker's main thread keeps reading the stream,
 * decoding the next batch and writing answers meanwhile. Started by ModelRunner.
 */
import { parentPort } from 'node:worker_threads';
import type { InferenceReply, InferenceRequest } from '../contracts/inference-thread.js';
import { CsError, reasonOf } from '../errors/registry.js';
import { pinThisThread } from '../placement/affinity.js';
import { ModelSession } from './model-session.js';

const port = parentPort;
if (port === null) throw new Error('inference-thread.js runs as a worker thread');

let session: ModelSession | undefined;
/** Runs one after another in the order asked, each timed from its own start. */
let runs: Promise<void> = Promise.resolve();

function failure(id: number, error: unknown): InferenceReply {
  return {
    type: 'failed',
    id,
    code: error instanceof CsError ? error.code : 'CS_ERR_INFERENCE_FAILED',
    message: reasonOf(error),
  };
}

port.on('message', (request: InferenceRequest) => {
  if (request.type === 'load') {
    // Before the session starts onnxruntime's own threads, which take this thread's CPUs.
    const { cpus } = request.options;
    const placementProblem = cpus === undefined ? undefined : pinThisThread(cpus);
    ModelSession.load(request.options).then(
      (loaded) => {
        session = loaded;
        port.postMessage({
          type: 'loaded',
          metadata: loaded.metadata,
          ...(placementProblem === undefined ? {} : { placementProblem }),
        } satisfies InferenceReply);
      },
      (error: unknown) => port.postMessage(failure(-1, error)),
    );
  } else if (request.type === 'run') {
    const loaded = session;
    if (loaded === undefined) {
      port.postMessage(failure(request.id, new CsError('CS_ERR_INTERNAL', 'no model is loaded')));
      return;
    }
    const { id, inputs } = request;
    runs = runs.then(() =>
      loaded.run(inputs).then(
        ({ outputs, computeMs }) =>
          port.postMessage({ type: 'ran', id, outputs, computeMs } satisfies InferenceReply),
        (error: unknown) => port.postMessage(failure(id, error)),
      ),
    );
  } else {
    // After the runs already asked for.
    const released = runs.then(() => session?.release());
    void released.finally(() => port.postMessage({ type: 'released' } satisfies InferenceReply));
  }
});
